// Comparing two sets of results, benchstat-style, with a verdict CI can act
// on. For every (series, metric) present in both, the evidence is:
//   - the medians, and their order-statistic intervals for the table;
//   - one value per worker process per side (the mean log of its
//     repetitions: the process is the unit of replication, since the
//     repetitions of one process share its address-space layout and heap
//     state), or one per repetition where the file records no processes;
//   - Yuen's trimmed-mean test on those values (TrimmedMeanTest): the
//     effect as a ratio, a p-value, and the smallest effect the test could
//     detect at this noise.
// VerdictPolicy then decides all rows together (which are judged, the
// error control over the family, thresholds, detectable effects). A
// geomean row per metric summarises the ratios of the medians.

import Foundation

public struct ComparisonRow: Sendable {
    public var key: MetricKey
    public var kind: MetricKind
    public var better: Better
    public var base: Summary
    public var new: Summary
    /// The estimated change, new / base - 1, in percent.
    public var deltaPercent: Double
    /// The test's p-value before and after the family-wise adjustment.
    public var pValue: Double?
    public var adjustedP: Double?
    public var threshold: Double
    /// The smallest change this row could detect (percent), and from what.
    public var detectable: Double?
    public var detectableSource: String?
    public var verdict: Verdict
    public var note: String?
    /// Repetitions of this benchmark, on either side, that ran under
    /// markedly different conditions (DriftFlags).
    public var flaggedRepetitions: Int = 0

    public var name: String { key.name }
    public var unit: String { key.unit }
    public var exact: Bool { kind == .exact }
}

public struct Comparison: Sendable {
    public var rows: [ComparisonRow]
    /// Per unit: geomean of new/base median ratios, as a delta in percent.
    public var geomeans: [(unit: String, deltaPercent: Double, benchmarks: Int)]
    public var warnings: [String]
    /// How the verdicts were reached, for the output's last lines.
    public var policy: String

    public var regressions: [ComparisonRow] { rows.filter { $0.verdict == .regression } }
    public var hasRegression: Bool { rows.contains { $0.verdict == .regression } }
}

/// One side of a comparison as `loadResultSet` reads it: the results and,
/// where the file or its context.json records one, the machine.
public struct ResultSet: Sendable {
    public var results: [RepetitionResult]
    public var environment: RunEnvironment
    public var machine: MachineFingerprint?
    public var path: String

    public init(results: [RepetitionResult], environment: RunEnvironment = RunEnvironment(),
                machine: MachineFingerprint? = nil, path: String = "") {
        self.results = results
        self.environment = environment
        self.machine = machine ?? MachineFingerprint(context: environment)
        self.path = path
    }
}

public enum Comparer {
    public static let defaultAlpha = 0.05

    /// Checks that two sides were measured on one machine. Throws a
    /// one-line MachineMismatchError naming the fields that differ, unless
    /// `crossMachine`, which returns true ("timings are information only").
    /// Two sides that both lack a fingerprint (Go's own text) are taken as
    /// they are, with a warning.
    public static func checkMachines(_ a: ResultSet, _ b: ResultSet, crossMachine: Bool,
                                     warnings: inout [String]) throws -> Bool {
        switch (a.machine, b.machine) {
        case (nil, nil):
            warnings.append("neither side records a machine fingerprint: cannot check that both ran on one machine")
            return false
        case (let x?, let y?) where x.hash == y.hash:
            return false
        case (let x?, let y?):
            let why = x.differences(from: y).joined(separator: ", ")  // base's value first
            if crossMachine {
                warnings.append("different machines (\(why)): timings are shown, not judged; exact metrics are judged")
                return true
            }
            throw MachineMismatchError("cannot judge timings from different machines: \(why) (--cross-machine judges exact metrics only)")
        case (nil, _), (_, nil):
            let which = a.machine == nil ? "base" : "new"
            if crossMachine {
                warnings.append("the \(which) side records no machine fingerprint: timings are shown, not judged")
                return true
            }
            throw MachineMismatchError("the \(which) side (\(which == "base" ? a.path : b.path)) records no machine fingerprint, so its timings cannot be matched to the other side's machine (--cross-machine judges exact metrics only)")
        }
    }

    /// Compares `new` against `base`. Throws a `FormatError` when they have
    /// no (series, metric) in common.
    public static func compare(base: [RepetitionResult], new: [RepetitionResult],
                               policy: VerdictPolicy = VerdictPolicy()) throws -> Comparison {
        let baseSamples = Grouping.byBenchmarkAndMetric(base)
        var newByKey: [MetricKey: Sample] = [:]
        for s in Grouping.byBenchmarkAndMetric(new) { newByKey[s.key] = s }
        let baseFlags = DriftFlags.flaggedCounts(base), newFlags = DriftFlags.flaggedCounts(new)

        var pairs: [(Sample, Sample)] = []
        for b in baseSamples { if let n = newByKey[b.key] { pairs.append((b, n)) } }
        guard !pairs.isEmpty else {
            throw FormatError("no benchmark and metric in common between the two result sets")
        }
        let evidence = pairs.map { evidenceFor(base: $0.0, new: $0.1) }
        let decisions = policy.decide(evidence)
        var rows: [ComparisonRow] = []
        for (i, (b, n)) in pairs.enumerated() {
            let e = evidence[i], d = decisions[i]
            rows.append(ComparisonRow(key: b.key, kind: e.kind, better: e.better,
                                      base: Statistics.summarize(b.values), new: Statistics.summarize(n.values),
                                      deltaPercent: e.deltaPercent, pValue: e.pValue, adjustedP: d.adjustedP,
                                      threshold: d.threshold, detectable: d.detectable,
                                      detectableSource: d.detectableSource, verdict: d.verdict, note: d.note,
                                      flaggedRepetitions: baseFlags[b.key.series, default: 0] + newFlags[b.key.series, default: 0]))
        }
        var warnings: [String] = []
        let shaky = rows.filter { ($0.verdict == .regression || $0.verdict == .improvement) && $0.flaggedRepetitions > 0 }
        if !shaky.isEmpty {
            warnings.append("these verdicts rest on repetitions run under markedly different conditions (steal, preemption or parallelism): "
                            + shaky.map { "\($0.key.series) \($0.unit) (\($0.flaggedRepetitions) flagged)" }.joined(separator: ", "))
        }
        let tooFew = Set(rows.filter { $0.verdict == .insufficient }.map(\.name))
        if !tooFew.isEmpty {
            warnings.append("too few processes for a test (at least 2 per side): \(tooFew.sorted().joined(separator: ", "))")
        }
        let underpowered = rows.filter { $0.verdict == .underpowered }
        if !underpowered.isEmpty {
            warnings.append("\(underpowered.count) row(s) could not detect a change of their threshold's size at this noise: "
                            + "more repetitions (--count) or processes would")
        }
        return Comparison(rows: rows, geomeans: geomeans(rows), warnings: warnings, policy: policy.description)
    }

    /// The evidence for one row: unit values per process, the test, the MDE.
    static func evidenceFor(base b: Sample, new n: Sample) -> Evidence {
        let bm = Statistics.median(b.values), nm = Statistics.median(n.values)
        let medianRatio = bm == 0 ? (nm == 0 ? 1 : .infinity) : nm / bm
        let useLogs = b.kind == .time && b.values.allSatisfy { $0 > 0 } && n.values.allSatisfy { $0 > 0 }
        let bu = unitValues(b, logs: useLogs), nu = unitValues(n, logs: useLogs)
        var test: TrimmedMeanTest?
        var ratio = medianRatio
        let varies = b.kind == .exact && (Set(b.values).count > 1 || Set(n.values).count > 1)
        if b.kind == .time || b.kind == .count || varies, b.better != .neither {
            // On logs for times (the effect is a ratio); on the raw values
            // for counts, which may be 0 (the effect is a difference, and
            // the ratio stays the ratio of medians).
            test = TrimmedMeanTest(logBase: bu, logNew: nu)
            if useLogs, let t = test { ratio = exp(t.effect) }
        }
        var e = Evidence(key: b.key, kind: b.kind, better: b.better, baseMedian: bm, newMedian: nm,
                         ratio: ratio, test: test, onLogScale: useLogs, units: (bu.count, nu.count))
        e.varies = varies
        return e
    }

    /// One value per worker process (the mean of its repetitions, of their
    /// logs when `logs`), or every value where processes are unknown.
    public static func unitValues(_ s: Sample, logs: Bool) -> [Double] {
        let values = logs ? s.values.map { log($0) } : s.values
        guard s.processes.contains(where: { $0 != nil }) else { return values }
        var order: [Int] = []
        var groups: [Int: [Double]] = [:]
        for (v, p) in zip(values, s.processes) {
            let k = p ?? -1 - order.count  // an unknown process is its own unit
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(v)
        }
        return order.map { groups[$0]!.reduce(0, +) / Double(groups[$0]!.count) }
    }

    static func geomeans(_ rows: [ComparisonRow]) -> [(unit: String, deltaPercent: Double, benchmarks: Int)] {
        var units: [String] = []
        for r in rows where !units.contains(r.unit) && r.better != .neither { units.append(r.unit) }
        return units.compactMap { u in
            let ratios = rows.filter { $0.unit == u && $0.base.median > 0 && $0.new.median > 0 }
                .map { $0.new.median / $0.base.median }
            guard ratios.count >= 2, let g = Statistics.geomean(ratios) else { return nil }
            return (unit: u, deltaPercent: (g - 1) * 100, benchmarks: ratios.count)
        }
    }

    /// The verdict column: the verdict, and for info rows why.
    static func verdictText(_ v: Verdict, note: String?, flagged: Int) -> String {
        var s = v == .info ? "-" : v.rawValue
        if flagged > 0 && v != .info { s += " (\(flagged) flagged)" }
        return s
    }

    /// The comparison as a console table: judged rows, then (with
    /// `showAll`) the rows shown but not judged.
    public static func table(_ c: Comparison, showAll: Bool = false) -> String {
        var rows: [[String]] = [["benchmark", "metric", "base", "±", "new", "±", "delta", "p", "q", "threshold", "detectable", "verdict"]]
        for r in c.rows where showAll || r.verdict != .info {
            rows.append([r.key.series.description, r.unit,
                         GoText.formatValue(r.base.median), String(format: "%.1f%%", r.base.spreadPercent),
                         GoText.formatValue(r.new.median), String(format: "%.1f%%", r.new.spreadPercent),
                         String(format: "%+.2f%%", r.deltaPercent),
                         r.pValue.map { String(format: "%.3g", $0) } ?? (r.exact ? "exact" : "-"),
                         r.adjustedP.map { String(format: "%.3g", $0) } ?? "-",
                         String(format: "%.0f%%", r.threshold),
                         r.detectable.map { String(format: "≥%.1f%%", $0) } ?? "-",
                         verdictText(r.verdict, note: r.note, flagged: r.flaggedRepetitions)])
        }
        for g in c.geomeans {
            rows.append(["[geomean]", g.unit, "", "", "", "", String(format: "%+.2f%%", g.deltaPercent), "", "", "", "",
                         "\(g.benchmarks) benchmarks"])
        }
        let hidden = c.rows.filter { $0.verdict == .info }.count
        return Console.table(rows, leftAligned: 2)
            + (hidden > 0 && !showAll ? "(\(hidden) rows shown in the CSV only: run conditions, counters and other metrics that are not judged)\n" : "")
            + c.policy + "\n"
    }

    /// The comparison as CSV, one row per benchmark and metric plus the
    /// geomean rows (name "[geomean]").
    public static func csv(_ c: Comparison) -> String {
        var out = CSV.row(["name", "impl", "metric", "unit", "kind", "better", "base_median", "base_low", "base_high", "base_n",
                           "new_median", "new_low", "new_high", "new_n", "delta_pct", "p_value", "q_value", "threshold_pct",
                           "detectable_pct", "detectable_source", "verdict", "note", "flagged_reps"])
        for r in c.rows {
            out += CSV.row([r.name, r.key.implementation.rawValue, Metric.shortName(r.unit), r.unit, r.kind.rawValue, r.better.rawValue,
                            CSV.number(r.base.median), CSV.number(r.base.low), CSV.number(r.base.high), String(r.base.count),
                            CSV.number(r.new.median), CSV.number(r.new.low), CSV.number(r.new.high), String(r.new.count),
                            CSV.number(r.deltaPercent), r.pValue.map(CSV.number) ?? "", r.adjustedP.map(CSV.number) ?? "",
                            CSV.number(r.threshold), r.detectable.map(CSV.number) ?? "", r.detectableSource ?? "",
                            r.verdict.rawValue, r.note ?? "", String(r.flaggedRepetitions)])
        }
        for g in c.geomeans {
            out += CSV.row(["[geomean]", "", Metric.shortName(g.unit), g.unit, "", "", "", "", "", "", "", "", "", "",
                            CSV.number(g.deltaPercent), "", "", "", "", "", "", "", ""])
        }
        return out
    }
}
