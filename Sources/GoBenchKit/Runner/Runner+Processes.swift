// Repetitions in worker processes, the way pyperf runs them: a benchmark's
// figure must not depend on what ran before it in the same process (a map
// benchmark measured 3.3 ms/op late in a suite and 95 ns alone, with its
// huge-page faults depending on how fragmented the process's memory was),
// and process-level effects (address-space layout, heap and page state,
// code placement relative to the cache) must show up in the spread instead
// of hiding in it.
//
// Stages of `runInProcesses`:
//   1. pass 0: for each benchmark, in the chosen order, one fresh worker
//      calibrates n (Go's rule; its last calibration run is the warm-up)
//      and runs the repetitions assigned to process 0;
//   2. passes 1 ..< P: for each benchmark, one fresh worker runs a warm-up
//      at that n, then the repetitions assigned to it (repetition r goes to
//      process r % P). The passes interleave the benchmarks round by
//      round, so slow drift of the machine hits every benchmark alike;
//   3. after pass p, the reference hook runs the reference rounds r with
//      r % P == p (Go's suite under --with-go), in the same interleaving.
// A worker that crashes, hangs or breaks the protocol fails its benchmark
// (named in `failures` with the reason); the run goes on without it.
//
// With P = count (the default for `gobench all`) every repetition is its own
// process, so every value is an independent unit of replication. With
// fewer processes, the repetitions of one process are averaged into one
// unit by the comparisons (Comparer.unitValues).

import Foundation

/// The order benchmarks run in within a pass.
public enum RunOrder: Sendable, Equatable, Codable {
    case given
    case reverse
    case shuffle(seed: UInt64)

    public func apply<T>(_ items: [T]) -> [T] {
        switch self {
        case .given: return items
        case .reverse: return items.reversed()
        case .shuffle(let seed):
            var g = SplitMix64(seed: seed)
            return items.shuffled(using: &g)
        }
    }
}

/// How the parent starts workers.
public struct WorkerConfig: Sendable {
    /// Worker processes per benchmark; nil: one per repetition.
    public var processes: Int?
    public var executable: String
    public var instruments: InstrumentSpec
    /// Per worker, on top of the time its bench time and repetitions need.
    public var timeoutSeconds: Double = 300
    public var runDirectory: String?
    public var environment: [String: String]?

    public init(processes: Int?, executable: String = WorkerProcess.currentExecutable(),
                instruments: InstrumentSpec, runDirectory: String? = nil) {
        self.processes = processes
        self.executable = executable
        self.instruments = instruments
        self.runDirectory = runDirectory
    }

    /// Processes for a benchmark with `count` repetitions.
    public func processes(forCount count: Int) -> Int {
        max(1, min(processes ?? count, count))
    }
}

/// SplitMix64, for seeded shuffles.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Runner {
    /// Runs `plans` the way a run's options say: in worker processes with
    /// `workers`, else in this process, in `order` either way.
    public func run(_ plans: [BenchmarkPlan], workers: WorkerConfig?, order: RunOrder) throws -> [RepetitionResult] {
        guard let w = workers else { return try run(order.apply(plans)) }
        return try runInProcesses(plans, config: w, order: order)
    }

    /// Stages 1-3 above. Returns the counted repetitions; benchmarks whose
    /// worker failed are in `failures`.
    public func runInProcesses(_ plans: [BenchmarkPlan], config: WorkerConfig, order: RunOrder) throws -> [RepetitionResult] {
        let ordered = order.apply(plans)
        let passes = max(ordered.map { config.processes(forCount: $0.count) }.max() ?? 0, minimumRounds > 0 ? 1 : 0)
        var n: [String: Int] = [:]
        var results: [RepetitionResult] = []
        var seenWarnings = Set<String>()
        let referenceRounds = max(plans.map(\.count).max() ?? 0, minimumRounds)
        for pass in 0..<passes {
            for (k, plan) in ordered.enumerated() {
                let name = plan.benchmark.name
                guard failures[name] == nil else { continue }
                let processes = config.processes(forCount: plan.count)
                let reps = (0..<plan.count).filter { $0 % processes == pass }
                guard pass < processes else { continue }
                let benchTime: BenchTime
                if pass == 0 {
                    benchTime = plan.benchTime
                } else if let fixed = n[name] {
                    benchTime = .iterations(fixed)
                } else {
                    continue
                }
                progress?("process \(pass + 1)/\(passes) benchmark \(k + 1)/\(ordered.count) \(name)")
                let spec = WorkerSpec(items: [.init(benchmark: name, benchTime: benchTime, warmup: true, repetitions: reps)],
                                      instruments: config.instruments, process: pass, runDirectory: config.runDirectory)
                let budget = config.timeoutSeconds + Self.expectedSeconds(plan.benchTime, repetitions: reps.count + 3)
                do {
                    let outcome = try WorkerProcess.run(executable: config.executable, spec: spec, timeoutSeconds: budget,
                                                        environment: config.environment) { partial in
                        results += partial.results
                    }
                    for line in outcome.stderrLines where seenWarnings.insert(line).inserted {
                        FileHandle.standardError.write(Data((line + "\n").utf8))
                    }
                    if let c = outcome.calibrated[name] { n[name] = c }
                    if case .iterations(let fixed) = plan.benchTime, n[name] == nil { n[name] = fixed }
                    for r in outcome.results { onResult?(r) }
                    results += outcome.results
                } catch let e as WorkerError {
                    failures[name] = e.description
                    FileHandle.standardError.write(Data("gobench: \(name): \(e.description)\n".utf8))
                }
            }
            if let hook = afterRound {
                for round in 0..<referenceRounds where round % passes == pass {
                    progress?("reference round \(round + 1)/\(referenceRounds)")
                    for r in try hook(round) {
                        results.append(r)
                        onResult?(r)
                    }
                }
            }
        }
        return results
    }

    /// A generous estimate of a worker's own work, for its timeout.
    static func expectedSeconds(_ benchTime: BenchTime, repetitions: Int) -> Double {
        switch benchTime {
        case .nanoseconds(let ns): return Double(ns) / 1e9 * Double(repetitions) * 20
        case .iterations: return 0
        }
    }
}
