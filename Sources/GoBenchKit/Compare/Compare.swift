// Comparing two sets of results, benchstat-style, with a verdict CI can act
// on. For every (benchmark, metric) present in both:
//   - medians and the delta of the new median against the base median;
//   - a two-sided Mann-Whitney U p-value;
//   - a verdict: a regression only when the change is significant
//     (p < alpha) AND worse than the benchmark's threshold. Exact metrics
//     (callgrind instruction counts) skip the test: any change beyond the
//     threshold counts. Metrics that describe conditions (better=none) are
//     shown but never judged. Event counts per op (context-switches/op,
//     waste-B/op...) that moved by less than `negligibleEventsPerOp` are
//     unchanged whatever their percentage: 1e-6 context switches per op
//     becoming 5e-6 is +400% and means nothing.
// A geomean row per metric summarises the ratios of the medians.

import Foundation

public enum Verdict: String, Sendable {
    case regression
    case improvement
    /// No significant change, or one within the threshold.
    case unchanged = "~"
    /// Too few repetitions for the test to ever reach significance.
    case insufficient = "too-few-reps"
    /// A run condition, reported only.
    case info
}

public struct ComparisonRow: Sendable {
    public var name: String
    public var unit: String
    public var better: Better
    public var exact: Bool
    public var base: Summary
    public var new: Summary
    /// (new - base) / base, in percent.
    public var deltaPercent: Double
    public var pValue: Double?
    public var threshold: Double
    public var verdict: Verdict
    /// Repetitions of this benchmark, on either side, that ran under
    /// markedly different conditions (DriftFlags).
    public var flaggedRepetitions: Int = 0
}

public struct Comparison: Sendable {
    public var rows: [ComparisonRow]
    /// Per unit: geomean of new/base median ratios, as a delta in percent.
    public var geomeans: [(unit: String, deltaPercent: Double, benchmarks: Int)]
    public var warnings: [String]

    public var hasRegression: Bool { rows.contains { $0.verdict == .regression } }
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

public enum Comparer {
    public static let defaultAlpha = 0.05

    /// Changes in an event count smaller than this many events per op are
    /// never a verdict.
    public static let negligibleEventsPerOp = 0.01

    /// Per-op counts of events or bytes, not times: "parks/op",
    /// "context-switches/op", "starvations/op", "waste-B/op"; not "ns/op",
    /// "cpu-ns/op" or "task-clock-ns/op". (A plain "ns/op" suffix test
    /// took "starvations/op" for a time.)
    public static func isEventCount(_ unit: String) -> Bool {
        unit.hasSuffix("/op") && unit != "ns/op" && !unit.hasSuffix("-ns/op")
    }

    /// Compares `new` against `base`. Throws a `FormatError` when they have
    /// no (benchmark, metric) in common.
    public static func compare(base: [RepetitionResult], new: [RepetitionResult],
                               thresholds: Thresholds = Thresholds(),
                               alpha: Double = defaultAlpha) throws -> Comparison {
        let baseGroups = Grouping.byBenchmarkAndMetric(base)
        let baseFlags = DriftFlags.flagged(base), newFlags = DriftFlags.flagged(new)
        func flaggedCount(_ impl: String, _ name: String) -> Int {
            let prefix = "\(impl)\u{0}\(name)\u{0}"
            return baseFlags.keys.filter { $0.hasPrefix(prefix) }.count + newFlags.keys.filter { $0.hasPrefix(prefix) }.count
        }
        var newByKey: [String: Grouping.Sample] = [:]
        for g in Grouping.byBenchmarkAndMetric(new) { newByKey["\(g.impl)\u{0}\(g.name)\u{0}\(g.unit)"] = g }
        var rows: [ComparisonRow] = []
        var warnings: [String] = []
        var tooFew = Set<String>()
        for b in baseGroups {
            guard let n = newByKey["\(b.impl)\u{0}\(b.name)\u{0}\(b.unit)"] else { continue }
            let bs = Statistics.summarize(b.values), ns = Statistics.summarize(n.values)
            let delta = bs.median == 0 ? (ns.median == 0 ? 0 : .infinity) : (ns.median - bs.median) / abs(bs.median) * 100
            let threshold = thresholds.percent(for: b.name)
            let exact = b.exact && n.exact
            let better = b.better
            var p: Double?
            let verdict: Verdict
            let negligible = isEventCount(b.unit) && abs(ns.median - bs.median) < negligibleEventsPerOp
            var worse = !negligible && ((better == .lower && delta > threshold) || (better == .higher && delta < -threshold))
            var improved = !negligible && ((better == .lower && delta < -threshold) || (better == .higher && delta > threshold))
            if exact && b.unit == AllocRule.unit {
                (worse, improved) = AllocRule.judge(base: bs.median, new: ns.median)
            }
            if better == .neither {
                verdict = .info
            } else if exact {
                verdict = worse ? .regression : improved ? .improvement : .unchanged
            } else {
                let test = MannWhitney(b.values, n.values)
                p = test.pValue
                if MannWhitney.minimumPValue(b.values.count, n.values.count) >= alpha {
                    verdict = .insufficient
                    tooFew.insert(b.name)
                } else if test.pValue < alpha && worse {
                    verdict = .regression
                } else if test.pValue < alpha && improved {
                    verdict = .improvement
                } else {
                    verdict = .unchanged
                }
            }
            rows.append(ComparisonRow(name: b.name, unit: b.unit, better: better, exact: exact,
                                      base: bs, new: ns, deltaPercent: delta, pValue: p,
                                      threshold: threshold, verdict: verdict,
                                      flaggedRepetitions: flaggedCount(b.impl, b.name)))
        }
        guard !rows.isEmpty else {
            throw FormatError("no benchmark and metric in common between the two result sets")
        }
        let shaky = rows.filter { ($0.verdict == .regression || $0.verdict == .improvement) && $0.flaggedRepetitions > 0 }
        if !shaky.isEmpty {
            warnings.append("these verdicts rest on repetitions run under markedly different conditions (steal, preemption or parallelism): "
                            + shaky.map { "\($0.name) \($0.unit) (\($0.flaggedRepetitions) flagged)" }.joined(separator: ", "))
        }
        if !tooFew.isEmpty {
            warnings.append("too few repetitions for a significant result (Mann-Whitney needs at least 4 per side at alpha \(alpha)): \(tooFew.sorted().joined(separator: ", "))")
        }
        var geomeans: [(String, Double, Int)] = []
        var units: [String] = []
        for r in rows where !units.contains(r.unit) && r.better != .neither { units.append(r.unit) }
        for u in units {
            let ratios = rows.filter { $0.unit == u && $0.base.median > 0 && $0.new.median > 0 }
                .map { $0.new.median / $0.base.median }
            if ratios.count >= 2, let g = Statistics.geomean(ratios) {
                geomeans.append((u, (g - 1) * 100, ratios.count))
            }
        }
        return Comparison(rows: rows, geomeans: geomeans.map { (unit: $0.0, deltaPercent: $0.1, benchmarks: $0.2) },
                          warnings: warnings)
    }

    /// The comparison as a console table.
    public static func table(_ c: Comparison) -> String {
        var rows: [[String]] = [["benchmark", "metric", "base", "±", "new", "±", "delta", "p", "threshold", "verdict"]]
        for r in c.rows {
            rows.append([r.name, r.unit,
                         GoText.formatValue(r.base.median), String(format: "%.1f%%", r.base.spreadPercent),
                         GoText.formatValue(r.new.median), String(format: "%.1f%%", r.new.spreadPercent),
                         String(format: "%+.2f%%", r.deltaPercent),
                         r.pValue.map { String(format: "%.3f", $0) } ?? (r.exact ? "exact" : "-"),
                         String(format: "%.0f%%", r.threshold),
                         r.verdict.rawValue + (r.flaggedRepetitions > 0 ? " (\(r.flaggedRepetitions) flagged)" : "")])
        }
        for g in c.geomeans {
            rows.append(["[geomean]", g.unit, "", "", "", "", String(format: "%+.2f%%", g.deltaPercent), "", "",
                         "\(g.benchmarks) benchmarks"])
        }
        return Console.table(rows, leftAligned: 2)
    }

    /// The comparison as CSV, one row per benchmark and metric plus the
    /// geomean rows (name "[geomean]").
    public static func csv(_ c: Comparison) -> String {
        var out = CSV.row(["name", "metric", "unit", "better", "base_median", "base_low", "base_high", "base_n",
                           "new_median", "new_low", "new_high", "new_n", "delta_pct", "p_value", "threshold_pct", "verdict", "flagged_reps"])
        for r in c.rows {
            out += CSV.row([r.name, Metric(0, unit: r.unit).name, r.unit, r.better.rawValue,
                            CSV.number(r.base.median), CSV.number(r.base.low), CSV.number(r.base.high), String(r.base.count),
                            CSV.number(r.new.median), CSV.number(r.new.low), CSV.number(r.new.high), String(r.new.count),
                            CSV.number(r.deltaPercent), r.pValue.map(CSV.number) ?? "",
                            CSV.number(r.threshold), r.verdict.rawValue, String(r.flaggedRepetitions)])
        }
        for g in c.geomeans {
            out += CSV.row(["[geomean]", Metric(0, unit: g.unit).name, g.unit, "", "", "", "", "", "", "", "", "",
                            CSV.number(g.deltaPercent), "", "", "", ""])
        }
        return out
    }
}

/// allocs/op (issue 23): allocation counts of deterministic code do not
/// vary, so one whole allocation per op more is a regression whatever the
/// percent threshold, and a change of less than one (a per-thread first
/// use amortized over n) is no change.
enum AllocRule {
    static let unit = "allocs/op"

    static func judge(base: Double, new: Double) -> (worse: Bool, improved: Bool) {
        let tolerance = 1e-6
        return (new - base >= 1 - tolerance, base - new >= 1 - tolerance)
    }
}
