// The runner: calibrates b.N per benchmark the way Go's testing.B does, then
// runs the counted repetitions round by round across all selected
// benchmarks, so that slow drift of the machine (frequency, a noisy
// neighbour) hits every benchmark alike instead of the last ones only.
//
// Stages of `run`:
//   1. calibrate: for each benchmark, runs with growing n until one run
//      takes at least the bench time (or n was given); the final
//      calibration run uses the chosen n and doubles as the uncounted
//      warm-up.
//   2. repetitions: round r runs repetition r of every benchmark that wants
//      at least r+1 repetitions, in selection order.
// Every run calls the benchmark's `prepare` (untimed setup), starts one
// thread per worker, releases them from a barrier, times each worker's body
// with the monotonic clock and its thread CPU clock, and runs teardowns.

/// How long to run each benchmark: a target duration (calibrated) or a
/// fixed iteration count, like `go test -benchtime 1s` / `-benchtime 100x`.
public enum BenchTime: Sendable, Equatable, CustomStringConvertible {
    case nanoseconds(Int64)
    case iterations(Int)

    /// Parses "100ms", "1.5s", "250us", "10ns", "1m" or "500x".
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("x"), let n = Int(t.dropLast()), n > 0 {
            self = .iterations(n)
            return
        }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            if let v = Double(number), v > 0, v.isFinite {
                self = .nanoseconds(Int64(v * scale))
                return
            }
        }
        throw SelectionError("invalid bench time \"\(text)\" (want e.g. 100ms, 1s or 500x)")
    }

    public var description: String {
        switch self {
        case .iterations(let n): return "\(n)x"
        case .nanoseconds(let ns):
            if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
            if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
            if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
            return "\(ns)ns"
        }
    }
}

/// One benchmark as the runner will run it.
public struct BenchmarkPlan: Sendable {
    public var benchmark: Benchmark
    public var benchTime: BenchTime
    public var count: Int

    public init(_ benchmark: Benchmark, benchTime: BenchTime, count: Int) {
        self.benchmark = benchmark
        self.benchTime = benchTime
        self.count = max(1, count)
    }
}

/// The measured result of one counted repetition.
public struct RepetitionResult: Sendable, Equatable {
    public var name: String
    /// "swift" for our own benchmarks, "go" for Go's reference suite.
    public var impl: String
    public var threads: Int
    public var repetition: Int
    public var n: Int
    public var metrics: [Metric]

    public init(name: String, impl: String = "swift", threads: Int, repetition: Int, n: Int, metrics: [Metric]) {
        self.name = name
        self.impl = impl
        self.threads = threads
        self.repetition = repetition
        self.n = n
        self.metrics = metrics
    }

    public func metric(_ unit: String) -> Metric? { metrics.first { $0.unit == unit } }
}

/// Measurement policy, as named functions (google/benchmark's runner style).
public enum MeasurementPolicy {
    /// Go 1.19 testing.B's rule (testing/benchmark.go, `launch`): predict
    /// the iterations needed to reach `goalNs` from the last run, overshoot
    /// by 1.2x, grow at most 100x per step and at least by one, never past
    /// 1e9.
    public static func predictIterations(goalNs: Int64, lastN: Int, lastNs: Int64) -> Int {
        let prevNs = max(lastNs, 1)
        let last = Int64(lastN)
        // Multiply first: for fast benchmarks lastN ~ lastNs and dividing
        // first would lose an order of magnitude.
        var n = goalNs.multipliedReportingOverflow(by: last).overflow
            ? Int64.max / 2 : goalNs * last / prevNs
        n += n / 5
        n = min(n, 100 * last)
        n = max(n, last + 1)
        n = min(n, 1_000_000_000)
        return Int(n)
    }

    /// Whether calibration should run again after a run of `lastN`
    /// iterations that took `lastNs`.
    public static func shouldContinueCalibrating(goalNs: Int64, lastN: Int, lastNs: Int64) -> Bool {
        lastNs < goalNs && lastN < 1_000_000_000
    }

    /// Splits `n` iterations over `threads` workers as evenly as possible.
    public static func share(of n: Int, worker: Int, threads: Int) -> Int {
        n / threads + (worker < n % threads ? 1 : 0)
    }
}

/// Runs plans and returns the counted repetitions.
public final class Runner {
    public var instruments: [Instrument]
    /// Called with a short status line before each run ("calibrating x",
    /// "round 2/6 x"); the console shows it on a terminal only.
    public var progress: ((String) -> Void)?
    /// Called after every counted repetition.
    public var onResult: ((RepetitionResult) -> Void)?
    /// Called after each round with its index; what it returns joins the
    /// results. `gobench all --with-go` runs one round of Go's reference
    /// benchmarks here, so both sides see the same drift.
    public var afterRound: ((Int) throws -> [RepetitionResult])?
    /// Rounds to run even when no plan wants that many (a Go-only run has
    /// no plans but still wants its rounds).
    public var minimumRounds = 0

    public init(instruments: [Instrument] = []) {
        self.instruments = instruments
    }

    /// Calibrates every plan, then runs the repetitions round by round.
    public func run(_ plans: [BenchmarkPlan]) throws -> [RepetitionResult] {
        var ns: [Int] = []
        for plan in plans {
            progress?("calibrating \(plan.benchmark.name)")
            ns.append(calibrate(plan))
        }
        var results: [RepetitionResult] = []
        let rounds = max(plans.map(\.count).max() ?? 0, minimumRounds)
        for round in 0..<rounds {
            for (i, plan) in plans.enumerated() where round < plan.count {
                progress?("round \(round + 1)/\(rounds) \(plan.benchmark.name)")
                let r = runRepetition(plan.benchmark, n: ns[i], repetition: round)
                results.append(r)
                onResult?(r)
            }
            if let hook = afterRound {
                progress?("round \(round + 1)/\(rounds): reference suite")
                for r in try hook(round) {
                    results.append(r)
                    onResult?(r)
                }
            }
        }
        return results
    }

    /// Stage 1: returns b.N for the plan. The last run made here used that
    /// n and served as the warm-up.
    public func calibrate(_ plan: BenchmarkPlan) -> Int {
        switch plan.benchTime {
        case .iterations(let n):
            _ = measure(plan.benchmark, n: n, counted: false)
            return n
        case .nanoseconds(let goal):
            var n = 1
            var elapsed = measure(plan.benchmark, n: n, counted: false).wallNs
            while MeasurementPolicy.shouldContinueCalibrating(goalNs: goal, lastN: n, lastNs: elapsed) {
                n = MeasurementPolicy.predictIterations(goalNs: goal, lastN: n, lastNs: elapsed)
                elapsed = measure(plan.benchmark, n: n, counted: false).wallNs
            }
            return n
        }
    }

    /// One counted repetition with every instrument attached.
    public func runRepetition(_ benchmark: Benchmark, n: Int, repetition: Int) -> RepetitionResult {
        let m = measure(benchmark, n: n, counted: true, repetition: repetition)
        return RepetitionResult(name: benchmark.name, threads: benchmark.threads,
                                repetition: repetition, n: n, metrics: m.metrics)
    }

    struct Measurement {
        var wallNs: Int64
        var metrics: [Metric]
    }

    /// One run: setup, threads, barrier, timed bodies, teardown.
    func measure(_ benchmark: Benchmark, n: Int, counted: Bool, repetition: Int = -1) -> Measurement {
        let threads = benchmark.threads
        let context = RunContext(n: n, threads: threads, isCalibration: !counted)
        let body = benchmark.prepare(context)
        let workers = (0..<threads).map {
            Worker(n: MeasurementPolicy.share(of: n, worker: $0, threads: threads), index: $0, threads: threads)
        }
        let instruments = counted ? self.instruments : []
        let barrier = StartBarrier(parties: threads)
        let starts = UnsafeMutableBufferPointer<Int64>.allocate(capacity: threads)
        let ends = UnsafeMutableBufferPointer<Int64>.allocate(capacity: threads)
        let cpus = UnsafeMutableBufferPointer<Int64>.allocate(capacity: threads)
        defer { starts.deallocate(); ends.deallocate(); cpus.deallocate() }
        var probes = [[InstrumentProbe]](repeating: [], count: threads)
        let probesLock = PthreadLock()

        runOnThreads(threads) { i in
            let mine = instruments.map { $0.makeProbe(benchmark: benchmark.name, worker: i, threads: threads) }
            barrier.arriveAndWait()
            // Plain index loops around the timed region: in a debug build
            // an unspecialized iterator calls Array's subscript through a
            // coroutine witness whose frame is malloc'd, and a first use of
            // a generic type (StrideThrough) instantiates its metadata with
            // malloc; the allocation probe would count either.
            var k = 0
            while k < mine.count { mine[k].start(); k += 1 }
            let c0 = threadCPUNanos()
            let t0 = monotonicNanos()
            body(workers[i])
            let t1 = monotonicNanos()
            let c1 = threadCPUNanos()
            while k > 0 { k -= 1; mine[k].stop() }
            starts[i] = t0
            ends[i] = t1
            cpus[i] = c1 - c0
            probesLock.withLock { probes[i] = mine }
        }

        let paused = workers.reduce(Int64(0)) { $0 + $1.pausedNs }
        let wall = max(1, (ends.max() ?? 0) - (starts.min() ?? 0) - paused)
        context.elapsedNanoseconds = wall
        for t in context.teardowns.reversed() { t() }
        guard counted else { return Measurement(wallNs: wall, metrics: []) }

        let cpu = cpus.reduce(0, +)
        let perOp = Double(max(n, 1))
        var metrics = [
            Metric(Double(wall) / perOp, unit: "ns/op"),
            Metric(Double(cpu) / perOp, unit: "cpu-ns/op"),
        ]
        if threads > 1 {
            // Achieved parallelism: thread CPU time over wall time. On this
            // VM two busy threads get anywhere from 1x to 2x.
            metrics.append(Metric(Double(cpu) / Double(wall), unit: "parallelism", better: .neither))
        }
        for (k, instrument) in instruments.enumerated() {
            metrics += instrument.collect(benchmark: benchmark.name, repetition: repetition,
                                          probes: probes.map { $0[k] }, n: n, wallNanoseconds: wall)
        }
        for m in context.reported where !metrics.contains(where: { $0.unit == m.unit }) {
            metrics.append(m)
        }
        return Measurement(wallNs: wall, metrics: metrics)
    }
}

/// A small pthread mutex for the runner's bookkeeping (Foundation-free).
final class PthreadLock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return body()
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
