// Goroutine benchmarks: the scheduler port (GoRuntime/Sched) and the ports
// that park goroutines on it, mirrored one to one by suites/go/
// goroutine_test.go (BenchmarkGoroutine, BenchmarkWaitgroup, BenchmarkSched,
// and the goroutine/* sub-benchmarks of BenchmarkChan and BenchmarkMutex).
//
// Every timed body is one Go.run of n operations: starting the Ps, main
// and (for procs=2) the second M is part of the op count's fixed cost,
// amortized over n like a Go benchmark's goroutine start.
//
// Per-op metrics, from Go.statistics summed over the runs of a repetition:
// parks/op, runnext-hits/op, global-takes/op, steals/op, spin-wakeups/op,
// and os-ctxsw/op (voluntary + involuntary context switches of the whole
// process, from getrusage: near zero when goroutines, not threads, park).

// Measured 2026-12-04 on AMD EPYC family 25 model 17 (2 vCPU KVM guest),
// the whole default suite in one `gobench all --with-go` (commit 5da9ecb,
// count 6, one worker process per repetition; load 1.3-1.6). Median ns/op,
// ours/Go with the 95% interval of the ratio:
//   goroutine/spawn                          126 / 222    0.57 [0.42, 0.69]
//   goroutine/yield/procs=1                 85.4 / 120    0.71 [0.53, 1.13]
//   chan/goroutine/pingpong/procs=1          145 / 269    0.54 [0.40, 0.67]
//   chan/goroutine/pingpong/procs=2          166 / 274    0.61 [0.47, 0.70]
//   chan/goroutine/buffered/cap=1/procs=2   58.4 / 116    0.50 [0.44, 0.70]
//   chan/goroutine/buffered/cap=64/procs=2  13.6 / 41.7   0.33 [0.27, 0.40]
//   chan/goroutine/fan-in/producers=8/procs=2 72.9 / 154  0.48 [0.37, 1.43]
//   mutex/goroutine/contended/...=100/procs=2 17.6 / 19.6 0.90 [0.72, 1.77]
//   rwmutex/goroutine/read-mostly/procs=2   5.22 / 5.15   1.01 [0.82, 1.13]
//   waitgroup/goroutine                      153 / 377    0.41 [0.36, 0.51]
//   sched/steal                          309 us / 372 us  0.83 [0.58, 0.93]
// With count 20 on its own: yield 0.70 [0.61, 0.82], rwmutex/goroutine
// 0.96 [0.92, 0.99]. What changed since the session before (yield was
// 1.14 [0.97, 1.76] at its start): no swift_once per access to the
// scheduler's globals, and a switch with no return across stacks
// (SchedSwitch.S), paired 147.8 -> 66.3 ns/op for yield. Per op, spawn:
// 0.002 steals, 0.026 global-queue takes, 0.001 parks, 0.0003 OS context
// switches; sched/steal: 2.9 steals, 26 global takes, 1 park, 2 runnext
// hits, 0.82 spinning-M wake-ups, 0.82 OS context switches. cpu-ns/op of
// the rows with 2 Ps is the process's CPU time and allocs/op counts every
// M (sched/steal: 1,005.5 allocations per op, one closure context per go
// statement, beside Go's 1,000). A figure from another session or machine
// is not a baseline.

import GoBenchKit
import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Scheduler statistics summed over the Go.runs of one repetition.
private final class SchedTally: @unchecked Sendable {
    var s = SchedulerStatistics()
    var csw0 = 0

    func add(_ t: SchedulerStatistics) {
        s.goroutinesCreated += t.goroutinesCreated
        s.parks += t.parks
        s.steals += t.steals
        s.threads += t.threads
        s.runnextHits += t.runnextHits
        s.globalRunqTakes += t.globalRunqTakes
        s.spinningWakeups += t.spinningWakeups
        s.yields += t.yields
    }
}

private func contextSwitches() -> Int {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Int(ru.ru_nvcsw) + Int(ru.ru_nivcsw)
}

/// A benchmark whose body runs `body(n)` inside one Go.run with `procs` Ps.
private func goroutineBenchmark(
    _ name: String, procs: Int, summary: String, steals: Bool = false,
    _ body: @escaping @Sendable (Int) -> Void
) -> Benchmark {
    Benchmark(name, summary: summary, startsThreads: procs > 1) { run in
        precondition(allocHooksInstalled)
        let tally = SchedTally()
        tally.csw0 = contextSwitches()
        run.teardown {
            let n = Double(max(run.n, 1))
            let s = tally.s
            run.report(Double(s.parks) / n, unit: "parks/op")
            run.report(Double(s.runnextHits) / n, unit: "runnext-hits/op", better: .neither)
            run.report(Double(s.globalRunqTakes) / n, unit: "global-takes/op", better: .neither)
            run.report(Double(s.steals) / n, unit: "steals/op", better: steals ? .neither : .lower)
            run.report(Double(s.spinningWakeups) / n, unit: "spin-wakeups/op")
            run.report(Double(contextSwitches() - tally.csw0) / n, unit: "os-ctxsw/op")
        }
        return { worker in
            let n = worker.n
            Go.run(maxprocs: procs) { body(n) }
            tally.add(Go.statistics)
        }
    }
}

/// Work of one goroutine in sched/steal: ~0.5 us of xorshift.
@inline(never)
func stealWork(_ seed: UInt64) -> UInt64 {
    var v = seed | 1
    for _ in 0..<100 { v ^= v << 13; v ^= v >> 7; v ^= v << 17 }
    return v
}

/// Goroutines goroutine/spawn keeps alive at once.
let spawnBatch = 1024

/// The scheduler's Ms count their heap calls into the harness thread's
/// allocs/op (the runner adopts the threads of a startsThreads body).
/// Installed when a goroutine benchmark first runs, not when the registry
/// is built, so that listing benchmarks changes nothing in the process.
private let allocHooksInstalled: Bool = {
    Go.setThreadHooks(begin: { AllocCounter.childThreadBegin() }, end: { AllocCounter.childThreadEnd() })
    return true
}()

func goroutineBenchmarks() -> [Benchmark] {
    let ncpu = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    var list: [Benchmark] = [
        goroutineBenchmark("goroutine/spawn", procs: ncpu,
                           summary: "go statement: spawn, run and exit a goroutine, waited for by a WaitGroup in batches of 1024 (GOMAXPROCS = CPUs)") { n in
            // At most spawnBatch goroutines alive at once: each has a fixed
            // 64 KiB mmap'd stack with a guard page (two mappings), so n
            // live ones would exhaust vm.max_map_count (65530 here) long
            // before Go's 2 KiB growable stacks run out. The Go twin does
            // the same batches.
            let wg = WaitGroup()
            var i = 0
            while i < n {
                let k = min(spawnBatch, n - i)
                wg.add(k)
                for _ in 0..<k { go { wg.done() } }
                wg.wait()
                i += k
            }
        },
        goroutineBenchmark("goroutine/yield/procs=1", procs: 1,
                           summary: "two goroutines alternating through Gosched (runtime.Gosched each, per op)") { n in
            let wg = WaitGroup()
            wg.add(1)
            go {
                for _ in 0..<n { Go.yield() }
                wg.done()
            }
            for _ in 0..<n { Go.yield() }
            wg.wait()
        },
    ]
    for procs in [1, 2] {
        list.append(goroutineBenchmark("chan/goroutine/pingpong/procs=\(procs)", procs: procs,
                                       summary: "unbuffered round trip between two goroutines: send c1, receive c2") { n in
            let c1 = Channel<Int>(), c2 = Channel<Int>()
            let done = Channel<Int>()
            go {
                for _ in 0..<n { let v = c1.receive()!; try! c2.send(v) }
                try! done.close()
            }
            var s = 0
            for i in 0..<n { try! c1.send(i); s &+= c2.receive()! }
            _ = done.receive()
            blackHole(s)
        })
    }
    for cap in [1, 64] {
        list.append(goroutineBenchmark("chan/goroutine/buffered/cap=\(cap)/procs=2", procs: 2,
                                       summary: "producer/consumer goroutines over a buffered channel, per element") { n in
            let c = Channel<Int>(capacity: cap)
            let wg = WaitGroup()
            wg.add(1)
            go {
                for i in 0..<n { try! c.send(i) }
                wg.done()
            }
            var s = 0
            for _ in 0..<n { s &+= c.receive()! }
            wg.wait()
            blackHole(s)
        })
    }
    list += [
        goroutineBenchmark("chan/goroutine/fan-in/producers=8/procs=2", procs: 2,
                           summary: "8 producer goroutines into one unbuffered channel, one consumer; per element") { n in
            let c = Channel<Int>()
            let producers = 8
            for p in 0..<producers {
                let share = MeasurementPolicy.share(of: n, worker: p, threads: producers)
                go { for i in 0..<share { try! c.send(i) } }
            }
            var s = 0
            for _ in 0..<n { s &+= c.receive()! }
            blackHole(s)
        },
        goroutineBenchmark("mutex/goroutine/contended/goroutines=100/procs=2", procs: 2,
                           summary: "sync.Mutex port: 100 goroutines lock+increment+unlock one mutex; per lock") { n in
            let m = GoRuntime.Mutex()
            let word = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
            word.initialize(to: 0)
            nonisolated(unsafe) let w = word
            let wg = WaitGroup()
            let gs = 100
            for k in 0..<gs {
                let share = MeasurementPolicy.share(of: n, worker: k, threads: gs)
                wg.add(1)
                go {
                    for _ in 0..<share { m.lock(); w.pointee &+= 1; m.unlock() }
                    wg.done()
                }
            }
            wg.wait()
            precondition(word.pointee == UInt64(n), "lost an increment")
            word.deallocate()
        },
        goroutineBenchmark("rwmutex/goroutine/read-mostly/procs=2", procs: 2,
                           summary: "sync.RWMutex port: 2 goroutines, 99 read sections per write section; per section (Go's read-mostly twin runs goroutines too)") { n in
            // rwmutex/read-mostly/threads=2 with the two workers as
            // goroutines, which is what Go's twin of that row runs: a
            // blocked reader or writer parks its G, and the releaser's
            // goready puts it in the releaser's runnext.
            let l = GoRuntime.RWMutex()
            let word = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
            word.initialize(to: 1)
            nonisolated(unsafe) let w = word
            let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
            sums.initialize(repeating: 0, count: 2)
            nonisolated(unsafe) let out = sums
            let wg = WaitGroup()
            for k in 0..<2 {
                let share = MeasurementPolicy.share(of: n, worker: k, threads: 2)
                wg.add(1)
                go {
                    var sum: UInt64 = 0
                    for i in 0..<share {
                        if i % 100 == 0 {
                            l.lock(); w.pointee &+= 1; l.unlock()
                        } else {
                            l.rLock(); sum &+= w.pointee; l.rUnlock()
                        }
                    }
                    out[k] = sum
                    wg.done()
                }
            }
            wg.wait()
            blackHole(sums[0] &+ sums[1])
            l.checkQuiescentInvariants()
            sums.deallocate()
            word.deallocate()
        },
        goroutineBenchmark("waitgroup/goroutine", procs: ncpu,
                           summary: "WaitGroup round trip: Add(1), go Done, Wait (the waiter parks), per op (GOMAXPROCS = CPUs)") { n in
            let wg = WaitGroup()
            for _ in 0..<n {
                wg.add(1)
                go { wg.done() }
                wg.wait()
            }
        },
        goroutineBenchmark("sched/steal", procs: 2,
                           summary: "spawn 1,000 goroutines (~0.5 us of work each) on one P; op = until both Ps drained them",
                           steals: true) { n in
            let wg = WaitGroup()
            var sink: UInt64 = 0
            let sum = UnsafeMutablePointer<UInt64>.allocate(capacity: 1000)
            nonisolated(unsafe) let out = sum
            for _ in 0..<n {
                wg.add(1000)
                for i in 0..<1000 {
                    go { out[i] = stealWork(UInt64(i)); wg.done() }
                }
                wg.wait()
                sink &+= out[999]
            }
            sum.deallocate()
            blackHole(sink)
        },
    ]
    return list
}
