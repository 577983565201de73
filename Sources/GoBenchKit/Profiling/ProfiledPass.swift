// `gobench all`'s profiled pass: after the timed repetitions, one more
// repetition of every benchmark with the sampler attached, so that every
// run folder has profiles/ while the timed figures stay unperturbed (the
// sampler slows sampled code by a few percent: see the README).
//
// Stages:
//   1. for each plan, the n its timed repetitions used (from the results);
//   2. one repetition at that n with only the profiler attached; its
//      metrics are dropped, it is not a result;
//   3. the profiler writes <run>/profiles/ as `--profile` would
//      (per benchmark .folded, .pb.gz, .svg; _all.folded/.svg; summary.txt).
//
// It uses the Runner's public `runRepetition` only, so it does not depend
// on how the session runs or reports the timed repetitions.

import Foundation

public enum ProfiledPass {
    public struct Outcome: Sendable {
        public var benchmarks: Int
        /// Wall seconds of the whole pass: sampling, symbolizing, writing.
        public var seconds: Double
        /// Of which symbolization.
        public var symbolizeSeconds: Double
        public var directory: String
    }

    /// Runs the pass for `plans` whose timed repetitions gave `results`,
    /// writing into `runDirectory`/profiles. Benchmarks with no timed
    /// result are skipped. `progress` gets a status line per benchmark.
    @discardableResult
    public static func run(_ plans: [BenchmarkPlan], results: [RepetitionResult], config: SamplerConfig = SamplerConfig(),
                           granularity: FoldedStacks.Granularity = .function, runDirectory: String,
                           progress: ((String) -> Void)? = nil,
                           log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        throws -> Outcome {
        let t0 = monotonicNanos()
        let profiler = Profiler(config: config)
        profiler.granularity = granularity
        // One line instead of one per benchmark: summary.txt has them all.
        profiler.log = { _ in }
        let runner = Runner(instruments: [profiler])
        var done = 0
        for plan in plans {
            guard let n = results.first(where: { $0.name == plan.benchmark.name && $0.impl != "go" })?.n else { continue }
            progress?("profiling \(plan.benchmark.name)")
            _ = runner.runRepetition(plan.benchmark, n: n, repetition: 0)
            done += 1
        }
        try profiler.finish(runDirectory: runDirectory)
        let outcome = Outcome(benchmarks: done, seconds: Double(monotonicNanos() - t0) / 1e9,
                              symbolizeSeconds: profiler.lastSymbolization.seconds,
                              directory: "\(runDirectory)/profiles")
        log(String(format: "profiles: %@/ (one profiled repetition of %d benchmarks, not in the timings: %.1f s, of which symbolizing %.2f s)",
                   outcome.directory, done, outcome.seconds, outcome.symbolizeSeconds))
        return outcome
    }
}
