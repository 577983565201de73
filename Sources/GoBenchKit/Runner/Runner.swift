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

    /// The smallest multiple of `quantum` that is at least `n`.
    public static func roundUp(_ n: Int, toMultipleOf quantum: Int) -> Int {
        quantum <= 1 ? n : (n + quantum - 1) / quantum * quantum
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

    /// Benchmarks whose worker process failed, with the reason (process
    /// mode only: in-process, a crash ends the run).
    public var failures: [String: String] = [:]

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
    /// n is a multiple of the benchmark's iteration quantum, also when the
    /// bench time names a count (the count is rounded up to one).
    public func calibrate(_ plan: BenchmarkPlan) -> Int {
        let q = plan.benchmark.iterationQuantum
        switch plan.benchTime {
        case .iterations(let given):
            let n = MeasurementPolicy.roundUp(given, toMultipleOf: q)
            _ = measure(plan.benchmark, n: n, counted: false)
            return n
        case .nanoseconds(let goal):
            var n = q
            var elapsed = measure(plan.benchmark, n: n, counted: false).wallNs
            while MeasurementPolicy.shouldContinueCalibrating(goalNs: goal, lastN: n, lastNs: elapsed) {
                n = MeasurementPolicy.roundUp(MeasurementPolicy.predictIterations(goalNs: goal, lastN: n, lastNs: elapsed),
                                              toMultipleOf: q)
                elapsed = measure(plan.benchmark, n: n, counted: false).wallNs
            }
            return n
        }
    }

    /// One uncounted run at `n`: the warm-up of a process that did not
    /// calibrate (its caches, page tables and allocator reach the state the
    /// counted runs will see).
    public func warmUp(_ benchmark: Benchmark, n: Int) {
        _ = measure(benchmark, n: n, counted: false)
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
        // A body that starts threads of its own is charged the process's CPU
        // time from the first worker's start to the last one's end.
        let processCPUs = UnsafeMutableBufferPointer<(Int64, Int64)>.allocate(capacity: threads)
        let wholeProcess = benchmark.startsThreads
        defer { starts.deallocate(); ends.deallocate(); cpus.deallocate(); processCPUs.deallocate() }
        var probes = [[InstrumentProbe]](repeating: [], count: threads)
        let probesLock = HarnessLock()

        runOnThreads(threads) { i in
            let mine = instruments.map {
                $0.makeProbe(benchmark: benchmark.name, worker: i, threads: threads, startsThreads: benchmark.startsThreads)
            }
            barrier.arriveAndWait()
            // Plain index loops around the timed region: in a debug build
            // an unspecialized iterator calls Array's subscript through a
            // coroutine witness whose frame is malloc'd, and a first use of
            // a generic type (StrideThrough) instantiates its metadata with
            // malloc; the allocation probe would count either.
            var k = 0
            while k < mine.count { mine[k].start(); k += 1 }
            // The allocation probe (innermost, started last) counts on this
            // thread; a body that starts threads has them adopted, so that
            // what they allocate is in allocs/op (one adopter per run).
            if wholeProcess && i == 0 { AllocCounter.adoptChildThreads() }
            let p0 = wholeProcess ? processCPUNanos() : 0
            let c0 = threadCPUNanos()
            let t0 = monotonicNanos()
            body(workers[i])
            let t1 = monotonicNanos()
            let c1 = threadCPUNanos()
            let p1 = wholeProcess ? processCPUNanos() : 0
            while k > 0 { k -= 1; mine[k].stop() }
            starts[i] = t0
            ends[i] = t1
            cpus[i] = c1 - c0
            processCPUs[i] = (p0, p1)
            probesLock.withLock { probes[i] = mine }
        }

        let paused = workers.reduce(Int64(0)) { $0 + $1.pausedNs }
        let wall = max(1, (ends.max() ?? 0) - (starts.min() ?? 0) - paused)
        context.elapsedNanoseconds = wall
        for t in context.teardowns.reversed() { t() }
        guard counted else { return Measurement(wallNs: wall, metrics: []) }

        let cpu = wholeProcess
            ? max(0, (processCPUs.map(\.1).max() ?? 0) - (processCPUs.map(\.0).min() ?? 0))
            : cpus.reduce(0, +)
        let perOp = Double(max(n, 1))
        var metrics = [
            Metric(Double(wall) / perOp, unit: "ns/op", kind: .time),
            Metric(Double(cpu) / perOp, unit: "cpu-ns/op", kind: .time),
        ]
        if threads > 1 || wholeProcess {
            // Achieved parallelism: CPU time over wall time. On this VM two
            // busy threads get anywhere from 1x to 2x.
            metrics.append(.condition(Double(cpu) / Double(wall), unit: "parallelism"))
        }
        for (k, instrument) in instruments.enumerated() {
            metrics += instrument.collect(benchmark: benchmark.name, repetition: repetition,
                                          probes: probes.map { $0[k] }, n: n, wallNanoseconds: wall)
        }
        for m in context.reported where !metrics.contains(where: { $0.unit == m.unit }) {
            metrics.append(m)
        }
        if benchmark.startsThreads {
            // What it counts depends on the schedule of threads the harness
            // does not run (see Benchmark.startsThreads). Callgrind already
            // counts the harness's own several worker threads as a count.
            for i in metrics.indices where metrics[i].kind == .exact { metrics[i].kind = .count }
        }
        return Measurement(wallNs: wall, metrics: metrics)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
