// The per-thread side of the sync ports: each OS thread's event counters and
// its sudog, both in one record kept by the C shim (CGoRuntimeSync.h). This
// is the only Sync file that imports CGoRuntime.
//
// Event counters answer "what did the slow paths do per operation" without
// adding contention: every counter lives in the record of the thread that
// increments it, written only by that thread (a relaxed load and a relaxed
// store, no locked instruction), and only on slow paths — the mutex fast
// path (one CAS) never touches them. A snapshot sums every record ever
// created with relaxed loads; records outlive their threads, so sums only
// grow and `SyncEvents.snapshot()` differences are exact once the measured
// threads have finished.
//
// Invariants:
//   - a counter slot is written only by the thread owning the record;
//   - a sudog belongs to the thread owning the record, and that thread is
//     queued on at most one semaphore at a time (it is blocked while queued).

import CGoRuntime
import Synchronization

/// Slow-path events of the sync ports, counted per thread.
///
/// The raw values are indices into a record's counter slots.
public enum SyncEvent: Int, CaseIterable, Sendable {
    /// `Mutex.lockSlow` entries (the fast-path CAS failed).
    case mutexSlowPath = 0
    /// `runtime_doSpin` calls: active spin iterations in `lockSlow`.
    case spinIterations
    /// PAUSE instructions executed by those spins (`activeSpinCount` each).
    case pauses
    /// Futex sleeps of a parked waiter (a thread really went to sleep).
    case futexSleeps
    /// Futex wake-ups issued to a sleeping waiter.
    case futexWakes
    /// Waiters readied by `semrelease` (whether or not they had slept).
    case semaReadies
    /// Waiters queued by `semacquire` (FIFO).
    case semaQueued
    /// Waiters re-queued at the head (LIFO) after losing a race when woken.
    case semaLifoQueued
    /// Transitions of a mutex into starvation mode.
    case starvationEnter
    /// Transitions out of starvation mode.
    case starvationExit
    /// Direct hand-offs: `semrelease(handoff: true)` gave its unit to the
    /// dequeued waiter.
    case handoffs
    /// Sleeps in the semaphore table's runtime lock (lock_futex.go).
    case runtimeLockSleeps
}

/// A snapshot of all threads' slow-path event counts.
public struct SyncEvents: Sendable, Equatable {
    public var counts: [UInt64]

    public init(counts: [UInt64] = Array(repeating: 0, count: SyncEvent.allCases.count)) {
        self.counts = counts
    }

    /// Sums every thread's counters (threads that exited included).
    public static func snapshot() -> SyncEvents {
        var out = [UInt64](repeating: 0, count: SyncEvent.allCases.count)
        out.withUnsafeMutableBufferPointer { buf in
            cgort_sync_sum_counters(buf.baseAddress, Int32(buf.count))
        }
        return SyncEvents(counts: out)
    }

    public subscript(_ e: SyncEvent) -> UInt64 { counts[e.rawValue] }

    public static func - (a: SyncEvents, b: SyncEvents) -> SyncEvents {
        SyncEvents(counts: zip(a.counts, b.counts).map { $0 &- $1 })
    }
}

/// The calling thread's record: its counters and its sudog.
@usableFromInline
struct SyncThread {
    @usableFromInline let base: UnsafeMutableRawPointer

    /// The calling thread's record (one C call; a TLS read after the first).
    @inline(__always) @usableFromInline
    static var current: SyncThread { SyncThread(base: cgort_sync_thread_record()) }

    @inline(__always) @usableFromInline
    init(base: UnsafeMutableRawPointer) { self.base = base }

    /// Adds `delta` to this thread's counter for `e`. Single writer: a
    /// relaxed load and store suffice and readers see whole values.
    @inline(__always) @usableFromInline
    func count(_ e: SyncEvent, _ delta: UInt64 = 1) {
        let slot = (base + e.rawValue &* 8).assumingMemoryBound(to: Atomic<UInt64>.self)
        slot.pointee.store(slot.pointee.load(ordering: .relaxed) &+ delta, ordering: .relaxed)
    }

    /// This thread's sudog, after the counter slots.
    @inline(__always) @usableFromInline
    var sudog: UnsafeMutablePointer<SemaSudog> {
        (base + Int(CGORT_SYNC_COUNTERS) * 8).assumingMemoryBound(to: SemaSudog.self)
    }

    /// Records created so far (bounded by the peak number of live threads
    /// that ever took a slow path).
    static var recordCount: Int { Int(cgort_sync_record_count()) }
}

/// Counts `e` on the calling thread's record. For paths that do not
/// otherwise hold the record.
@inline(__always) @usableFromInline
func countSyncEvent(_ e: SyncEvent, _ delta: UInt64 = 1) {
    SyncThread.current.count(e, delta)
}

/// Futex calls on raw words (semaphore park words, runtime-lock keys); the
/// runtime's futexsleep/futexwakeup (runtime/os_linux.go).
@usableFromInline
enum FutexOps {
    /// Sleep while `*word == value`; returns on wake, signal, mismatch or
    /// spuriously. Callers re-check their condition.
    @inline(__always) @usableFromInline
    static func wait(_ word: UnsafeMutablePointer<UInt32>, ifEquals value: UInt32) {
        _ = cgort_futex_wait(word, value, -1)
    }

    /// Wake at most `count` sleepers on `word`.
    @inline(__always) @usableFromInline
    static func wake(_ word: UnsafeMutablePointer<UInt32>, _ count: Int32) {
        _ = cgort_futex_wake(word, count)
    }
}

/// Zeroed, 64-byte aligned memory that never moves (semaphore words, the
/// semaphore table). Freed with `syncFreeAligned`.
func syncAllocAligned(_ size: Int) -> UnsafeMutableRawPointer {
    cgort_alloc_aligned(UInt64(size))
}

func syncFreeAligned(_ p: UnsafeMutableRawPointer) {
    cgort_free_aligned(p)
}

/// CPU affinity, for tests that must keep a waking thread and the thread it
/// wakes on different CPUs (so the kernel's wake-up preemption cannot run
/// the wakee before the waker's next instruction).
enum SyncAffinity {
    /// CPUs this process may run on.
    static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 256)
        let n = cpus.withUnsafeMutableBufferPointer { cgort_sync_allowed_cpus($0.baseAddress, 256) }
        return cpus.prefix(Int(n)).map(Int.init)
    }

    /// Pins the calling thread to `cpu`.
    static func pinCurrentThread(to cpu: Int) {
        _ = cgort_sync_pin_thread(Int32(cpu))
    }
}
