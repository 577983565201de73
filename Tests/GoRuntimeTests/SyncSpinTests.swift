// Tests of the spin policy (Spin.swift) and of the per-thread event
// counters (SyncThread.swift).

import Testing
@testable import GoRuntime

extension SyncTests {
@Suite("spin policy and event counters")
struct SpinAndEvents {
    @Test("canSpin: at most activeSpin iterations, only with a CPU left for the holder")
    func canSpinPolicy() {
        #expect(activeSpin == 4 && activeSpinCount == 30 && passiveSpin == 1)
        #expect(!canSpin(activeSpin, spinning: false))
        guard Machine.ncpu > 1 else {
            #expect(!canSpin(0, spinning: false), "never spin on one CPU")
            return
        }
        #expect(canSpin(0, spinning: false))
        #expect(canSpin(activeSpin - 1, spinning: false))
        // Other spinners occupy every CPU but one: no spinning for a new
        // thread, but a registered spinner does not count itself.
        var phase = SpinPhase()
        phase.enter()
        spinningThreads.add(Machine.ncpu - 2, ordering: .relaxed)
        #expect(!canSpin(0, spinning: false))
        #expect(canSpin(0, spinning: true))
        spinningThreads.subtract(Machine.ncpu - 2, ordering: .relaxed)
        phase.leave()
        #expect(canSpin(0, spinning: false))
    }

    @Test("counters are per thread, survive thread exit, and records are reused")
    func countersSurviveThreads() {
        let before = SyncEvents.snapshot()
        let recordsBefore = SyncThread.recordCount
        for _ in 0..<8 {
            SyncTestThreads.run(1) { _ in countSyncEvent(.runtimeLockSleeps, 5) }
        }
        let d = SyncEvents.snapshot() - before
        #expect(d[.runtimeLockSleeps] >= 40)
        // Eight threads one after another: each reuses an exited thread's
        // record instead of adding one.
        #expect(SyncThread.recordCount - recordsBefore < 8)
    }
}
}
