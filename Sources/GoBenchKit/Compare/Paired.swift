// Paired comparison of two builds run alternately, round by round (`gobench
// ab`). Each round gives one base and one candidate value per benchmark and
// metric, each from a fresh worker process, measured seconds apart, so a
// slow drift of the machine cancels in the per-round ratio candidate /
// base. The round is the unit of replication. The evidence per row:
//   - the median ratio, with a distribution-free confidence interval from
//     order statistics (the sign-test interval, as for any median);
//   - Yuen's one-sample trimmed-mean test of the log ratios against 0
//     (TrimmedMeanTest), for the p-value and the detectable effect.
// VerdictPolicy decides all rows together, as for `compare`.
//
// WilcoxonSignedRank (exact for up to 30 rounds without ties, else the
// normal approximation with tie and continuity correction, as SciPy's
// `wilcoxon`) is kept as a second opinion in the CSV: its p cannot fall
// below 2 / 2^rounds, which no family-wise adjustment over a suite
// survives at ten rounds.

import Foundation

/// The Wilcoxon signed-rank test on differences `d` (zeros dropped).
public struct WilcoxonSignedRank: Sendable, Equatable {
    /// min(W+, W-), as SciPy reports it for the two-sided test.
    public var statistic: Double
    public var pValue: Double
    public var exact: Bool

    public init(_ d: [Double]) {
        let nz = d.filter { $0 != 0 }
        let n = nz.count
        guard n > 0 else {
            statistic = 0; pValue = 1; exact = true
            return
        }
        let (ranks, tieTerm) = Ranks.midranks(nz.map { abs($0) })
        var wPlus = 0.0
        for (k, d) in nz.enumerated() where d > 0 { wPlus += ranks[k] }
        let total = Double(n * (n + 1)) / 2
        let t = min(wPlus, total - wPlus)
        statistic = t
        if tieTerm == 0 && n <= 30 {
            exact = true
            // Number of subsets of {1..n} with each rank sum.
            var counts = [Double](repeating: 0, count: n * (n + 1) / 2 + 1)
            counts[0] = 1
            for r in 1...n {
                for s in stride(from: counts.count - 1, through: r, by: -1) { counts[s] += counts[s - r] }
            }
            let all = counts.reduce(0, +)
            var below = 0.0
            for s in 0...Int(t) { below += counts[s] }
            pValue = min(1, 2 * below / all)
        } else {
            exact = false
            let nn = Double(n)
            let mean = nn * (nn + 1) / 4
            let variance = nn * (nn + 1) * (2 * nn + 1) / 24 - tieTerm / 48
            if variance <= 0 {
                pValue = 1
            } else {
                let diff = t - mean
                let correction = diff > 0 ? 0.5 : (diff < 0 ? -0.5 : 0)
                let z = (diff - correction) / variance.squareRoot()
                pValue = min(1, 2 * Statistics.normalSF(abs(z)))
            }
        }
    }
}

public struct PairedRow: Sendable {
    public var key: MetricKey
    public var kind: MetricKind
    public var better: Better
    public var rounds: Int
    public var baseMedian: Double
    public var candidateMedian: Double
    /// Median of the per-round ratios candidate / base, and its interval.
    public var ratio: Summary
    public var pValue: Double?
    public var adjustedP: Double?
    /// The signed-rank test's p-value, for reference.
    public var wilcoxonP: Double?
    public var threshold: Double
    public var detectable: Double?
    public var detectableSource: String?
    public var verdict: Verdict
    public var note: String?
    public var flaggedRounds: Int

    public var name: String { key.name }
    public var unit: String { key.unit }
    public var exact: Bool { kind == .exact }
    public var deltaPercent: Double { (ratio.median - 1) * 100 }
}

public struct PairedComparison: Sendable {
    public var rows: [PairedRow]
    public var warnings: [String]
    public var policy: String
    public var hasRegression: Bool { rows.contains { $0.verdict == .regression } }
    public var regressions: [PairedRow] { rows.filter { $0.verdict == .regression } }

    /// Pairs base and candidate repetitions by (series, unit, repetition).
    public init(base: [RepetitionResult], candidate: [RepetitionResult],
                policy: VerdictPolicy = VerdictPolicy()) throws {
        var cand: [RepetitionKey: [String: Double]] = [:]
        for r in candidate { for m in r.metrics { cand[r.key, default: [:]][m.unit] = m.value } }
        let flags = DriftFlags.flagged(base).merging(DriftFlags.flagged(candidate)) { a, _ in a }
        struct Acc { var kind: MetricKind; var better: Better; var base: [Double] = []; var cand: [Double] = []; var flagged = 0 }
        var order: [MetricKey] = []
        var acc: [MetricKey: Acc] = [:]
        for r in base {
            let flagged = flags[r.key] != nil
            for m in r.metrics {
                guard let c = cand[r.key]?[m.unit] else { continue }
                let key = MetricKey(series: r.series, unit: m.unit)
                if acc[key] == nil { order.append(key); acc[key] = Acc(kind: m.kind, better: m.better) }
                acc[key]!.base.append(m.value)
                acc[key]!.cand.append(c)
                if flagged { acc[key]!.flagged += 1 }
            }
        }
        guard !order.isEmpty else { throw FormatError("no benchmark rounds in common between base and candidate") }
        var evidence: [Evidence] = []
        var summaries: [Summary] = []
        var wilcoxon: [Double?] = []
        for key in order {
            let a = acc[key]!
            let ratios = zip(a.cand, a.base).map { c, b in b == 0 ? (c == 0 ? 1 : .infinity) : c / b }
            let summary = Statistics.summarize(ratios)
            summaries.append(summary)
            let logs = ratios.filter { $0 > 0 && $0.isFinite }.map { log($0) }
            var test: TrimmedMeanTest?
            var ratio = summary.median
            let varies = a.kind == .exact && (Set(a.base).count > 1 || Set(a.cand).count > 1)
            if (a.kind == .time || a.kind == .count || varies) && a.better != .neither && logs.count == ratios.count,
               let t = TrimmedMeanTest(logRatios: logs) {
                test = t
                ratio = exp(t.effect)
            }
            wilcoxon.append(logs.isEmpty ? nil : WilcoxonSignedRank(logs).pValue)
            var e = Evidence(key: key, kind: a.kind, better: a.better,
                             baseMedian: Statistics.median(a.base), newMedian: Statistics.median(a.cand),
                             ratio: ratio, test: test, onLogScale: true, units: (ratios.count, ratios.count))
            e.varies = varies
            evidence.append(e)
        }
        let decisions = policy.decide(evidence)
        var rows: [PairedRow] = []
        for (i, key) in order.enumerated() {
            let e = evidence[i], d = decisions[i]
            rows.append(PairedRow(key: key, kind: e.kind, better: e.better, rounds: summaries[i].count,
                                  baseMedian: e.baseMedian, candidateMedian: e.newMedian, ratio: summaries[i],
                                  pValue: e.pValue, adjustedP: d.adjustedP, wilcoxonP: wilcoxon[i],
                                  threshold: d.threshold, detectable: d.detectable, detectableSource: d.detectableSource,
                                  verdict: d.verdict, note: d.note, flaggedRounds: acc[key]!.flagged))
        }
        var warnings: [String] = []
        if rows.contains(where: { $0.verdict == .insufficient }) {
            warnings.append("fewer than 2 rounds: no test is possible (use --count 6 or more)")
        }
        let shaky = rows.filter { ($0.verdict == .regression || $0.verdict == .improvement) && $0.flaggedRounds > 0 }
        if !shaky.isEmpty {
            warnings.append("these verdicts rest on rounds run under markedly different conditions: "
                            + shaky.map { "\($0.key.series) \($0.unit) (\($0.flaggedRounds) flagged)" }.joined(separator: ", "))
        }
        let underpowered = rows.filter { $0.verdict == .underpowered }
        if !underpowered.isEmpty {
            warnings.append("\(underpowered.count) row(s) could not detect a change of their threshold's size at this noise: more rounds (--count) would")
        }
        self.rows = rows
        self.warnings = warnings
        self.policy = policy.description
    }

    public func table(showAll: Bool = false) -> String {
        var out: [[String]] = [["benchmark", "metric", "base", "candidate", "ratio", "95% CI", "p", "q", "threshold", "detectable", "verdict"]]
        for r in rows where showAll || r.verdict != .info {
            out.append([r.key.series.description, r.unit, GoText.formatValue(r.baseMedian), GoText.formatValue(r.candidateMedian),
                        String(format: "%.4f", r.ratio.median),
                        String(format: "[%.4f, %.4f]%@", r.ratio.low, r.ratio.high, r.ratio.intervalIsValid ? "" : "?"),
                        r.pValue.map { String(format: "%.3g", $0) } ?? (r.exact ? "exact" : "-"),
                        r.adjustedP.map { String(format: "%.3g", $0) } ?? "-",
                        String(format: "%.0f%%", r.threshold),
                        r.detectable.map { String(format: "≥%.1f%%", $0) } ?? "-",
                        Comparer.verdictText(r.verdict, note: r.note, flagged: r.flaggedRounds)])
        }
        let hidden = rows.filter { $0.verdict == .info }.count
        return Console.table(out, leftAligned: 2)
            + (hidden > 0 && !showAll ? "(\(hidden) rows shown in the CSV only: run conditions, counters and other metrics that are not judged)\n" : "")
            + policy + "\n"
    }

    public func csv() -> String {
        var out = CSV.row(["name", "impl", "metric", "unit", "kind", "better", "rounds", "base_median", "candidate_median",
                           "ratio_median", "ratio_low", "ratio_high", "delta_pct", "p_value", "q_value", "wilcoxon_p",
                           "threshold_pct", "detectable_pct", "detectable_source", "verdict", "note", "flagged_rounds"])
        for r in rows {
            out += CSV.row([r.name, r.key.implementation.rawValue, Metric.shortName(r.unit), r.unit, r.kind.rawValue,
                            r.better.rawValue, String(r.rounds),
                            CSV.number(r.baseMedian), CSV.number(r.candidateMedian), CSV.number(r.ratio.median),
                            CSV.number(r.ratio.low), CSV.number(r.ratio.high), CSV.number(r.deltaPercent),
                            r.pValue.map(CSV.number) ?? "", r.adjustedP.map(CSV.number) ?? "", r.wilcoxonP.map(CSV.number) ?? "",
                            CSV.number(r.threshold), r.detectable.map(CSV.number) ?? "", r.detectableSource ?? "",
                            r.verdict.rawValue, r.note ?? "", String(r.flaggedRounds)])
        }
        return out
    }
}
