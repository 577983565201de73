import Foundation
import Testing
@testable import GoRuntime

@Suite struct InternalTests {
    @Test func futexWordAtomics() {
        let w = FutexWord(7)
        #expect(w.load() == 7)
        #expect(w.compareExchange(expected: 7, desired: 9))
        #expect(!w.compareExchange(expected: 7, desired: 11))
        #expect(w.exchange(1) == 9)
        w.store(3)
        #expect(w.load() == 3)
    }

    @Test func futexWaitReturnsAtOnceWhenTheWordDiffers() {
        let w = FutexWord(1)
        let t0 = Machine.nanotime()
        w.wait(ifEquals: 0, timeoutNs: 5_000_000_000)
        #expect(Machine.nanotime() - t0 < 1_000_000_000)
    }

    @Test func futexWakeReleasesASleeper() async {
        let w = FutexWord(0)
        let done = FutexWord(0)
        let t = Thread {
            while w.load() == 0 { w.wait(ifEquals: 0) }
            done.store(1)
        }
        t.start()
        // The sleeper may not be asleep yet; the store makes it skip the
        // wait, the wake makes it leave the wait. Either way it finishes.
        try? await Task.sleep(nanoseconds: 10_000_000)
        w.store(1)
        w.wake(1)
        let deadline = Machine.nanotime() + 5_000_000_000
        while done.load() == 0 && Machine.nanotime() < deadline { Machine.osyield() }
        #expect(done.load() == 1)
    }

    @Test func machineFacts() {
        #expect(Machine.ncpu >= 1)
        let a = Machine.nanotime()
        Machine.procyield(30)
        #expect(Machine.nanotime() >= a)
        #expect(Machine.gettid() > 0)
    }

    @Test func goFatalExitsLikeGo() async {
        await #expect(processExitsWith: .exitCode(2)) {
            goFatal("test: deliberate")
        }
    }
}
