// Our ports beside another implementation (Go's runtime, through
// GoBenchReference): for every benchmark measured on both sides, our
// median, the reference's median, their ratio (ours / reference: below 1
// means the port is faster) and a distribution-free 95% confidence
// interval of the ratio, plus a geomean ratio per subsystem (the first
// name component).
//
// The interval is the Hodges-Lehmann / Mann-Whitney one, taken in log space
// so that it is a ratio: all pairwise ratios x_i / y_j sorted, bounded by
// the order statistics whose ranks come from the null distribution of U.
// It needs about 4 repetitions per side; fewer give [min, max] of the
// pairwise ratios, marked as such.

import Foundation

public struct SideBySideRow: Sendable {
    public var name: String
    public var unit: String
    public var ours: Double
    /// The reference implementation's median.
    public var reference: Double
    public var ratio: Double
    public var low: Double
    public var high: Double
    public var intervalIsValid: Bool
}

public struct SideBySide: Sendable {
    /// The implementation our rows are set beside.
    public var reference: Implementation
    public var rows: [SideBySideRow]
    /// Per subsystem: geomean of the ratios and how many benchmarks.
    public var geomeans: [(subsystem: String, ratio: Double, benchmarks: Int)]

    /// Pairs our rows with the reference implementation's by name for
    /// `unit` (ns/op).
    public init(_ results: [RepetitionResult], unit: String = "ns/op", reference: Implementation,
                confidence: Double = 0.95) {
        self.reference = reference
        var ours: [String: [Double]] = [:], go: [String: [Double]] = [:], order: [String] = []
        for r in results {
            guard let m = r.metric(unit) else { continue }
            if r.impl == reference { go[r.name, default: []].append(m.value) }
            else if r.impl == .swift {
                if ours[r.name] == nil { order.append(r.name) }
                ours[r.name, default: []].append(m.value)
            }
        }
        rows = order.compactMap { name in
            guard let x = ours[name], let y = go[name] else { return nil }
            let ci = SideBySide.ratioInterval(x, y, confidence: confidence)
            let mo = Statistics.median(x), mg = Statistics.median(y)
            return SideBySideRow(name: name, unit: unit, ours: mo, reference: mg, ratio: mg == 0 ? .infinity : mo / mg,
                                 low: ci.low, high: ci.high, intervalIsValid: ci.valid)
        }
        var bySub: [String: [Double]] = [:], subs: [String] = []
        for r in rows where r.ratio.isFinite && r.ratio > 0 {
            let s = String(r.name.split(separator: "/").first ?? "")
            if bySub[s] == nil { subs.append(s) }
            bySub[s, default: []].append(r.ratio)
        }
        geomeans = subs.map { (subsystem: $0, ratio: Statistics.geomean(bySub[$0]!) ?? .nan, benchmarks: bySub[$0]!.count) }
    }

    /// Distribution-free interval for x/y (both positive samples).
    public static func ratioInterval(_ x: [Double], _ y: [Double], confidence: Double) -> (low: Double, high: Double, valid: Bool) {
        var ratios: [Double] = []
        for a in x { for b in y where b > 0 { ratios.append(a / b) } }
        ratios.sort()
        guard !ratios.isEmpty else { return (.nan, .nan, false) }
        let counts = MannWhitney.nullCounts(x.count, y.count)
        let total = counts.reduce(0, +)
        let tail = (1 - confidence) / 2
        // Largest k with P(U <= k-1) <= tail; the interval is
        // [r(k), r(mn+1-k)] (1-based).
        var k = 0
        var cumulative = 0.0
        while k < counts.count {
            if (cumulative + counts[k]) / total > tail { break }
            cumulative += counts[k]
            k += 1
        }
        guard k >= 1 else { return (ratios.first!, ratios.last!, false) }
        return (ratios[k - 1], ratios[ratios.count - k], true)
    }

    public func table() -> String {
        let other = reference.rawValue
        var rows: [[String]] = [["benchmark", "ours " + (self.rows.first?.unit ?? "ns/op"), other, "ours/\(other)", "95% CI"]]
        for r in self.rows {
            rows.append([r.name, GoText.formatValue(r.ours), GoText.formatValue(r.reference), String(format: "%.3f", r.ratio),
                         String(format: "[%.3f, %.3f]%@", r.low, r.high, r.intervalIsValid ? "" : "?")])
        }
        for g in geomeans {
            rows.append(["[geomean \(g.subsystem)]", "", "", String(format: "%.3f", g.ratio), "\(g.benchmarks) benchmarks"])
        }
        return Console.table(rows, leftAligned: 1)
    }

    public static let csvHeader = CSV.row(["name", "unit", "reference", "ours_median", "reference_median", "ratio",
                                           "ratio_low", "ratio_high", "interval_valid"])

    /// The rows as CSV; `header: false` to append to another table's.
    public func csv(header: Bool = true) -> String {
        var out = header ? SideBySide.csvHeader : ""
        for r in rows {
            out += CSV.row([r.name, r.unit, reference.rawValue, CSV.number(r.ours), CSV.number(r.reference), CSV.number(r.ratio),
                            CSV.number(r.low), CSV.number(r.high), r.intervalIsValid ? "true" : "false"])
        }
        for g in geomeans {
            out += CSV.row(["[geomean \(g.subsystem)]", rows.first?.unit ?? "", reference.rawValue, "", "", CSV.number(g.ratio), "", "", ""])
        }
        return out
    }
}

