// Tests of the sync.Mutex port: mutual exclusion, tryLock, starvation mode
// entered and left (seen in the state word and the event counters), FIFO
// hand-off order in starvation mode, and the fatal misuse path.

import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable @_spi(Experiments) import GoRuntime

/// All sync suites run one test at a time: they count waiters in the shared
/// semaphore table and read process-wide event counters.
@Suite("sync ports", .serialized)
struct SyncTests {}

extension SyncTests {
@Suite("sync.Mutex port")
struct MutexPort {
    @Test("mutual exclusion: 4 threads x 20k increments of a plain counter")
    func mutualExclusion() {
        let m = Mutex()
        let counter = SyncBox(0)
        let threads = 4, perThread = 20_000
        let before = SyncEvents.snapshot()
        SyncTestThreads.run(threads) { _ in
            for _ in 0..<perThread {
                m.lock()
                counter.value += 1
                m.unlock()
            }
        }
        #expect(counter.value == threads * perThread)
        m.checkQuiescentInvariants()
        #expect(semaQueuedWaiters(m.sema) == 0)
        SemaTable.checkInvariants()
        let d = SyncEvents.snapshot() - before
        // Tests run one at a time, so only this test's threads counted:
        // every spin iteration is 30 PAUSE, and no waiter is woken twice.
        #expect(d[.pauses] == d[.spinIterations] * UInt64(activeSpinCount))
        #expect(d[.futexWakes] <= d[.semaReadies])
    }

    @Test("mutual exclusion with starvation mode switched off")
    func mutualExclusionNoStarvation() {
        let m = Mutex(starvationMode: false)
        let counter = SyncBox(0)
        SyncTestThreads.run(3) { _ in
            for _ in 0..<10_000 {
                m.lock()
                counter.value += 1
                m.unlock()
            }
        }
        #expect(counter.value == 30_000)
        m.checkQuiescentInvariants()
    }

    @Test("tryLock succeeds only on an unlocked mutex")
    func tryLockSemantics() {
        let m = Mutex()
        #expect(m.tryLock())
        #expect(!m.tryLock())
        let other = SyncBox(true)
        SyncTestThreads.run(1) { _ in other.value = m.tryLock() }
        #expect(other.value == false)
        m.unlock()
        SyncTestThreads.run(1) { _ in
            other.value = m.tryLock()
            if other.value { m.unlock() }
        }
        #expect(other.value == true)
        m.lock()
        #expect(!m.tryLock())
        m.unlock()
        m.checkQuiescentInvariants()
    }

    /// What the owner thread of a starvation scenario saw.
    struct StarvationScenario {
        var forced = false
        var starving = false, locked = false, waiters = 0
        var tryLockInStarvation = true
        var starvingAfter = true
        /// A waiter got the mutex before starvation mode was forced: the
        /// woken head waiter beat the owner's barging relock (a race the
        /// scenario cannot rule out, more frequent under TSan), so the
        /// counts below are not the scenario's.
        var waiterWonRace = false
    }

    /// `run` on fresh state until no waiter won the race with the barging
    /// owner, at most 5 times; returns the last attempt's values.
    private func untilOwnerBarges<T>(_ run: () -> (T, StarvationScenario)) -> (T, StarvationScenario) {
        var last = run()
        for _ in 1..<5 where last.1.waiterWonRace { last = run() }
        return last
    }

    /// Runs a starvation scenario on an owner thread pinned to one CPU,
    /// with `waiters` threads pinned to another (so that waking a waiter
    /// never preempts the owner on its own CPU). The owner holds `m`, lets
    /// the waiters queue one after another (each really queued on the
    /// semaphore before the next starts), waits past the 1 ms threshold,
    /// then unlocks and immediately relocks, barging past the woken head
    /// waiter, which then finds the mutex locked after waiting > 1 ms and
    /// switches it to starvation mode. The owner records the state, unlocks
    /// (handing off), and joins the waiters.
    private func runStarvationScenario(_ m: Mutex, waiters: Int,
                                       body: @escaping @Sendable (Int) -> Void) -> StarvationScenario {
        let result = SyncBox(StarvationScenario())
        let finished = TestCounter()  // waiter bodies completed
        let cpus = SyncTestThreads.allowedCPUs()
        let owner = SyncTestThreads.spawn {
            if cpus.count >= 2 { SyncTestThreads.pin(to: cpus[0]) }
            m.lock()
            var threads: [pthread_t] = []
            for i in 0..<waiters {
                threads.append(SyncTestThreads.spawn {
                    if cpus.count >= 2 { SyncTestThreads.pin(to: cpus[1]) }
                    body(i)
                    finished.increment()
                })
                _ = SyncTestThreads.waitUntil { semaQueuedWaiters(m.sema) == i + 1 }
            }
            for _ in 0..<10 where !result.value.forced {
                SyncTestThreads.sleepMs(3)          // every waiter now waited > 1 ms
                m.unlock()                          // wakes the head waiter...
                m.lock()                            // ...and barges past it
                result.value.forced = SyncTestThreads.waitUntil(seconds: 0.5) { m.stateForTesting.starving }
            }
            result.value.waiterWonRace = finished.value > 0
            let s = m.stateForTesting
            result.value.starving = s.starving
            result.value.locked = s.locked
            result.value.waiters = s.waiters
            result.value.tryLockInStarvation = m.tryLock()
            m.unlock()                              // hands ownership to the head waiter
            threads.forEach(SyncTestThreads.join)
            result.value.starvingAfter = m.stateForTesting.starving
        }
        SyncTestThreads.join(owner)
        return result.value
    }

    @Test("a waiter that waited > 1 ms enters starvation mode; the last waiter leaves it")
    func starvationEnterAndLeave() {
        let ((m, before, acquired), r) = untilOwnerBarges {
            let m = Mutex()
            let before = SyncEvents.snapshot()
            let acquired = SyncBox(0)
            let r = runStarvationScenario(m, waiters: 1) { _ in
                m.lock(); acquired.value += 1; m.unlock()
            }
            return ((m, before, acquired), r)
        }
        #expect(!r.waiterWonRace, "the woken waiter beat the barging owner in 5 attempts")
        #expect(r.forced, "could not force starvation mode")
        #expect(r.starving && r.locked && r.waiters == 1)
        #expect(!r.tryLockInStarvation, "tryLock must fail in starvation mode")
        #expect(acquired.value == 1)
        #expect(!r.starvingAfter, "the last waiter leaves starvation mode")
        m.checkQuiescentInvariants()
        let d = SyncEvents.snapshot() - before
        #expect(d[.starvationEnter] >= 1)
        #expect(d[.starvationExit] >= 1)
        #expect(d[.handoffs] >= 1)
        #expect(d[.semaLifoQueued] >= 1, "the woken waiter re-queued at the head")
    }

    @Test("starvation mode hands the mutex to waiters in FIFO order")
    func starvationFIFOHandoff() {
        let n = 4
        let ((m, order, before), r) = untilOwnerBarges {
            let m = Mutex()
            let order = SyncBox([Int]())
            let before = SyncEvents.snapshot()
            let r = runStarvationScenario(m, waiters: n) { i in
                m.lock(); order.value.append(i); m.unlock()
            }
            return ((m, order, before), r)
        }
        #expect(!r.waiterWonRace, "the woken waiter beat the barging owner in 5 attempts")
        #expect(r.forced, "could not force starvation mode")
        #expect(r.starving && r.waiters == n)
        #expect(order.value == Array(0..<n))
        #expect(!r.starvingAfter)
        m.checkQuiescentInvariants()
        #expect(semaQueuedWaiters(m.sema) == 0)
        SemaTable.checkInvariants()
        let d = SyncEvents.snapshot() - before
        #expect(d[.handoffs] >= UInt64(n))
        #expect(d[.starvationExit] >= 1)
    }

    @Test("with starvation mode off, the same scenario never sets mutexStarving")
    func starvationSwitchOff() {
        let m = Mutex(starvationMode: false)
        let done = SyncBox(false)
        m.lock()
        let t = SyncTestThreads.spawn { m.lock(); done.value = true; m.unlock() }
        #expect(SyncTestThreads.waitUntil { semaQueuedWaiters(m.sema) == 1 })
        for _ in 0..<3 {
            SyncTestThreads.sleepMs(3)
            m.unlock()
            m.lock()
            SyncTestThreads.sleepMs(1)
            #expect(!m.stateForTesting.starving)
        }
        m.unlock()
        SyncTestThreads.join(t)
        #expect(done.value)
        m.checkQuiescentInvariants()
    }

    @Test("unlock of an unlocked mutex is fatal, with Go's message")
    func unlockOfUnlockedIsFatal() async {
        let result = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let m = Mutex()
            m.unlock()
        }
        expectStderr(of: result, contains: "fatal error: sync: unlock of unlocked mutex")
    }

    @Test("double unlock is fatal")
    func doubleUnlockIsFatal() async {
        await #expect(processExitsWith: .exitCode(2)) {
            let m = Mutex()
            m.lock()
            m.unlock()
            m.unlock()
        }
    }
}
}
