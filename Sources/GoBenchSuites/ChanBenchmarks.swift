// Channel benchmarks: the shapes Go users measure (runtime/chan_test.go's
// ping-pong, producer/consumer, select), mirrored one to one by
// suites/go/chan_test.go (BenchmarkChan/...). Slow-path events (parks,
// sleeps, hand-offs, spins) are reported per op from ChannelEvents.

import GoBenchKit
import GoRuntime
import Synchronization

/// Reports the channel events of this run, per op.
private func reportChannelEvents(_ run: RunContext, since before: ChannelEvents) {
    let d = ChannelEvents.snapshot() - before
    let n = Double(max(run.n, 1))
    run.report(Double(d.parks) / n, unit: "parks/op")
    run.report(Double(d.sleeps) / n, unit: "sleeps/op")
    run.report(Double(d.handoffs) / n, unit: "handoffs/op")
    run.report(Double(d.spinRounds) / n, unit: "spins/op")
    run.report(Double(d.futexWakes) / n, unit: "futex-wakes/op")
}

/// Two threads, each running `run.n` iterations of its own side (not a
/// share of n: both sides of a hand-off must do the same count).
private func twoSided(
    _ name: String, summary: String,
    _ make: @escaping @Sendable (RunContext) -> (@Sendable (Int) -> Void, @Sendable (Int) -> Void)
) -> Benchmark {
    Benchmark(name, threads: 2, summary: summary, primaryMetrics: ["parks/op"]) { run in
        let (a, b) = make(run)
        let before = ChannelEvents.snapshot()
        run.teardown { reportChannelEvents(run, since: before) }
        let n = run.n
        return { worker in worker.index == 0 ? a(n) : b(n) }
    }
}

/// A plain futex ping-pong between two threads: the yardstick a channel
/// round trip must beat by spinning (PLATFORM.md: 2.4-2.95 us).
final class FutexPingPong: @unchecked Sendable {
    let turn = FutexWord(0)
    func wait(for v: UInt32) {
        while true {
            let t = turn.load()
            if t == v { return }
            turn.wait(ifEquals: t)
        }
    }
    func pass(to v: UInt32) { turn.store(v); turn.wake(1) }
}

func chanBenchmarks() -> [Benchmark] {
    var list: [Benchmark] = [
        twoSided("chan/pingpong",
                 summary: "unbuffered round trip between two threads: send c1, receive c2 (and back)") { _ in
            let c1 = Channel<Int>(), c2 = Channel<Int>()
            return ({ n in var s = 0; for i in 0..<n { try! c1.send(i); s &+= c2.receive()! }; blackHole(s) },
                    { n in for _ in 0..<n { let v = c1.receive()!; try! c2.send(v) } })
        },
    ]
    for cap in [1, 64, 1024] {
        list.append(twoSided("chan/buffered/cap=\(cap)",
                             summary: "producer/consumer threads over a buffered channel, per element") { _ in
            let c = Channel<Int>(capacity: cap)
            return ({ n in for i in 0..<n { try! c.send(i) } },
                    { n in var s = 0; for _ in 0..<n { s &+= c.receive()! }; blackHole(s) })
        })
    }
    list += [
        Benchmark("chan/same-thread/cap=1",
                  summary: "send then receive on one thread (buffer only, uncontended lock)") { run in
            let c = Channel<Int>(capacity: 1)
            return { worker in
                var s = 0
                for i in 0..<worker.n { try! c.send(i); s &+= c.receive()! }
                blackHole(s)
            }
        },
        Benchmark("chan/select/two-ready",
                  summary: "select over two ready receives (cap=1 each); the chosen value is sent back") { run in
            let a = Channel<Int>(capacity: 1), b = Channel<Int>(capacity: 1)
            try! a.send(0); try! b.send(1)
            let picks = UnsafeMutablePointer<Int>.allocate(capacity: 2)
            picks.initialize(repeating: 0, count: 2)
            nonisolated(unsafe) let p = picks
            run.teardown {
                run.report(Double(p[0]) / Double(max(run.n, 1)), unit: "first-case-share", better: .neither)
                p.deallocate()
            }
            return { worker in
                for _ in 0..<worker.n {
                    let i = try! select {
                        $0.receive(a) { v in try! a.send(v!) }
                        $0.receive(b) { v in try! b.send(v!) }
                    }
                    p[i] += 1
                }
            }
        },
        Benchmark("chan/select/nonblocking-empty",
                  summary: "select { case <-c: default: } on an empty unbuffered channel") { run in
            let c = Channel<Int>()
            return { worker in
                var defaults = 0
                for _ in 0..<worker.n {
                    try! select {
                        $0.receive(c) { v in if v != nil { defaults &-= 1 } }
                        $0.default { defaults &+= 1 }
                    }
                }
                blackHole(defaults)
            }
        },
        Benchmark("chan/select/nonblocking-empty/tryReceive",
                  summary: "the same as c.tryReceive(), Go's compiled form (selectnbrecv)") { run in
            let c = Channel<Int>()
            return { worker in
                var blocked = 0
                for _ in 0..<worker.n { if case .wouldBlock = c.tryReceive() { blocked &+= 1 } }
                blackHole(blocked)
            }
        },
        Benchmark("chan/recv-closed",
                  summary: "receive from a closed, empty channel (takes the lock, as Go's blocking receive)") { run in
            let c = Channel<Int>()
            try! c.close()
            return { worker in
                var nils = 0
                for _ in 0..<worker.n { if c.receive() == nil { nils &+= 1 } }
                blackHole(nils)
            }
        },
        Benchmark.simple("chan/make-close-recv",
                         summary: "make an unbuffered channel, close it, receive nil; per channel") { worker in
            var nils = 0
            for _ in 0..<worker.n {
                let c = Channel<Int>()
                try! c.close()
                if c.receive() == nil { nils &+= 1 }
            }
            blackHole(nils)
        },
        // Swift yardsticks.
        Benchmark("chan/alt/futex-pingpong", threads: 2,
                  summary: "plain futex hand-off round trip (no spinning): what parking alone costs") { run in
            let f = FutexPingPong()
            let n = run.n
            return { worker in
                if worker.index == 0 {
                    for _ in 0..<n { f.pass(to: 1); f.wait(for: 0) }
                } else {
                    for _ in 0..<n { f.wait(for: 1); f.pass(to: 0) }
                }
            }
        },
        Benchmark("chan/alt/mutex-deque/same-thread",
                  summary: "Synchronization.Mutex around a 1-slot ring: the same-thread shape without a channel") { run in
            let q = Synchronization.Mutex<(Int, Bool)>((0, false))
            return { worker in
                var sum = 0
                defer { blackHole(sum) }
                for i in 0..<worker.n {
                    q.withLock { $0 = (i, true) }
                    sum &+= q.withLock { s -> Int in s.1 = false; return s.0 }
                }
            }
        },
    ]
    return list
}
