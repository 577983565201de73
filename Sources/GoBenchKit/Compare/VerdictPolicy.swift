// The one verdict policy: how `compare`, `ab` and the CI scripts turn two
// sets of measurements into regression, improvement or no change. Both
// comparisons gather evidence per (series, metric) row, then hand all rows
// to `decide` at once, because the error control is over the whole family.
//
// Stages of `decide`:
//   1. which rows are judged: by default only primary metrics (ns/op,
//      cpu-ns/op, instructions/op, allocs/op, B/op, and what a benchmark
//      declares primary); run conditions never; anything else only when
//      the suite names it (`metrics = [...]`), and nothing of a benchmark
//      the suite marks `judge = false`. Rows not judged are shown as info.
//   2. timings from two machines: when the fingerprints differ, time and
//      count rows become info (`--cross-machine`); exact rows stay judged.
//   3. exact rows (instructions/op, deterministic counts) need no test: a
//      change beyond the threshold is real. allocs/op is judged in whole
//      allocations: one more per op is a regression, at any percentage.
//      An exact row whose values differ between repetitions of one side is
//      not deterministic in fact (allocations of code with a random seed):
//      it goes through the test like a count, and must move by at least
//      one whole unit per op. An A/A run of the default suite called 11
//      such rows regressions before this rule (B/op of the allocator
//      ports, allocs/op of sched/steal); every timing row was quiet.
//   4. noisy rows (times, counts) carry a p-value from Yuen's trimmed-mean
//      test (TrimmedMeanTest) whose unit of replication is the worker
//      process. The p-values of all judged noisy rows are adjusted together:
//      Benjamini-Hochberg (the default) bounds the expected share of false
//      regressions among those reported at alpha; Holm bounds the chance
//      of any false one at alpha. A row is a regression when its adjusted
//      p is below alpha and its effect is worse than the effective
//      threshold.
//   5. the effective threshold is the larger of the suite's threshold and
//      the minimum detectable effect (MDE): what this test, at this noise
//      and this many processes, would detect with power 0.8 if it were the
//      only real change in the family (at alpha / rows for BH and Holm,
//      which is what their adjustment asks of a lone discovery). The noise is
//      the machine's noise profile (NoiseProfile, from `gobench calibrate
//      --suite`) where one exists for this fingerprint, else the sample's
//      own spread; the larger of the two when both exist. A row whose MDE
//      exceeds its threshold and that shows no significant change says so
//      (`underpowered`) instead of passing.
//   6. count rows that moved by less than 0.01 events per op are no
//      verdict, whatever the percentage (1e-6 context switches per op
//      becoming 5e-6 is +400% and means nothing).

import Foundation

/// How the p-values of a comparison's judged rows are adjusted together.
public enum ErrorControl: String, Sendable, Codable, CaseIterable {
    /// Benjamini-Hochberg step-up: controls the false discovery rate.
    case benjaminiHochberg = "bh"
    /// Holm's step-down: controls the family-wise error rate.
    case holm
    /// No adjustment: each row at alpha on its own (benchstat's behaviour).
    case none

    public var summary: String {
        switch self {
        case .benjaminiHochberg: return "Benjamini-Hochberg (false discovery rate)"
        case .holm: return "Holm (family-wise error rate)"
        case .none: return "none (each row at alpha alone)"
        }
    }
}

public enum Verdict: String, Sendable, Codable {
    case regression
    case improvement
    /// No significant change, or one within the threshold.
    case unchanged = "~"
    /// No significant change, but the test could not have detected a
    /// change of the threshold's size: the row is not a pass.
    case underpowered
    /// Too few values for any test (fewer than 2 processes per side).
    case insufficient = "too-few-reps"
    /// Shown, not judged: a run condition, a metric that is not primary,
    /// or a timing from another machine under --cross-machine.
    case info
}

/// Thresholds in percent per benchmark name, with a default.
public struct Thresholds: Sendable {
    public var defaultPercent: Double
    public var lookup: @Sendable (String) -> Double?

    public init(defaultPercent: Double = 5, lookup: @escaping @Sendable (String) -> Double? = { _ in nil }) {
        self.defaultPercent = defaultPercent
        self.lookup = lookup
    }

    public func percent(for name: String) -> Double { lookup(name) ?? defaultPercent }
}

/// What one row brings to the policy.
public struct Evidence: Sendable {
    public var key: MetricKey
    public var kind: MetricKind
    public var better: Better
    public var baseMedian: Double
    public var newMedian: Double
    /// The estimated new / base ratio: exp of the test's effect for a
    /// test on logs, else the ratio of medians.
    public var ratio: Double
    /// The test (noisy rows with enough values), and whether it ran on
    /// logs (its effect a log ratio) or on raw values (a difference).
    public var test: TrimmedMeanTest?
    public var onLogScale: Bool
    /// An exact metric whose values differ between repetitions of one side
    /// (allocation counts of non-deterministic code: a map whose overflow
    /// buckets follow its random seed, a per-thread cache amortized over
    /// n). It is judged as a noisy count, with a test, not as exact.
    public var varies = false
    public var pValue: Double? { test?.pValue }
    /// Independent units (processes) per side.
    public var units: (base: Int, new: Int)

    public init(key: MetricKey, kind: MetricKind, better: Better, baseMedian: Double, newMedian: Double,
                ratio: Double, test: TrimmedMeanTest?, onLogScale: Bool, units: (base: Int, new: Int)) {
        self.key = key
        self.kind = kind
        self.better = better
        self.baseMedian = baseMedian
        self.newMedian = newMedian
        self.ratio = ratio
        self.test = test
        self.onLogScale = onLogScale
        self.units = units
    }

    /// (new - base) / base in percent.
    public var deltaPercent: Double { (ratio - 1) * 100 }

    /// The smallest change (a fraction) the test would call significant at
    /// `alpha` with `power`, from the sample's own spread.
    public func sampleDetectable(alpha: Double, power: Double) -> Double? {
        guard let t = test else { return nil }
        let d = t.detectableLogEffect(alpha: alpha, power: power)
        if onLogScale { return exp(d) - 1 }
        return baseMedian > 0 ? d / baseMedian : nil
    }
}

/// What the policy decided for one row.
public struct Decision: Sendable {
    public var verdict: Verdict
    /// The p-value after adjustment over the family (nil: no test).
    public var adjustedP: Double?
    /// The suite's threshold, in percent.
    public var threshold: Double
    /// The smallest change this row could detect, in percent, and where
    /// the noise figure came from ("profile" or "sample").
    public var detectable: Double?
    public var detectableSource: String?
    /// Why the row is info, where it is.
    public var note: String?
}

public struct VerdictPolicy: Sendable {
    public var thresholds: Thresholds
    public var alpha: Double = 0.05
    public var errorControl: ErrorControl = .benjaminiHochberg
    /// Power the minimum detectable effect is computed for.
    public var power: Double = 0.8
    /// Units a benchmark declares primary (Benchmark.primaryMetrics).
    public var declaredPrimary: @Sendable (String) -> [String] = { _ in [] }
    /// Units a suite names to judge for a benchmark beyond the primary ones.
    public var suiteMetrics: @Sendable (String) -> [String] = { _ in [] }
    /// False for benchmarks a suite shows without judging.
    public var isJudged: @Sendable (String) -> Bool = { _ in true }
    /// The noise profile of this machine, if calibrated.
    public var noise: NoiseProfile?
    /// Timings are from two different machines: show them, judge only
    /// exact rows.
    public var crossMachine = false
    /// The threshold (percent) for exact rows, where set; else the suite's.
    /// An instruction-count gate wants a tighter one than timings do.
    public var exactThreshold: Double?

    /// Metrics judged for every benchmark.
    public static let primaryUnits: Set<String> = ["ns/op", "cpu-ns/op", "instructions/op", "allocs/op", "B/op"]
    /// Changes in a count smaller than this many events per op are never a
    /// verdict.
    public static let negligibleEventsPerOp = 0.01
    /// Exact counts judged in whole units: one more per op is a regression.
    public static let wholeUnitCounts: Set<String> = ["allocs/op"]
    /// Exact byte counts that must move by one whole byte per op.
    public static let wholeByteCounts: Set<String> = ["B/op"]

    public init(thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
    }

    /// A policy with a suite's thresholds, judged metrics and exclusions.
    public init(suite: Suite?, defaultThreshold: Double? = nil, registry: Registry? = nil) {
        let fallback = defaultThreshold ?? suite?.threshold ?? 5
        thresholds = Thresholds(defaultPercent: fallback) { name in suite?.entry(for: name)?.threshold }
        suiteMetrics = { name in (suite?.entry(for: name)?.metrics ?? []) + (suite?.metrics ?? []) }
        isJudged = { name in suite?.entry(for: name)?.judge ?? true }
        declaredPrimary = { name in registry?[name]?.primaryMetrics ?? [] }
    }

    /// Whether the metric of this row is judged at all (stage 1).
    public func judges(_ key: MetricKey, kind: MetricKind) -> Bool {
        guard kind != .condition, isJudged(key.name) else { return false }
        return Self.primaryUnits.contains(key.unit) || declaredPrimary(key.name).contains(key.unit)
            || suiteMetrics(key.name).contains(key.unit)
    }

    /// Decides every row of one comparison together.
    public func decide(_ rows: [Evidence]) -> [Decision] {
        // Stages 1-3: which rows get a test-based verdict.
        var decisions: [Decision] = rows.map { e in
            Decision(verdict: .info, adjustedP: nil, threshold: thresholds.percent(for: e.key.name))
        }
        var tested: [Int] = []
        for (i, e) in rows.enumerated() {
            guard judges(e.key, kind: e.kind), e.better != .neither else {
                decisions[i].note = e.kind == .condition ? "run condition" : "not a primary metric"
                continue
            }
            if e.kind == .exact && !e.varies {
                if let t = exactThreshold { decisions[i].threshold = t }
                decisions[i].verdict = exactVerdict(e, threshold: decisions[i].threshold)
                continue
            }
            if crossMachine {
                decisions[i].note = "timing from another machine"
                continue
            }
            if e.pValue == nil {
                decisions[i].verdict = .insufficient
                continue
            }
            tested.append(i)
        }

        // Stage 4: adjust the p-values over the family of tested rows.
        let adjusted = Self.adjust(tested.map { rows[$0].pValue! }, method: errorControl)
        // What a lone real change must reach to be reported: alpha over the
        // family for BH and Holm (their threshold for the single smallest
        // p), alpha itself without adjustment.
        let loneAlpha = errorControl == .none ? alpha : alpha / Double(max(tested.count, 1))
        for (k, i) in tested.enumerated() {
            let e = rows[i]
            var d = decisions[i]
            d.adjustedP = adjusted[k]
            // Stage 5: the effective threshold.
            var mde = e.sampleDetectable(alpha: loneAlpha, power: power)
            d.detectableSource = mde == nil ? nil : "sample"
            if let p = noise?.detectable(for: e.key, units: e.units, alpha: loneAlpha, power: power),
               p > (mde ?? 0) {
                mde = p
                d.detectableSource = "profile"
            }
            d.detectable = mde.map { $0 * 100 }
            let effective = max(d.threshold, d.detectable ?? 0)
            let delta = e.deltaPercent
            // Counts that moved by almost nothing are no verdict; an
            // allocation count that varies must still move by one whole
            // allocation (or byte) per op.
            let floor = e.kind == .exact && e.varies ? 1 : Self.negligibleEventsPerOp
            let negligible = (e.kind == .count || e.kind == .exact) && abs(e.newMedian - e.baseMedian) < floor
            let worse = !negligible && (e.better == .lower ? delta > effective : delta < -effective)
            let improved = !negligible && (e.better == .lower ? delta < -effective : delta > effective)
            let significant = adjusted[k] < alpha
            if significant && worse {
                d.verdict = .regression
            } else if significant && improved {
                d.verdict = .improvement
            } else if !negligible, let m = d.detectable, m > d.threshold {
                d.verdict = .underpowered
            } else {
                d.verdict = .unchanged
            }
            decisions[i] = d
        }
        return decisions
    }

    func exactVerdict(_ e: Evidence, threshold: Double) -> Verdict {
        if Self.wholeUnitCounts.contains(e.key.unit) {
            let change = e.newMedian - e.baseMedian
            let worse = e.better == .lower ? change >= 1 : change <= -1
            let better = e.better == .lower ? change <= -1 : change >= 1
            return worse ? .regression : better ? .improvement : .unchanged
        }
        // Bytes per op: a change under one byte per op is a fraction of an
        // allocation amortized over n (a per-span refill, a first use), and
        // n is calibrated anew in every run.
        if Self.wholeByteCounts.contains(e.key.unit) && abs(e.newMedian - e.baseMedian) < 1 { return .unchanged }
        let delta = e.deltaPercent
        let worse = e.better == .lower ? delta > threshold : delta < -threshold
        let improved = e.better == .lower ? delta < -threshold : delta > threshold
        return worse ? .regression : improved ? .improvement : .unchanged
    }

    /// Adjusted p-values in the input order.
    public static func adjust(_ p: [Double], method: ErrorControl) -> [Double] {
        let m = p.count
        guard m > 0 else { return [] }
        let order = p.indices.sorted { p[$0] < p[$1] }
        var out = [Double](repeating: 1, count: m)
        switch method {
        case .none:
            return p
        case .benjaminiHochberg:
            // q(i) = min over j >= i of p(j) * m / j, from the largest down.
            var running = 1.0
            for rank in stride(from: m, through: 1, by: -1) {
                let i = order[rank - 1]
                running = min(running, p[i] * Double(m) / Double(rank))
                out[i] = running
            }
        case .holm:
            // p(i) * (m - i + 1), made monotone from the smallest up.
            var running = 0.0
            for rank in 1...m {
                let i = order[rank - 1]
                running = max(running, min(1, p[i] * Double(m - rank + 1)))
                out[i] = running
            }
        }
        return out
    }

    /// One line for the output and `--help`: what was judged and how.
    public var description: String {
        "verdicts: primary metrics only; \(errorControl.summary) at alpha \(alpha); "
            + "a regression needs adjusted p < \(alpha) and a change beyond max(threshold, detectable effect at power \(power))"
    }
}
