import Testing
@testable import GoBenchKit
import Synchronization

@Suite struct CalibrationTests {
    @Test func predictsLikeGoTestingB() {
        // 1 iteration took 1 us; goal 1 s: 1e6 predicted, x1.2 = 1.2e6,
        // but growth is capped at 100x the last n.
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000_000_000, lastN: 1, lastNs: 1_000) == 100)
        // 100 iterations in 100 us: 1e6 needed, +20% = 1.2e6, cap 1e4.
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000_000_000, lastN: 100, lastNs: 100_000) == 10_000)
        // 10,000 in 5 ms: 2e6 needed, +20% = 2.4e6 (under the 1e6 cap? no: cap is 100*1e4 = 1e6).
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000_000_000, lastN: 10_000, lastNs: 5_000_000) == 1_000_000)
        // Close to the goal: predicted 1.2x.
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000_000_000, lastN: 1_000_000, lastNs: 500_000_000) == 2_400_000)
        // Slower than the goal already: still at least one more.
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000, lastN: 7, lastNs: 1_000_000) == 8)
        // Never past 1e9, and a zero duration does not divide by zero.
        #expect(MeasurementPolicy.predictIterations(goalNs: 1_000_000_000, lastN: 900_000_000, lastNs: 0) == 1_000_000_000)
    }

    /// Go's rule (testing/benchmark.go, launch) as properties over a grid of
    /// goals, last counts and last durations: never past 1e9; at least one
    /// more than the last count (unless that passes 1e9); at most 100x the
    /// last count; wherever no clamp applies, exactly the prediction from
    /// the last run, goal * lastN / lastNs, plus a fifth (the 1.2x
    /// overshoot); and a slower last run never predicts more.
    @Test func predictionFollowsGoRuleOnAGrid() {
        let goals: [Int64] = [1_000, 1_000_000, 100_000_000, 1_000_000_000, 10_000_000_000]
        let counts: [Int] = [1, 2, 7, 100, 12_345, 1_000_000, 500_000_000, 999_999_999]
        let durations: [Int64] = [0, 1, 10, 999, 1_000_000, 1_000_000_000, 1_000_000_000_000]
        let cap = 1_000_000_000
        for goal in goals {
            for last in counts {
                var previous = Int.max
                for ns in durations {
                    let n = MeasurementPolicy.predictIterations(goalNs: goal, lastN: last, lastNs: ns)
                    let context = "goal \(goal) ns, last n \(last) in \(ns) ns -> \(n)"
                    #expect(n <= cap, "past 1e9: \(context)")
                    #expect(n >= min(last + 1, cap), "no growth: \(context)")
                    #expect(n <= max(100 * last, last + 1), "more than 100x: \(context)")
                    #expect(n <= previous, "a slower run predicted more: \(context)")
                    previous = n
                    // The unclamped prediction, where goal * lastN fits.
                    let product = goal.multipliedFullWidth(by: Int64(last))   // both positive
                    if product.high == 0, product.low <= UInt64(Int64.max) {
                        let q = Int64(product.low) / max(ns, 1)
                        let predicted = Int(q + q / 5)
                        if predicted >= last + 1 && predicted <= 100 * last && predicted <= cap {
                            #expect(n == predicted, "not goal * n / ns * 1.2: \(context), want \(predicted)")
                        }
                    }
                }
            }
        }
    }

    @Test func stopsAtTheGoalOrTheCap() {
        #expect(MeasurementPolicy.shouldContinueCalibrating(goalNs: 100, lastN: 5, lastNs: 99))
        #expect(!MeasurementPolicy.shouldContinueCalibrating(goalNs: 100, lastN: 5, lastNs: 100))
        #expect(!MeasurementPolicy.shouldContinueCalibrating(goalNs: 100, lastN: 1_000_000_000, lastNs: 1))
    }

    @Test func sharesSplitExactly() {
        for threads in 1...5 {
            for n in [0, 1, 7, 100, 1001] {
                let shares = (0..<threads).map { MeasurementPolicy.share(of: n, worker: $0, threads: threads) }
                #expect(shares.reduce(0, +) == n)
                #expect((shares.max() ?? 0) - (shares.min() ?? 0) <= 1)
            }
        }
    }

    @Test func benchTimeParsing() throws {
        #expect(try BenchTime(parsing: "100ms") == .nanoseconds(100_000_000))
        #expect(try BenchTime(parsing: "1.5s") == .nanoseconds(1_500_000_000))
        #expect(try BenchTime(parsing: "250us") == .nanoseconds(250_000))
        #expect(try BenchTime(parsing: "500x") == .iterations(500))
        #expect(throws: SelectionError.self) { try BenchTime(parsing: "fast") }
        #expect(throws: SelectionError.self) { try BenchTime(parsing: "-1s") }
        #expect(throws: SelectionError.self) { try BenchTime(parsing: "0x") }
    }
}

/// The runner end to end with tiny benchmarks.
@Suite struct RunnerTests {
    final class Counter: @unchecked Sendable {
        let iterations = Atomic<Int>(0)
        let runs = Atomic<Int>(0)
        let teardowns = Atomic<Int>(0)
    }

    @Test func calibratesRunsRepetitionsAndTearsDown() throws {
        let c = Counter()
        let b = Benchmark("test/count", threads: 2) { run in
            c.runs.add(1, ordering: .relaxed)
            run.teardown {
                c.teardowns.add(1, ordering: .relaxed)
                run.report(42, unit: "answers/op", better: .higher)
            }
            return { worker in
                #expect(worker.threads == 2)
                c.iterations.add(worker.n, ordering: .relaxed)
                var x = 0
                for i in 0..<worker.n { x &+= i }
                blackHole(x)
            }
        }
        let runner = Runner()
        let results = try runner.run([BenchmarkPlan(b, benchTime: .iterations(1000), count: 3)])
        #expect(results.count == 3)
        #expect(results.map(\.repetition) == [0, 1, 2])
        #expect(results.allSatisfy { $0.n == 1000 && $0.threads == 2 })
        // one warm-up run plus three repetitions, each with setup and teardown
        #expect(c.runs.load(ordering: .relaxed) == 4)
        #expect(c.teardowns.load(ordering: .relaxed) == 4)
        #expect(c.iterations.load(ordering: .relaxed) == 4000)
        let r = results[0]
        #expect(r.metric("ns/op") != nil && r.metric("cpu-ns/op") != nil)
        #expect(r.metric("parallelism")?.better == .neither)
        #expect(r.metric("answers/op")?.value == 42)
        #expect(r.metric("answers/op")?.better == .higher)
    }

    @Test func interleavesRepetitionsRoundByRound() throws {
        let order = HarnessLock()
        nonisolated(unsafe) var seen: [String] = []
        func bench(_ name: String) -> Benchmark {
            Benchmark(name) { run in
                if !run.isCalibration { order.withLock { seen.append(name) } }
                return { _ in }
            }
        }
        let runner = Runner()
        _ = try runner.run([BenchmarkPlan(bench("a"), benchTime: .iterations(1), count: 2),
                        BenchmarkPlan(bench("b"), benchTime: .iterations(1), count: 3)])
        #expect(seen == ["a", "b", "a", "b", "b"])
    }

    /// Every calibration run as the benchmark saw it: n and the timed
    /// region's wall time.
    final class RunLog: @unchecked Sendable {
        private let lock = HarnessLock()
        private var entries: [(n: Int, ns: Int64, calibration: Bool)] = []
        func add(_ run: RunContext) {
            lock.withLock { entries.append((run.n, run.elapsedNanoseconds, run.isCalibration)) }
        }
        var runs: [(n: Int, ns: Int64, calibration: Bool)] { lock.withLock { entries } }
    }

    /// The calibration loop is Go's: it starts at n = 1, each next n is the
    /// policy's prediction from the run before, it stops at the first run
    /// that reaches the bench time, and it returns that run's n (that run is
    /// also the warm-up: no further run is made).
    @Test func calibrationReachesTheBenchTime() {
        let log = RunLog()
        let b = Benchmark("test/sleepless") { run in
            run.teardown { log.add(run) }
            return { worker in
                var x = 0
                for i in 0..<worker.n { x &+= i &* 31 }
                blackHole(x)
            }
        }
        let goal: Int64 = 20_000_000
        let n = Runner().calibrate(BenchmarkPlan(b, benchTime: .nanoseconds(goal), count: 1))
        let runs = log.runs
        #expect(runs.allSatisfy { $0.calibration })
        #expect(runs.first?.n == 1)
        #expect(runs.last?.n == n, "calibrate returns the last run's n")
        #expect(runs.last.map { $0.ns >= goal } == true, "the chosen n's run reaches the bench time")
        for (prev, next) in zip(runs, runs.dropFirst()) {
            #expect(prev.ns < goal, "a run that reached the goal was not the last")
            #expect(next.n == MeasurementPolicy.predictIterations(goalNs: goal, lastN: prev.n, lastNs: prev.ns),
                    "n after \(prev.n) in \(prev.ns) ns")
        }
        #expect(runs.count >= 3, "1 iteration cannot take 20 ms here: calibration must grow n")
    }

    /// A benchmark whose single iteration already takes longer than the
    /// bench time is calibrated to n = 1 in one run.
    @Test func slowBenchmarkStopsAtOne() {
        let log = RunLog()
        let b = Benchmark("test/slow") { run in
            run.teardown { log.add(run) }
            return { worker in
                for _ in 0..<worker.n {
                    var ts = timespec(tv_sec: 0, tv_nsec: 3_000_000)
                    nanosleep(&ts, nil)
                }
            }
        }
        let n = Runner().calibrate(BenchmarkPlan(b, benchTime: .nanoseconds(1_000_000), count: 1))
        #expect(n == 1)
        #expect(log.runs.map(\.n) == [1])
    }

    /// A fixed count (`--benchtime 500x`) is not calibrated: one warm-up
    /// run at exactly that count.
    @Test func fixedCountIsNotCalibrated() {
        let log = RunLog()
        let b = Benchmark("test/fixed") { run in
            run.teardown { log.add(run) }
            return { _ in }
        }
        #expect(Runner().calibrate(BenchmarkPlan(b, benchTime: .iterations(500), count: 1)) == 500)
        #expect(log.runs.map(\.n) == [500])
    }

    /// A benchmark with an iteration quantum only ever runs whole multiples
    /// of it: calibration starts at one quantum and rounds each prediction
    /// up, and a fixed count is rounded up too.
    @Test func iterationQuantumGivesWholeMultiples() {
        let log = RunLog()
        let b = Benchmark("test/quantum", iterationQuantum: 1000) { run in
            run.teardown { log.add(run) }
            return { worker in
                var x = 0
                for i in 0..<worker.n { x &+= i &* 31 }
                blackHole(x)
            }
        }
        let n = Runner().calibrate(BenchmarkPlan(b, benchTime: .nanoseconds(20_000_000), count: 1))
        #expect(n % 1000 == 0 && n > 1000)
        #expect(log.runs.first?.n == 1000)
        #expect(log.runs.allSatisfy { $0.n % 1000 == 0 }, "\(log.runs.map(\.n))")
        #expect(Runner().calibrate(BenchmarkPlan(b, benchTime: .iterations(1500), count: 1)) == 2000)
        #expect(MeasurementPolicy.roundUp(2000, toMultipleOf: 1000) == 2000)
        #expect(MeasurementPolicy.roundUp(7, toMultipleOf: 1) == 7)
    }

    /// A body that starts threads of its own cannot give an exact count:
    /// its exact metrics are recorded as counts; the same metric of a body
    /// that does not stays exact.
    @Test func exactMetricsOfABodyThatStartsThreadsAreCounts() {
        func kinds(_ startsThreads: Bool) -> MetricKind? {
            let b = Benchmark("test/threads", startsThreads: startsThreads) { run in
                run.report(3, unit: "things/op", kind: .exact)
                return { _ in }
            }
            return Runner().runRepetition(b, n: 10, repetition: 0).metric("things/op")?.kind
        }
        #expect(kinds(false) == .exact)
        #expect(kinds(true) == .count)
    }

    /// The CPU a body's own thread burns while the harness thread waits for
    /// it is in cpu-ns/op (and parallelism) when the body says it starts
    /// threads, and is not in the harness thread's CPU time otherwise.
    @Test func cpuTimeOfABodyThatStartsThreadsIsTheProcesss() throws {
        func cpuNs(_ startsThreads: Bool) -> (cpu: Double, parallelism: Double?, wall: Double) {
            // A thread of the body's own burns about 30 ms of CPU; the
            // harness thread sleeps in join.
            let b = Benchmark("test/threads-cpu", startsThreads: startsThreads) { _ in
                { _ in runBusyChildThread(cpuNanoseconds: 30_000_000) }
            }
            let r = Runner().runRepetition(b, n: 1, repetition: 0)
            return (r.metric("cpu-ns/op")!.value, r.metric("parallelism")?.value, r.metric("ns/op")!.value)
        }
        let own = cpuNs(true)
        #expect(own.cpu >= 25_000_000, "\(own)")
        // Parallelism is that CPU time over the wall time (not a bound on
        // it: on a loaded machine the thread waits for a CPU too).
        let p = try #require(own.parallelism)
        #expect(abs(p - own.cpu / own.wall) <= 1e-9 * p, "\(own)")
        let harnessOnly = cpuNs(false)
        #expect(harnessOnly.cpu < 10_000_000, "\(harnessOnly)")
        #expect(harnessOnly.parallelism == nil)
    }

    @Test func stopTimerExcludesPausedTime() {
        let b = Benchmark.simple("test/paused") { worker in
            worker.stopTimer()
            var ts = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            nanosleep(&ts, nil)
            worker.startTimer()
        }
        let r = Runner().runRepetition(b, n: 1, repetition: 0)
        #expect(r.metric("ns/op")!.value < 10_000_000)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Starts a thread that burns `cpuNanoseconds` of its own CPU time, and
/// joins it: a body that starts threads of its own, for the tests of what
/// the runner and its instruments charge such a body.
func runBusyChildThread(cpuNanoseconds: Int64) {
    var tid = pthread_t()
    let budget = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    budget.initialize(to: cpuNanoseconds)
    defer { budget.deallocate() }
    let rc = pthread_create(&tid, nil, { raw in
        let end = threadCPUNanos() + raw!.assumingMemoryBound(to: Int64.self).pointee
        var x: UInt64 = 1
        while threadCPUNanos() < end { for _ in 0..<1000 { x = x &* 6364136223846793005 &+ 1 } }
        blackHole(x)
        return nil
    }, budget)
    precondition(rc == 0, "pthread_create: \(rc)")
    pthread_join(tid, nil)
}
