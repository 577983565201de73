// Paired comparison of two builds run alternately, round by round (`gobench
// ab`). Each round gives one base and one candidate value per benchmark and
// metric, measured minutes apart at most, so a slow drift of the machine
// cancels in the per-round ratio candidate / base. The statistics work on
// those ratios:
//   - the median ratio, with a distribution-free confidence interval from
//     order statistics (the sign-test interval, as for any median);
//   - the Wilcoxon signed-rank test of the log ratios against 0, two-sided:
//     exact for up to 30 rounds without ties, otherwise the normal
//     approximation with tie and continuity correction (SciPy's
//     `wilcoxon(..., method="exact" | "approx", correction=True)`).
// Verdicts follow `compare`: a regression when the test is significant and
// the median ratio is worse than the threshold; exact metrics skip the test.

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
        let sorted = nz.enumerated().sorted { abs($0.element) < abs($1.element) }
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && abs(sorted[j + 1].element) == abs(sorted[i].element) { j += 1 }
            let r = Double(i + j + 2) / 2
            for k in i...j { ranks[k] = r }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        var wPlus = 0.0
        for (k, s) in sorted.enumerated() where s.element > 0 { wPlus += ranks[k] }
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
    public var name: String
    public var unit: String
    public var better: Better
    public var exact: Bool
    public var rounds: Int
    public var baseMedian: Double
    public var candidateMedian: Double
    /// Median of the per-round ratios candidate / base, and its interval.
    public var ratio: Summary
    public var pValue: Double?
    public var threshold: Double
    public var verdict: Verdict
    public var flaggedRounds: Int

    public var deltaPercent: Double { (ratio.median - 1) * 100 }
}

public struct PairedComparison: Sendable {
    public var rows: [PairedRow]
    public var warnings: [String]
    public var hasRegression: Bool { rows.contains { $0.verdict == .regression } }

    /// Pairs base and candidate repetitions by (name, unit, repetition).
    public init(base: [RepetitionResult], candidate: [RepetitionResult],
                thresholds: Thresholds = Thresholds(), alpha: Double = Comparer.defaultAlpha) throws {
        var cand: [String: Double] = [:]
        for r in candidate { for m in r.metrics { cand["\(r.name)\u{0}\(m.unit)\u{0}\(r.repetition)"] = m.value } }
        let flags = DriftFlags.flagged(base).merging(DriftFlags.flagged(candidate)) { a, _ in a }
        struct Acc { var better: Better; var exact: Bool; var base: [Double] = []; var cand: [Double] = []; var flagged = 0 }
        var order: [String] = []
        var acc: [String: Acc] = [:]
        for r in base {
            let flagged = flags[DriftFlags.key(r)] != nil
            for m in r.metrics {
                guard let c = cand["\(r.name)\u{0}\(m.unit)\u{0}\(r.repetition)"] else { continue }
                let key = "\(r.name)\u{0}\(m.unit)"
                if acc[key] == nil { order.append(key); acc[key] = Acc(better: m.better, exact: m.exact) }
                acc[key]!.base.append(m.value)
                acc[key]!.cand.append(c)
                if flagged { acc[key]!.flagged += 1 }
            }
        }
        guard !order.isEmpty else { throw FormatError("no benchmark rounds in common between base and candidate") }
        var rows: [PairedRow] = []
        var warnings: [String] = []
        for key in order {
            let a = acc[key]!
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let ratios = zip(a.cand, a.base).map { c, b in b == 0 ? (c == 0 ? 1 : .infinity) : c / b }
            let summary = Statistics.summarize(ratios)
            let threshold = thresholds.percent(for: parts[0])
            let delta = (summary.median - 1) * 100
            let worse = (a.better == .lower && delta > threshold) || (a.better == .higher && delta < -threshold)
            let improved = (a.better == .lower && delta < -threshold) || (a.better == .higher && delta > threshold)
            var p: Double?
            let verdict: Verdict
            if a.better == .neither {
                verdict = .info
            } else if a.exact {
                verdict = worse ? .regression : improved ? .improvement : .unchanged
            } else {
                let logs = ratios.filter { $0 > 0 && $0.isFinite }.map { log($0) }
                let test = WilcoxonSignedRank(logs)
                p = test.pValue
                // With n rounds the exact two-sided p is at least 2 / 2^n.
                if ratios.count < 6 {
                    verdict = .insufficient
                } else if test.pValue < alpha && worse {
                    verdict = .regression
                } else if test.pValue < alpha && improved {
                    verdict = .improvement
                } else {
                    verdict = .unchanged
                }
            }
            rows.append(PairedRow(name: parts[0], unit: parts[1], better: a.better, exact: a.exact, rounds: ratios.count,
                                  baseMedian: Statistics.median(a.base), candidateMedian: Statistics.median(a.cand),
                                  ratio: summary, pValue: p, threshold: threshold, verdict: verdict,
                                  flaggedRounds: a.flagged))
        }
        if rows.contains(where: { $0.verdict == .insufficient }) {
            warnings.append("fewer than 6 rounds: the signed-rank test cannot reach p < 0.05 (use --count 6 or more)")
        }
        let shaky = rows.filter { ($0.verdict == .regression || $0.verdict == .improvement) && $0.flaggedRounds > 0 }
        if !shaky.isEmpty {
            warnings.append("these verdicts rest on rounds run under markedly different conditions: "
                            + shaky.map { "\($0.name) \($0.unit) (\($0.flaggedRounds) flagged)" }.joined(separator: ", "))
        }
        self.rows = rows
        self.warnings = warnings
    }

    public func table() -> String {
        var out: [[String]] = [["benchmark", "metric", "base", "candidate", "ratio", "95% CI", "p", "threshold", "verdict"]]
        for r in rows {
            out.append([r.name, r.unit, GoText.formatValue(r.baseMedian), GoText.formatValue(r.candidateMedian),
                        String(format: "%.4f", r.ratio.median),
                        String(format: "[%.4f, %.4f]%@", r.ratio.low, r.ratio.high, r.ratio.intervalIsValid ? "" : "?"),
                        r.pValue.map { String(format: "%.3f", $0) } ?? (r.exact ? "exact" : "-"),
                        String(format: "%.0f%%", r.threshold),
                        r.verdict.rawValue + (r.flaggedRounds > 0 ? " (\(r.flaggedRounds) flagged)" : "")])
        }
        return Console.table(out, leftAligned: 2)
    }

    public func csv() -> String {
        var out = CSV.row(["name", "metric", "unit", "better", "rounds", "base_median", "candidate_median",
                           "ratio_median", "ratio_low", "ratio_high", "delta_pct", "p_value", "threshold_pct", "verdict", "flagged_rounds"])
        for r in rows {
            out += CSV.row([r.name, Metric.shortName(r.unit), r.unit, r.better.rawValue, String(r.rounds),
                            CSV.number(r.baseMedian), CSV.number(r.candidateMedian), CSV.number(r.ratio.median),
                            CSV.number(r.ratio.low), CSV.number(r.ratio.high), CSV.number(r.deltaPercent),
                            r.pValue.map(CSV.number) ?? "", CSV.number(r.threshold), r.verdict.rawValue, String(r.flaggedRounds)])
        }
        return out
    }
}
