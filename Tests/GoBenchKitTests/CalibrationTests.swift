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
        let order = PthreadLock()
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

    @Test func calibrationReachesTheBenchTime() {
        let b = Benchmark.simple("test/sleepless") { worker in
            var x = 0
            for i in 0..<worker.n { x &+= i &* 31 }
            blackHole(x)
        }
        let runner = Runner()
        let n = runner.calibrate(BenchmarkPlan(b, benchTime: .nanoseconds(20_000_000), count: 1))
        #expect(n > 1000)
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
