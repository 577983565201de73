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

// Measured 2026-12-03 (second session) on AMD EPYC family 26 model 2, 2 vCPU
// KVM guest, load average 1.1-1.7, commit 6e656b1 (the MXCSR/x87 switch,
// goidcache, sched.gFree.lock, no shared goroutine counter), in one run:
//   gobench all --suites DIR --with-go --no-profile --counters none
// with DIR holding one manifest (benchtime 100ms, count 10) of the
// patterns ^goroutine/, ^chan/goroutine/ and
// ^(mutex/goroutine/|waitgroup/goroutine$|sched/steal$). Median ns/op,
// ours/Go with the 95% interval of the ratio:
//   goroutine/spawn                          201 / 266    0.76 [0.50, 1.07]
//   goroutine/yield/procs=1                  172 / 138    1.24 [0.91, 1.28]
//   chan/goroutine/pingpong/procs=1          243 / 337    0.72 [0.63, 0.88]
//   chan/goroutine/pingpong/procs=2          252 / 325    0.78 [0.70, 0.91]
//   chan/goroutine/buffered/cap=1/procs=2     99 / 130    0.76 [0.69, 0.86]
//   chan/goroutine/buffered/cap=64/procs=2  35.5 / 49.4   0.72 [0.65, 0.77]
//   chan/goroutine/fan-in/producers=8/procs=2 129 / 166   0.78 [0.65, 1.03]
//   mutex/goroutine/contended/...=100/procs=2 45.2 / 42.7 1.06 [0.93, 1.27]
//   waitgroup/goroutine                      292 / 406    0.72 [0.65, 0.84]
//   sched/steal                          334 us / 391 us  0.85 [0.69, 1.51]
// A second run of spawn and sched/steal alone (count 14, load 1.0-1.3):
// spawn 0.71 [0.55, 1.08], sched/steal 0.86 [0.76, 1.20]. Per op, spawn:
// 0.003 steals, 0.026 global-queue takes, 0.001 parks, 0.0004 spinning-M
// wake-ups, 0.0007 OS context switches; sched/steal: 3.2 steals, 26
// global takes, 1 park, 2.0 runnext hits, 0.87 spinning-M wake-ups, 0.93
// OS context switches. yield/procs=1 pays the switch's MXCSR/x87 save
// (paired: +5.8% [1.2%, 10.9%]); Go's own yield ranged 138-192 ns over the
// session's runs. The spawn closure here captures one reference, which
// Swift passes as the closure's context: no allocation per go statement,
// where Go allocates a 16-byte funcval (allocs/op 1). allocs/op of ours
// counts only the benchmark's own thread (M0), not the scheduler's other
// Ms (since fixed: the Ms are adopted, and cpu-ns/op is the process's).
// A figure from another session or machine is not a baseline.
//
// The same day, the whole default suite in one `gobench all --with-go`
// (commit 54c88af, load about 1.3, count 6, one worker per repetition;
// 542 s): spawn 0.49 [0.35, 0.74], yield 0.94 [0.81, 1.06], pingpong
// procs=1 0.63 [0.55, 0.70], procs=2 0.76 [0.68, 0.88], buffered cap=1 0.78
// [0.72, 0.92], cap=64 0.60 [0.54, 0.68], fan-in 0.83 [0.56, 1.37],
// mutex/goroutine 1.03 [0.82, 1.27], waitgroup 0.71 [0.66, 0.81],
// sched/steal 1.39 [0.95, 2.08]. Between the two runs, spawn and yield
// moved by a third and steal by two thirds: with 6 to 10 repetitions on
// this machine, a ratio's interval is what to read, not its median.

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
                let share = n / producers + (p < n % producers ? 1 : 0)
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
                let share = n / gs + (k < n % gs ? 1 : 0)
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
                let share = n / 2 + (k < n % 2 ? 1 : 0)
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
