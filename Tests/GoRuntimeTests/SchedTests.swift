// Tests of the goroutine scheduler (GoRuntime/Sched): goroutines park
// instead of threads (a maxprocs-1 ping-pong), exact results with many
// goroutines on two Ps, Mutex and WaitGroup on goroutines, repeated runs,
// the exclusivity decision, and the fatal paths as exit tests.
//
// They sit inside the serialized "sync ports" suite: a run is global (one
// scheduler per process), and the sync tests read process-wide counters
// that goroutine mutexes would add to.

import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import GoRuntime

/// A value shared between goroutines; access is ordered by the channel,
/// lock or WaitGroup the test exercises.
final class GoBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

extension SyncTests {
@Suite("goroutine scheduler")
struct Sched {
    @Test("maxprocs 1: two goroutines ping-pong 100,000 times through unbuffered channels")
    func pingPongOneP() {
        let rounds = 100_000
        let c1 = Channel<Int>(), c2 = Channel<Int>()
        let sum = GoBox(0)
        Go.run(maxprocs: 1) {
            go {
                for _ in 0..<rounds {
                    let v = c1.receive()!
                    try! c2.send(v + 1)
                }
            }
            var s = 0
            for i in 0..<rounds {
                try! c1.send(i)
                s &+= c2.receive()!
            }
            sum.value = s
        }
        #expect(sum.value == (0..<rounds).reduce(0) { $0 + $1 + 1 })
        let st = Go.statistics
        #expect(st.goroutinesCreated == 2)
        // One P, no other M: every park switched goroutines on one thread.
        #expect(st.threads == 0)
        #expect(st.parks >= rounds)
        #expect(Go.numGoroutine == 0)
    }

    @Test("maxprocs 2: 10,000 goroutines each send their index; exact sum")
    func tenThousandGoroutines() {
        let n = 10_000
        let c = Channel<Int>(capacity: 16)
        let total = GoBox(0)
        Go.run(maxprocs: 2) {
            for i in 0..<n {
                go { try! c.send(i) }
            }
            var s = 0
            for _ in 0..<n { s += c.receive()! }
            total.value = s
        }
        #expect(total.value == n * (n - 1) / 2)
        #expect(Go.statistics.goroutinesCreated == n + 1)
        #expect(Go.numGoroutine == 0)
    }

    @Test("100 goroutines x 1,000 Mutex-protected increments, waited for by a WaitGroup", arguments: [1, 2])
    func mutexIncrements(procs: Int) {
        let m = Mutex()
        let counter = GoBox(0)
        Go.run(maxprocs: procs) {
            let wg = WaitGroup()
            for _ in 0..<100 {
                wg.add(1)
                go {
                    for k in 0..<1_000 {
                        m.lock()
                        counter.value += 1
                        // Yield inside the critical section now and then,
                        // so that others block on the mutex and park.
                        if k % 100 == 0 { Go.yield() }
                        m.unlock()
                    }
                    wg.done()
                }
            }
            wg.wait()
            #expect(counter.value == 100_000)
        }
        #expect(counter.value == 100_000)
        m.checkQuiescentInvariants()
        #expect(semaQueuedWaiters(m.sema) == 0)
        #expect(Go.statistics.parks > 0)
    }

    @Test("Go.yield alternates two goroutines at maxprocs 1; Go.run can be called again")
    func yieldAndRerun() {
        for run in 0..<3 {
            let log = GoBox([Int]())
            Go.run(maxprocs: 1) {
                go { for i in 0..<3 { log.value.append(2 * i + 1); Go.yield() } }
                Go.yield()  // let the new goroutine (in runnext) start
                for i in 1..<3 { log.value.append(2 * i); Go.yield() }
            }
            // Each yield hands the P to the other goroutine (through the
            // global queue), so until one of them finishes they alternate.
            #expect(log.value.sorted() == [1, 2, 3, 4, 5], "run \(run)")
            let parities = log.value.prefix(4).map { $0 % 2 }
            #expect(zip(parities, parities.dropFirst()).allSatisfy { $0 != $1 }, "run \(run): \(log.value)")
            #expect(Go.statistics.yields >= 5)
        }
    }

    @Test("numGoroutine counts main and live goroutines")
    func numGoroutine() {
        let seen = GoBox([Int]())
        Go.run(maxprocs: 1) {
            seen.value.append(Go.numGoroutine)
            let c = Channel<Int>()
            for _ in 0..<3 { go { _ = c.receive() } }
            Go.yield()
            seen.value.append(Go.numGoroutine)
            try! c.close()
        }
        #expect(seen.value == [1, 4])
        #expect(Go.numGoroutine == 0)
    }

    @Test("select without default parks the goroutine")
    func selectParks() {
        let a = Channel<Int>(), b = Channel<Int>()
        let got = GoBox([Int]())
        Go.run(maxprocs: 1) {
            go { try! b.send(7) }
            go { try! a.send(3) }
            for _ in 0..<2 {
                _ = try! select {
                    $0.receive(a) { v in got.value.append(v!) }
                    $0.receive(b) { v in got.value.append(v!) }
                }
            }
        }
        #expect(got.value.sorted() == [3, 7])
    }

    @Test("a plain thread readies a parked goroutine, and a goroutine a parked thread")
    func plainThreadWakes() {
        let toG = Channel<Int>(), toThread = Channel<Int>()
        let got = GoBox(0), back = GoBox(0)
        let flag = FutexWord(0)
        // The thread sends while the receiving goroutine is parked, then
        // waits (parked as a thread) for the goroutine's answer.
        let t = SyncTestThreads.spawn {
            while flag.load() == 0 { usleep(100) }
            try! toG.send(42)
            back.value = toThread.receive()!
        }
        Go.run(maxprocs: 1) {
            // A second goroutine keeps the M busy (so that checkdead does
            // not fire: every goroutine waiting on a thread with all Ms
            // idle looks like a deadlock) until both hand-offs are done.
            let sent = FutexWord(0)
            go { while sent.load() == 0 { Go.yield() } }
            flag.store(1)
            got.value = toG.receive()!
            try! toThread.send(got.value + 1)
            sent.store(1)
        }
        SyncTestThreads.join(t)
        #expect(got.value == 42)
        #expect(back.value == 43)
    }

    @Test("WaitGroup on plain threads keeps the thread path")
    func waitGroupThreads() {
        let wg = WaitGroup()
        let m = Mutex()
        let n = GoBox(0)
        wg.add(4)
        let ts = (0..<4).map { _ in SyncTestThreads.spawn { m.lock(); n.value += 1; m.unlock(); wg.done() } }
        wg.wait()
        #expect(n.value == 4)
        ts.forEach(SyncTestThreads.join)
    }

    @Test("steal: 1,000 goroutines spawned on one P are spread over 2 Ps")
    func stealing() {
        let wg = WaitGroup()
        let sum = GoBox(0)
        let m = Mutex()
        Go.run(maxprocs: 2) {
            for i in 0..<1_000 {
                wg.add(1)
                go {
                    var x = 0
                    for k in 0..<2_000 { x &+= k ^ i }
                    m.lock(); sum.value &+= x; m.unlock()
                    wg.done()
                }
            }
            wg.wait()
        }
        var expect = 0
        for i in 0..<1_000 { var x = 0; for k in 0..<2_000 { x &+= k ^ i }; expect &+= x }
        #expect(sum.value == expect)
        #expect(Go.statistics.threads >= 1)
    }

    @Test("unwinding a goroutine stack ends at the entry trampoline (what the SIGPROF sampler sees)")
    func unwindEndsAtEntry() {
        let frames = GoBox([UInt]())
        Go.run(maxprocs: 1) {
            go { frames.value = schedBacktrace() }
        }
        let t = schedTrampolineAddress()
        #expect(frames.value.count > 2 && frames.value.count < 256)
        // The outermost frame is the trampoline's call (its return address
        // lies just past the call, inside the trampoline's few bytes).
        let last = frames.value.last ?? 0
        #expect(last > t && last < t + 32, "outermost frame \(String(last, radix: 16)) vs trampoline \(String(t, radix: 16))")
    }

    // MARK: Fatal paths

    @Test("deadlock: every goroutine asleep is fatal")
    func deadlock() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            Go.run(maxprocs: 1) {
                let c = Channel<Int>()
                _ = c.receive()
            }
        }
        #expect(stderrText(r).contains("fatal error: all goroutines are asleep - deadlock!"))
    }

    @Test("deadlock at maxprocs 2 with several goroutines")
    func deadlockTwoProcs() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            Go.run(maxprocs: 2) {
                let c = Channel<Int>()
                for _ in 0..<4 { go { _ = c.receive() } }
                let wg = WaitGroup()
                wg.add(1)
                wg.wait()
            }
        }
        #expect(stderrText(r).contains("fatal error: all goroutines are asleep - deadlock!"))
    }

    @Test("negative WaitGroup counter panics")
    func negativeWaitGroup() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let wg = WaitGroup()
            wg.add(1)
            wg.done()
            wg.done()
        }
        #expect(stderrText(r).contains("panic: sync: negative WaitGroup counter"))
    }

    @Test("go statement outside Go.run is fatal")
    func goOutsideRun() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            go {}
        }
        #expect(stderrText(r).contains("fatal error: go statement outside Go.run"))
    }
}
}

/// The standard error an exit test observed, as text.
func stderrText(_ r: ExitTest.Result?) -> String {
    guard let r else { return "" }
    return String(decoding: r.standardErrorContent, as: UTF8.self)
}
