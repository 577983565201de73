// What the sampler costs the code it samples, measured paired in one
// process (`gobench profile-overhead`).
//
// Why not two runs, with and without --profile: `gobench run` puts every
// repetition in a fresh worker process, while `--profile` runs them all in
// the gobench process (one profiler gathers every sample). The two sides
// then differ in far more than the sampler: process layout, heap and page
// state, the calibrated n, what ran before in the same process. Issue 22's
// +4-8% "overhead" at 997 Hz was 50-75 us per sample, more than the same
// method's apparent cost per sample at 9,973 Hz: mostly that difference,
// not the sampler.
//
// Here both sides are repetitions of the same benchmark, in this process,
// at the same n (one calibration, unsampled), made by the same Runner
// code; the only difference is the profiler instrument attached to the
// sampled side. Stages of `OverheadRun.run`:
//   1. calibrate each benchmark once (Go's rule; the last calibration run
//      is the warm-up), without the sampler;
//   2. run the schedule (`OverheadSchedule`): block k holds, for every
//      benchmark and every arm (a sampler configuration, or the A/A
//      control), one pair of repetitions: unsampled and sampled, adjacent.
//      Arms run in a seeded random order within each block; within a pair
//      the order alternates ABBA across blocks (base first in even
//      blocks, sampled first in odd ones), so a first-run or second-run
//      effect cancels over an even number of pairs;
//   3. per benchmark and arm: the ratio sampled / unsampled of ns/op and
//      of cpu-ns/op, as Yuen's 20%-trimmed mean of the pairs' log ratios
//      with its 95% t interval (TrimmedMeanTest, the verdicts' test);
//   4. per sampled arm: symbolize its samples once, and report the
//      achieved rate (samples per second of sampled thread CPU time) and
//      the stack accuracy: the share of samples whose caller chain reaches
//      the benchmark body (a frame of the runner's worker closure,
//      `Runner.measure`, which calls the body).
// The A/A control arm pairs two unsampled repetitions: its interval must
// contain 1.0, or the pairing itself is biased.

import Foundation

/// One side of a pair: a sampler configuration, or none (the A/A control).
public struct OverheadArm: Sendable, Equatable, CustomStringConvertible {
    public var sampler: SamplerConfig?

    public init(_ sampler: SamplerConfig?) { self.sampler = sampler }

    /// The A/A control: both repetitions of each pair unsampled.
    public static let control = OverheadArm(nil)

    public var unwinderName: String { sampler?.unwinder.rawValue ?? "none (A/A)" }
    public var description: String {
        sampler.map { "\($0.unwinder.rawValue)@\($0.hz)Hz" } ?? "none (A/A)"
    }
}

/// One pair of the schedule.
public struct OverheadStep: Sendable, Equatable {
    public var block: Int
    public var benchmark: Int
    public var arm: Int
    /// The sampled repetition runs first (odd blocks).
    public var sampledFirst: Bool
}

/// The order of the pairs (stage 2 above), as a pure function of its
/// sizes and seed.
public enum OverheadSchedule {
    public static func steps(benchmarks: Int, arms: Int, pairs: Int, seed: UInt64) -> [OverheadStep] {
        var g = SplitMix64(seed: seed)
        var out: [OverheadStep] = []
        out.reserveCapacity(benchmarks * arms * pairs)
        for block in 0..<pairs {
            for b in 0..<benchmarks {
                for a in Array(0..<arms).shuffled(using: &g) {
                    out.append(OverheadStep(block: block, benchmark: b, arm: a, sampledFirst: block % 2 == 1))
                }
            }
        }
        return out
    }
}

/// A ratio sampled / unsampled with its 95% interval.
public struct OverheadEstimate: Sendable, Equatable {
    public var pairs: Int
    /// exp of the trimmed mean of the log ratios.
    public var ratio: Double
    public var low: Double
    public var high: Double
    public var pValue: Double

    /// From paired values (same index, same pair). Nil when there are
    /// fewer than 2 pairs, the lengths differ, or a value is not positive.
    public init?(base: [Double], sampled: [Double], confidence: Double = 0.95) {
        guard base.count == sampled.count, base.count >= 2,
              !base.contains(where: { !($0 > 0) || !$0.isFinite }),
              !sampled.contains(where: { !($0 > 0) || !$0.isFinite }) else { return nil }
        let logs = zip(sampled, base).map { log($0 / $1) }
        guard let t = TrimmedMeanTest(logRatios: logs) else { return nil }
        let q = StudentT.quantile(1 - (1 - confidence) / 2, df: max(t.degreesOfFreedom, 1))
        pairs = base.count
        ratio = exp(t.effect)
        low = exp(t.effect - q * t.standardError)
        high = exp(t.effect + q * t.standardError)
        pValue = t.pValue
    }

    /// "+0.42% [-0.10, +0.95]".
    public var text: String {
        String(format: "%+.2f%% [%+.2f, %+.2f]", (ratio - 1) * 100, (low - 1) * 100, (high - 1) * 100)
    }
}

/// One benchmark under one arm.
public struct OverheadRow: Sendable {
    public var benchmark: String
    public var arm: OverheadArm
    public var wall: OverheadEstimate?
    public var cpu: OverheadEstimate?
    /// Sampled arms only: samples, achieved rate, stack accuracy.
    public var samples = 0
    public var achievedHz: Double?
    public var reachesBody: Double?
    public var lost = 0
    public var sources: [String] = []

    /// Extra thread CPU time per sample, from the cpu-ns/op ratio and the
    /// achieved rate: (ratio - 1) / rate. Nil unless the cpu-ns/op
    /// interval excludes 1 (a cost per sample from an overhead that is not
    /// there would be noise divided by the rate).
    public var cpuMicrosecondsPerSample: Double? {
        guard let c = cpu, c.low > 1 || c.high < 1, let hz = achievedHz, hz > 0 else { return nil }
        return (c.ratio - 1) / hz * 1e6
    }
}

public struct OverheadReport: Sendable {
    public var rows: [OverheadRow]
    public var context: [(key: String, value: String)]

    public func table() -> String {
        var out = context.map { "\($0.key): \($0.value)\n" }.joined()
        out += "ratio sampled/unsampled - 1, Yuen 20%-trimmed mean of paired log ratios, [95% CI]\n"
        let header = ["benchmark", "unwind", "Hz", "pairs", "ns/op", "cpu-ns/op", "achieved Hz", "reach body", "cpu-us/sample"]
        var lines = [header]
        for r in rows {
            lines.append([
                r.benchmark, r.arm.unwinderName, r.arm.sampler.map { "\($0.hz)" } ?? "-",
                "\(r.wall?.pairs ?? 0)", r.wall?.text ?? "-", r.cpu?.text ?? "-",
                r.achievedHz.map { String(format: "%.0f", $0) } ?? "-",
                r.reachesBody.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                r.cpuMicrosecondsPerSample.map { String(format: "%.2f", $0) } ?? "-",
            ])
        }
        let widths = header.indices.map { i in lines.map { $0[i].count }.max() ?? 0 }
        for l in lines {
            out += l.enumerated().map { i, s in
                i == 0 || i == 1 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - s.count) + s
            }.joined(separator: "  ") + "\n"
        }
        return out
    }

    public func csv() -> String {
        var out = "benchmark,unwind,hz,pairs,wall_ratio,wall_low,wall_high,cpu_ratio,cpu_low,cpu_high,samples,achieved_hz,reach_body,lost\n"
        func f(_ x: Double?) -> String { x.map { String(format: "%.6f", $0) } ?? "" }
        for r in rows {
            out += [CSV.field(r.benchmark), r.arm.sampler?.unwinder.rawValue ?? "none", r.arm.sampler.map { "\($0.hz)" } ?? "",
                    "\(r.wall?.pairs ?? 0)", f(r.wall?.ratio), f(r.wall?.low), f(r.wall?.high),
                    f(r.cpu?.ratio), f(r.cpu?.low), f(r.cpu?.high), "\(r.samples)", f(r.achievedHz),
                    f(r.reachesBody), "\(r.lost)"].joined(separator: ",") + "\n"
        }
        return out
    }
}

/// Stages 1-4 above.
public final class OverheadRun {
    public let benchmarks: [Benchmark]
    public let arms: [OverheadArm]
    public let pairs: Int
    public let benchTime: BenchTime
    public let seed: UInt64
    /// A status line before each run (the console shows it on a terminal).
    public var progress: ((String) -> Void)?

    public init(benchmarks: [Benchmark], arms: [OverheadArm], pairs: Int, benchTime: BenchTime, seed: UInt64) {
        self.benchmarks = benchmarks
        self.arms = arms
        self.pairs = pairs
        self.benchTime = benchTime
        self.seed = seed
    }

    /// A frame name of the runner's worker closure, which calls the body:
    /// a stack that reaches it passed through the benchmark body.
    public static let bodyCallerMarker = "Runner.measure"

    /// The benchmark column of the rows pooled over every benchmark.
    public static let pooledName = "(all, pooled)"

    /// Whether a folded stack (root first) reaches the benchmark body.
    public static func reachesBody(_ stack: [String]) -> Bool {
        stack.contains { $0.contains(bodyCallerMarker) }
    }

    public func run() -> OverheadReport {
        let loadBefore = OverheadRun.loadAverage()
        let started = Date()
        // Stage 1.
        let base = Runner()
        var ns: [Int] = []
        for b in benchmarks {
            progress?("calibrating \(b.name)")
            ns.append(base.calibrate(BenchmarkPlan(b, benchTime: benchTime, count: 1)))
        }
        let profilers: [Profiler?] = arms.map { arm in
            arm.sampler.map { c in
                let p = Profiler(config: c)
                p.log = { _ in }
                return p
            }
        }
        let sampledRunners = profilers.map { p in Runner(instruments: p.map { [$0 as Instrument] } ?? []) }

        // Stage 2: values[benchmark][arm] = (base, sampled) per unit.
        struct Sides { var wallBase: [Double] = [], wallSampled: [Double] = [], cpuBase: [Double] = [], cpuSampled: [Double] = [] }
        var sides = [[Sides]](repeating: [Sides](repeating: Sides(), count: arms.count), count: benchmarks.count)
        let steps = OverheadSchedule.steps(benchmarks: benchmarks.count, arms: arms.count, pairs: pairs, seed: seed)
        for (i, s) in steps.enumerated() {
            let b = benchmarks[s.benchmark]
            progress?("pair \(s.block + 1)/\(pairs) \(arms[s.arm]) \(b.name) (\(i + 1)/\(steps.count))")
            let sampledRunner = sampledRunners[s.arm]
            var unsampled: RepetitionResult?, sampled: RepetitionResult?
            for side in s.sampledFirst ? [true, false] : [false, true] {
                let r = (side ? sampledRunner : base).runRepetition(b, n: ns[s.benchmark], repetition: s.block)
                if side { sampled = r } else { unsampled = r }
            }
            guard let u = unsampled, let v = sampled,
                  let uw = u.metric("ns/op")?.value, let vw = v.metric("ns/op")?.value,
                  let uc = u.metric("cpu-ns/op")?.value, let vc = v.metric("cpu-ns/op")?.value else { continue }
            sides[s.benchmark][s.arm].wallBase.append(uw)
            sides[s.benchmark][s.arm].wallSampled.append(vw)
            sides[s.benchmark][s.arm].cpuBase.append(uc)
            sides[s.benchmark][s.arm].cpuSampled.append(vc)
        }

        // Stages 3 and 4.
        var rows: [OverheadRow] = []
        var symbolizeSeconds = 0.0
        for (a, arm) in arms.enumerated() {
            progress?("symbolizing \(arm)")
            let t0 = Date()
            let profiles = profilers[a].map { p in Dictionary(p.profiles().map { ($0.benchmark, $0) }, uniquingKeysWith: { x, _ in x }) }
            symbolizeSeconds += Date().timeIntervalSince(t0)
            for (bi, b) in benchmarks.enumerated() {
                let s = sides[bi][a]
                var row = OverheadRow(benchmark: b.name, arm: arm,
                                      wall: OverheadEstimate(base: s.wallBase, sampled: s.wallSampled),
                                      cpu: OverheadEstimate(base: s.cpuBase, sampled: s.cpuSampled))
                if let p = profiles?[b.name] {
                    row.samples = p.raw.stats.samples
                    row.achievedHz = p.achievedHz
                    row.lost = p.raw.stats.lost
                    row.sources = p.raw.sources.sorted()
                    let total = p.folded.total
                    let reach = p.folded.counts.filter { OverheadRun.reachesBody($0.key) }.values.reduce(0, +)
                    row.reachesBody = total > 0 ? Double(reach) / Double(total) : nil
                }
                rows.append(row)
            }
            // Pooled over the benchmarks: every pair of every benchmark one
            // unit (their log ratios share one distribution under the
            // hypothesis that the sampler costs the same share of CPU
            // everywhere; per-benchmark rows above show where it does not).
            if benchmarks.count > 1 {
                let all = sides.map { $0[a] }
                var row = OverheadRow(benchmark: OverheadRun.pooledName, arm: arm,
                                      wall: OverheadEstimate(base: all.flatMap(\.wallBase), sampled: all.flatMap(\.wallSampled)),
                                      cpu: OverheadEstimate(base: all.flatMap(\.cpuBase), sampled: all.flatMap(\.cpuSampled)))
                let mine = rows.filter { $0.arm == arm && $0.benchmark != OverheadRun.pooledName }
                row.samples = mine.map(\.samples).reduce(0, +)
                row.lost = mine.map(\.lost).reduce(0, +)
                if let p = profiles {
                    let cpu = p.values.map { Double($0.raw.cpuNanoseconds) }.reduce(0, +)
                    let periods = p.values.map { Double($0.raw.stats.periods) }.reduce(0, +)
                    row.achievedHz = cpu > 0 ? periods / (cpu / 1e9) : nil
                    let total = p.values.map(\.folded.total).reduce(0, +)
                    let reach = p.values.map { $0.folded.counts.filter { OverheadRun.reachesBody($0.key) }.values.reduce(0, +) }
                        .reduce(0, +)
                    row.reachesBody = total > 0 ? Double(reach) / Double(total) : nil
                }
                rows.append(row)
            }
        }
        let loadAfter = OverheadRun.loadAverage()
        let env = RunEnvironment.capture(date: started)
        var context: [(key: String, value: String)] = []
        for k in ["cpu", "cpu-vendor", "cpu-family", "cpu-model", "cpu-stepping", "hypervisor", "cores", "kernel", "git", "date"] { if let v = env[k] { context.append((k, v)) } }
        context.append(("mode", "one process, both sides of every pair at the same n; arms in seeded random order per block, ABBA within pairs"))
        context.append(("bench time", "\(benchTime)"))
        context.append(("pairs", "\(pairs) per benchmark and arm, seed \(seed)"))
        context.append(("load", "\(loadBefore) before, \(loadAfter) after (1/5/15 min)"))
        context.append(("elapsed", String(format: "%.1fs (symbolization %.1fs)", Date().timeIntervalSince(started), symbolizeSeconds)))
        return OverheadReport(rows: rows, context: context)
    }

    /// /proc/loadavg's three averages.
    static func loadAverage() -> String {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return s.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
