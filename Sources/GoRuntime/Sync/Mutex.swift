// Port of sync/mutex.go (Go 1.19): a mutual exclusion lock with spinning,
// barging, and starvation mode, over the semaphore of Sema.swift.
//
// State word (`state`, Int32), exactly Go's:
//   bit 0  mutexLocked    the mutex is held
//   bit 1  mutexWoken     a waiter has been woken (or a spinner announced
//                         itself) and will try for the lock: unlock need not
//                         wake another
//   bit 2  mutexStarving  starvation mode (see `starvationThresholdNs`)
//   bits 3...             number of waiters blocked on `sema`
//
// Fast paths: `lock` is one CAS 0 -> mutexLocked; `unlock` is one atomic
// add of -mutexLocked whose result is 0 when nobody waits. Everything else
// is in the outlined `lockSlow` / `unlockSlow` (Mutex+Slow.swift).
//
// Invariants (checked by `checkInvariants` when the mutex is quiescent, as
// tests call it):
//   - mutexStarving set implies waiters > 0 or the lock is held by a waiter
//     that was handed ownership;
//   - with no thread inside lock/unlock: woken is clear and the waiter count
//     is zero.
//
// Differences from Go: the `sema` word lives in 64-byte aligned C memory
// because the semaphore table is keyed by its address, which must not move;
// the state lives in the object as a `Synchronization.Atomic`. Race-detector
// annotations are omitted (TSan sees the atomics directly).

import Synchronization

// The state bits are computed, inlinable constants rather than global
// `let`s: a fast path inlined into another module would otherwise call a
// global's lazy-initialization accessor on every lock.

/// `mutexLocked`: the mutex is held.
@inlinable var mutexLocked: Int32 { 1 << 0 }
/// `mutexWoken`: a woken waiter or a spinner is about to compete; unlock
/// must not wake another.
@inlinable var mutexWoken: Int32 { 1 << 1 }
/// `mutexStarving`: starvation mode; ownership passes by hand-off.
@inlinable var mutexStarving: Int32 { 1 << 2 }
/// `mutexWaiterShift`: the waiter count starts at this bit.
@inlinable var mutexWaiterShift: Int32 { 3 }

/// `starvationThresholdNs` (1 ms), and Go's essay on mutex fairness:
///
/// Mutex can be in 2 modes of operations: normal and starvation.
/// In normal mode waiters are queued in FIFO order, but a woken up waiter
/// does not own the mutex and competes with new arriving threads over the
/// ownership. New arriving threads have an advantage — they are already
/// running on a CPU and there can be lots of them — so a woken up waiter has
/// good chances of losing. In such case it is queued at the front of the
/// wait queue. If a waiter fails to acquire the mutex for more than 1 ms,
/// it switches the mutex to the starvation mode.
///
/// In starvation mode ownership of the mutex is directly handed off from
/// the unlocking thread to the waiter at the front of the queue. New
/// arriving threads don't try to acquire the mutex even if it appears to be
/// unlocked, and don't try to spin. Instead they queue themselves at the
/// tail of the wait queue.
///
/// If a waiter receives ownership of the mutex and sees that either (1) it
/// is the last waiter in the queue, or (2) it waited for less than 1 ms, it
/// switches the mutex back to normal operation mode.
///
/// Normal mode has considerably better performance as a thread can acquire
/// a mutex several times in a row even if there are blocked waiters.
/// Starvation mode is important to prevent pathological cases of tail
/// latency.
@inlinable var starvationThresholdNs: Int64 { 1_000_000 }

/// A mutual exclusion lock: Go's `sync.Mutex`.
///
/// Not reentrant, not owned: any thread may unlock a locked mutex (as in
/// Go). Unlocking an unlocked mutex stops the process with
/// `fatal error: sync: unlock of unlocked mutex`.
public final class Mutex: @unchecked Sendable {
    /// Go's `state`: locked, woken, starving bits and the waiter count.
    @usableFromInline let state = Atomic<Int32>(0)

    /// Go's `sema`: the semaphore waiters block on; its address keys the
    /// semaphore table. Owned; freed in deinit.
    @usableFromInline let sema: UnsafeMutablePointer<UInt32>

    /// Whether a waiter may switch the mutex to starvation mode. Always true
    /// for `init()`; false only for the starvation experiment.
    @usableFromInline let starvationModeEnabled: Bool

    /// An unlocked mutex.
    public convenience init() { self.init(starvationMode: true) }

    /// A mutex whose starvation mode can be switched off, for the benchmark
    /// that measures what starvation mode buys. Not Go behaviour when false.
    @_spi(Experiments)
    public init(starvationMode: Bool) {
        sema = syncAllocAligned(8).assumingMemoryBound(to: UInt32.self)
        starvationModeEnabled = starvationMode
    }

    deinit { syncFreeAligned(UnsafeMutableRawPointer(sema)) }

    /// Locks the mutex, blocking until it is available.
    @inlinable
    public func lock() {
        // Fast path: grab unlocked mutex.
        if state.compareExchange(expected: 0, desired: mutexLocked,
                                 ordering: .acquiringAndReleasing).exchanged {
            return
        }
        // Slow path (outlined so that the fast path can be inlined).
        lockSlow()
    }

    /// Tries to lock the mutex without blocking; true on success.
    /// Fails in starvation mode even if the mutex is momentarily free: the
    /// next owner is the head waiter.
    @inlinable
    public func tryLock() -> Bool {
        let old = state.load(ordering: .relaxed)
        if old & (mutexLocked | mutexStarving) != 0 { return false }
        // There may be a thread waiting for the mutex, but we are running
        // now and can try to grab the mutex before that thread wakes up.
        return state.compareExchange(expected: old, desired: old | mutexLocked,
                                     ordering: .acquiringAndReleasing).exchanged
    }

    /// Unlocks the mutex. It is a fatal error if it is not locked.
    @inlinable
    public func unlock() {
        // Fast path: drop lock bit.
        let new = state.wrappingAdd(-mutexLocked, ordering: .acquiringAndReleasing).newValue
        if new != 0 {
            // Outlined slow path to allow inlining the fast path.
            unlockSlow(new)
        }
    }

    /// The raw state word, for tests and diagnostics (a relaxed load).
    public var stateForTesting: (locked: Bool, woken: Bool, starving: Bool, waiters: Int) {
        let s = state.load(ordering: .relaxed)
        return (s & mutexLocked != 0, s & mutexWoken != 0, s & mutexStarving != 0,
                Int(s >> mutexWaiterShift))
    }

    /// Checks the invariants that hold when no thread is inside lock or
    /// unlock and nobody waits: no woken bit, no starvation, no waiters,
    /// semaphore counter zero.
    public func checkQuiescentInvariants() {
        let s = state.load(ordering: .sequentiallyConsistent)
        precondition(s & mutexWoken == 0, "quiescent mutex has the woken bit")
        precondition(s & mutexStarving == 0, "quiescent mutex is starving")
        precondition(s >> mutexWaiterShift == 0, "quiescent mutex has waiters")
        precondition(UnsafeAtomic32(sema).load() == 0, "quiescent mutex has an unconsumed semaphore unit")
    }
}
