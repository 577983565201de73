// Benchmarks of the sync ports (GoRuntime/Sync): Go's sync.Mutex and
// sync.RWMutex, beside the locks a Swift user would pick instead
// (Synchronization.Mutex, pthread_mutex_t, pthread_rwlock_t), on the same
// workloads. The Go 1.19 reference is suites/go/sync_test.go, whose
// sub-benchmark names mirror the `mutex/...` and `rwmutex/...` names here.
//
// Workloads:
//   uncontended         one thread: lock, increment, unlock
//   contended           every thread: lock, increment, unlock (tiny section)
//   contended-work      every thread: lock, ~100 ns of xorshift on the
//                       protected word, unlock
//   read-mostly         every thread: 99 read sections (read the word) per
//                       write section (increment it). Go's twin runs its
//                       two workers as goroutines, and Go's scheduler runs
//                       them mostly one at a time: a reader that blocks on
//                       a pending writer is readied into the writer's
//                       runnext and both stay on one P. Measured 2026-12-04
//                       (AMD EPYC family 25 model 17, `gobench all
//                       --with-go`, count 10): ours 20.0 ns/op at
//                       parallelism 1.49 (cpu-ns/op 31.1) against Go's 5.18
//                       at 1.15 (5.97). The fast path is not the
//                       difference: the read section is one locked add
//                       each way in both (objdump), and callgrind counts
//                       20.1 instructions per op for ours (1,000
//                       iterations) and 15-30 for Go's (100,000 and
//                       300,000, GOGC=off GODEBUG=asyncpreemptoff=1). The
//                       profile is: of ours' CPU samples (one profiled
//                       repetition, 516 samples), 39% are futex syscalls
//                       and 23% the spin before a futex sleep in the
//                       semaphore's park (a writer waiting for a reader to
//                       leave, readers waiting for the writer), and 29%
//                       the two fast paths. Two OS threads running at once
//                       block on each other; Go's two goroutines mostly
//                       take turns on one P and block nothing. The
//                       like-for-like row is rwmutex/goroutine/read-mostly/
//                       procs=2 (GoroutineBenchmarks.swift), where our
//                       waits park goroutines too: 0.96 [0.92, 0.99] of
//                       Go's ns/op (count 20).
//   starvation          a hog re-locks at once after holding 20 us (for at
//                       most 250 ms); a victim sleeps 20 us between
//                       attempts; op = one victim acquisition, whose waits
//                       go into an HdrHistogram
//
// Our locks also report the slow-path event counters per op (SyncEvents).

import GoBenchKit
@_spi(Experiments) import GoRuntime
import Histogram
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The locks under test

/// A word guarded by a lock; `locked` runs `body` on it in the critical
/// section. Generic benchmark bodies specialize per lock.
protocol GuardedWord: AnyObject, Sendable {
    init()
    func locked<R>(_ body: (inout UInt64) -> R) -> R
}

/// Go's sync.Mutex port.
final class GoMutexWord: GuardedWord, @unchecked Sendable {
    let m: GoRuntime.Mutex
    var word: UInt64 = 1
    init() { m = GoRuntime.Mutex() }
    init(starvationMode: Bool) { m = GoRuntime.Mutex(starvationMode: starvationMode) }
    @inline(__always) func locked<R>(_ body: (inout UInt64) -> R) -> R {
        m.lock()
        defer { m.unlock() }
        return body(&word)
    }
}

/// Swift's Synchronization.Mutex (futex-based, on Linux).
final class SwiftMutexWord: GuardedWord, @unchecked Sendable {
    let m = Synchronization.Mutex<UInt64>(1)
    init() {}
    @inline(__always) func locked<R>(_ body: (inout UInt64) -> R) -> R {
        m.withLock { body(&$0) }
    }
}

/// glibc's pthread_mutex_t (default, non-recursive type).
final class PthreadMutexWord: GuardedWord, @unchecked Sendable {
    let m: UnsafeMutablePointer<pthread_mutex_t>
    var word: UInt64 = 1
    init() {
        m = .allocate(capacity: 1)
        pthread_mutex_init(m, nil)
    }
    deinit { pthread_mutex_destroy(m); m.deallocate() }
    @inline(__always) func locked<R>(_ body: (inout UInt64) -> R) -> R {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return body(&word)
    }
}

/// A word guarded by a reader/writer lock.
protocol RWGuardedWord: AnyObject, Sendable {
    init()
    func read() -> UInt64
    func write(_ body: (inout UInt64) -> Void)
}

final class GoRWMutexWord: RWGuardedWord, @unchecked Sendable {
    let rw = GoRuntime.RWMutex()
    var word: UInt64 = 1
    init() {}
    @inline(__always) func read() -> UInt64 { rw.rLock(); defer { rw.rUnlock() }; return word }
    @inline(__always) func write(_ body: (inout UInt64) -> Void) { rw.lock(); body(&word); rw.unlock() }
}

final class PthreadRWLockWord: RWGuardedWord, @unchecked Sendable {
    let rw: UnsafeMutablePointer<pthread_rwlock_t>
    var word: UInt64 = 1
    init() {
        rw = .allocate(capacity: 1)
        pthread_rwlock_init(rw, nil)
    }
    deinit { pthread_rwlock_destroy(rw); rw.deallocate() }
    @inline(__always) func read() -> UInt64 {
        pthread_rwlock_rdlock(rw); defer { pthread_rwlock_unlock(rw) }; return word
    }
    @inline(__always) func write(_ body: (inout UInt64) -> Void) {
        pthread_rwlock_wrlock(rw); body(&word); pthread_rwlock_unlock(rw)
    }
}

// MARK: - Workload pieces

/// Steps of xorshift64 in `contended-work`: a dependent chain of 6 ALU ops
/// per step, ~100 ns for 40 steps at 2.3 GHz (Go's file uses the same).
let syncCriticalWorkSteps = 40

@inline(__always)
func syncCriticalWork(_ x: inout UInt64) {
    var v = x
    for _ in 0..<syncCriticalWorkSteps {
        v ^= v << 13
        v ^= v >> 7
        v ^= v << 17
    }
    x = v
}

/// Busy-waits `ns` nanoseconds on the monotonic clock (stays on the CPU,
/// as a lock holder doing work would).
@inline(never)
func syncBusyFor(_ ns: Int64) {
    let end = Machine.nanotime() + ns
    while Machine.nanotime() < end {}
}

/// Starvation experiment: how long the hog holds the lock each time, how
/// long the victim sleeps between acquisitions (nanosleep; 70-150 us in
/// practice with the kernel's timer slack), and how long the hog keeps
/// going at most: a safety bound on a run whose victim starves (a normal
/// run is ~100 victim ops, 20-50 ms).
let starvationHoldNs: Int64 = 20_000
let starvationThinkNs: Int64 = 20_000
let starvationHogCapNs: Int64 = 250_000_000

/// Reports the sync event counters accumulated since `before`, per op.
func reportSyncEvents(_ run: RunContext, since before: SyncEvents) {
    let d = SyncEvents.snapshot() - before
    let n = Double(max(run.n, 1))
    run.report(Double(d[.mutexSlowPath]) / n, unit: "slow/op")
    run.report(Double(d[.spinIterations]) / n, unit: "spins/op")
    run.report(Double(d[.pauses]) / n, unit: "pauses/op")
    run.report(Double(d[.futexSleeps]) / n, unit: "sleeps/op")
    run.report(Double(d[.futexWakes]) / n, unit: "wakeups/op")
    run.report(Double(d[.handoffs]) / n, unit: "handoffs/op")
    run.report(Double(d[.starvationEnter]) / n, unit: "starvations/op")
}

// MARK: - Benchmark builders

func syncUncontended<L: GuardedWord>(_ name: String, _: L.Type, events: Bool, summary: String) -> Benchmark {
    Benchmark(name, summary: summary) { run in
        let l = L()
        let before = SyncEvents.snapshot()
        run.teardown {
            precondition(l.locked { $0 } == UInt64(run.n) + 1, "lost an increment")
            if events { reportSyncEvents(run, since: before) }
        }
        return { worker in
            for _ in 0..<worker.n { l.locked { $0 &+= 1 } }
        }
    }
}

func syncContended<L: GuardedWord>(_ name: String, _: L.Type, threads: Int, work: Bool,
                               events: Bool, summary: String) -> Benchmark {
    Benchmark(name, threads: threads, summary: summary, primaryMetrics: events ? ["spins/op", "sleeps/op"] : []) { run in
        let l = L()
        let before = SyncEvents.snapshot()
        run.teardown {
            if !work { precondition(l.locked { $0 } == UInt64(run.n) + 1, "lost an increment") }
            if events { reportSyncEvents(run, since: before) }
        }
        return { worker in
            if work {
                for _ in 0..<worker.n { l.locked { syncCriticalWork(&$0) } }
            } else {
                for _ in 0..<worker.n { l.locked { $0 &+= 1 } }
            }
        }
    }
}

func syncReadMostly<L: RWGuardedWord>(_ name: String, _: L.Type, threads: Int,
                                  events: Bool, summary: String) -> Benchmark {
    Benchmark(name, threads: threads, summary: summary, primaryMetrics: events ? ["spins/op", "sleeps/op"] : []) { run in
        let l = L()
        let before = SyncEvents.snapshot()
        run.teardown { if events { reportSyncEvents(run, since: before) } }
        return { worker in
            var sum: UInt64 = 0
            for i in 0..<worker.n {
                if i % 100 == 0 {
                    l.write { $0 &+= 1 }
                } else {
                    sum &+= l.read()
                }
            }
            blackHole(sum)
        }
    }
}

/// The starvation experiment (after Go's TestMutexFairness). One op is one
/// acquisition by the victim (worker 1), which sleeps `starvationThinkNs`
/// between attempts and does `run.n` of them. The hog (worker 0) holds the
/// lock `starvationHoldNs` at a time and re-locks at once, so the lock is
/// free only for a few nanoseconds at a time; it runs until the victim is
/// done or `starvationHogCapNs` has passed (the bound on a starved run).
/// The victim's acquisition waits go to a buffer preallocated in setup; the
/// HdrHistogram is built in teardown, untimed.
func syncStarvation<L: GuardedWord>(_ name: String, makeLock: @escaping @Sendable () -> L,
                                events: Bool, summary: String) -> Benchmark {
    Benchmark(name, threads: 2, summary: summary, primaryMetrics: events ? ["p99-wait-ns", "starvations/op"] : ["p99-wait-ns"]) { run in
        let l = makeLock()
        let waits = UnsafeMutableBufferPointer<Int64>.allocate(capacity: run.n)
        let victimDone = Atomic<Bool>(false)
        nonisolated(unsafe) let w = waits
        let before = SyncEvents.snapshot()
        run.teardown {
            var h = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
            for i in 0..<run.n { _ = h.record(UInt64(max(w[i], 0))) }
            w.deallocate()
            run.report(Double(h.valueAtPercentile(50)), unit: "p50-wait-ns", kind: .time)
            run.report(Double(h.valueAtPercentile(99)), unit: "p99-wait-ns", kind: .time)
            run.report(Double(h.valueAtPercentile(99.9)), unit: "p999-wait-ns", kind: .time)
            run.report(Double(h.max), unit: "max-wait-ns", kind: .time)
            if events { reportSyncEvents(run, since: before) }
        }
        return { worker in
            if worker.index == 0 {
                let stop = Machine.nanotime() + starvationHogCapNs
                while !victimDone.load(ordering: .relaxed) && Machine.nanotime() < stop {
                    l.locked { _ in syncBusyFor(starvationHoldNs) }
                }
            } else {
                var ts = timespec(tv_sec: 0, tv_nsec: Int(starvationThinkNs))
                for i in 0..<run.n {
                    nanosleep(&ts, nil)
                    let t0 = Machine.nanotime()
                    l.locked { $0 &+= 1 }
                    w[i] = Machine.nanotime() - t0
                }
                victimDone.store(true, ordering: .relaxed)
            }
        }
    }
}

// MARK: - The list

func syncBenchmarks() -> [Benchmark] {
    [
        // Go's sync.Mutex port.
        syncUncontended("mutex/uncontended", GoMutexWord.self, events: true,
                    summary: "sync.Mutex port: Lock+increment+Unlock on one thread (the one-CAS fast path)"),
        syncContended("mutex/contended/threads=2", GoMutexWord.self, threads: 2, work: false, events: true,
                  summary: "sync.Mutex port: 2 threads lock+increment+unlock one mutex"),
        syncContended("mutex/contended/threads=4", GoMutexWord.self, threads: 4, work: false, events: true,
                  summary: "sync.Mutex port: 4 threads on 2 vCPUs (spin policy under oversubscription)"),
        syncContended("mutex/contended-work/threads=2", GoMutexWord.self, threads: 2, work: true, events: true,
                  summary: "sync.Mutex port: 2 threads, ~100 ns of xorshift inside the lock"),
        syncStarvation("mutex/starvation/mode=on", makeLock: { GoMutexWord(starvationMode: true) }, events: true,
                   summary: "sync.Mutex port: hog holds 20 us and re-locks; op = victim acquisition; wait percentiles (Go's starvation mode)"),
        syncStarvation("mutex/starvation/mode=off", makeLock: { GoMutexWord(starvationMode: false) }, events: true,
                   summary: "sync.Mutex port with starvation mode switched off (experiment): victim wait percentiles"),
        syncReadMostly("rwmutex/read-mostly/threads=2", GoRWMutexWord.self, threads: 2, events: true,
                   summary: "sync.RWMutex port: 2 OS threads, 99 RLock/RUnlock per Lock/Unlock (Go's twin runs 2 goroutines, mostly one at a time: see rwmutex/goroutine/read-mostly/procs=2)"),

        // What a Swift user would pick instead.
        syncUncontended("alt/synchronization-mutex/uncontended", SwiftMutexWord.self, events: false,
                    summary: "Synchronization.Mutex withLock, one thread"),
        syncContended("alt/synchronization-mutex/contended/threads=2", SwiftMutexWord.self, threads: 2, work: false,
                  events: false, summary: "Synchronization.Mutex, 2 threads, tiny section"),
        syncContended("alt/synchronization-mutex/contended-work/threads=2", SwiftMutexWord.self, threads: 2, work: true,
                  events: false, summary: "Synchronization.Mutex, 2 threads, ~100 ns inside"),
        syncStarvation("alt/synchronization-mutex/starvation", makeLock: { SwiftMutexWord() }, events: false,
                   summary: "Synchronization.Mutex, starvation workload: victim wait percentiles"),
        syncUncontended("alt/pthread-mutex/uncontended", PthreadMutexWord.self, events: false,
                    summary: "pthread_mutex_t lock/unlock, one thread"),
        syncContended("alt/pthread-mutex/contended/threads=2", PthreadMutexWord.self, threads: 2, work: false,
                  events: false, summary: "pthread_mutex_t, 2 threads, tiny section"),
        syncContended("alt/pthread-mutex/contended-work/threads=2", PthreadMutexWord.self, threads: 2, work: true,
                  events: false, summary: "pthread_mutex_t, 2 threads, ~100 ns inside"),
        syncStarvation("alt/pthread-mutex/starvation", makeLock: { PthreadMutexWord() }, events: false,
                   summary: "pthread_mutex_t, starvation workload: victim wait percentiles"),
        syncReadMostly("alt/pthread-rwlock/read-mostly/threads=2", PthreadRWLockWord.self, threads: 2, events: false,
                   summary: "pthread_rwlock_t, 2 threads, 99 reads per write"),
    ]
}
