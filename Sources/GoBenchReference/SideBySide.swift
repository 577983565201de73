// Our ports beside Go's runtime: for every benchmark measured on both sides,
// our median, Go's median, their ratio (ours / Go: below 1 means the port
// is faster) and a distribution-free 95% confidence interval of the ratio,
// plus a geomean ratio per subsystem (the first name component).
//
// The interval is the Hodges-Lehmann / Mann-Whitney one, taken in log space
// so that it is a ratio: all pairwise ratios x_i / y_j sorted, bounded by
// the order statistics whose ranks come from the null distribution of U.
// It needs about 4 repetitions per side; fewer give [min, max] of the
// pairwise ratios, marked as such.

import Foundation
import GoBenchKit

public struct SideBySideRow: Sendable {
    public var name: String
    public var unit: String
    public var ours: Double
    public var go: Double
    public var ratio: Double
    public var low: Double
    public var high: Double
    public var intervalIsValid: Bool
}

public struct SideBySide: Sendable {
    public var rows: [SideBySideRow]
    /// Per subsystem: geomean of the ratios and how many benchmarks.
    public var geomeans: [(subsystem: String, ratio: Double, benchmarks: Int)]

    /// Pairs our rows with the reference implementation's by name for
    /// `unit` (ns/op).
    public init(_ results: [RepetitionResult], unit: String = "ns/op", reference: Implementation = .go,
                confidence: Double = 0.95) {
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
            return SideBySideRow(name: name, unit: unit, ours: mo, go: mg, ratio: mg == 0 ? .infinity : mo / mg,
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
        var rows: [[String]] = [["benchmark", "ours " + (self.rows.first?.unit ?? "ns/op"), "go", "ours/go", "95% CI"]]
        for r in self.rows {
            rows.append([r.name, GoText.formatValue(r.ours), GoText.formatValue(r.go), String(format: "%.3f", r.ratio),
                         String(format: "[%.3f, %.3f]%@", r.low, r.high, r.intervalIsValid ? "" : "?")])
        }
        for g in geomeans {
            rows.append(["[geomean \(g.subsystem)]", "", "", String(format: "%.3f", g.ratio), "\(g.benchmarks) benchmarks"])
        }
        return Console.table(rows, leftAligned: 1)
    }

    public static let csvHeader = CSV.row(["name", "unit", "ours_median", "go_median", "ratio", "ratio_low",
                                           "ratio_high", "interval_valid"])

    /// The rows as CSV; `header: false` to append to another table's.
    public func csv(header: Bool = true) -> String {
        var out = header ? SideBySide.csvHeader : ""
        for r in rows {
            out += CSV.row([r.name, r.unit, CSV.number(r.ours), CSV.number(r.go), CSV.number(r.ratio),
                            CSV.number(r.low), CSV.number(r.high), r.intervalIsValid ? "true" : "false"])
        }
        for g in geomeans {
            out += CSV.row(["[geomean \(g.subsystem)]", rows.first?.unit ?? "", "", "", CSV.number(g.ratio), "", "", ""])
        }
        return out
    }
}

/// Allocations ours beside Go's (issue 23): per benchmark measured on
/// both sides, the medians of allocs/op and B/op. No ratio: Go's figure is
/// often 0. Go truncates its per-op figures to whole numbers (testing.B's
/// AllocsPerOp is an integer division), so Go's true count g' lies in
/// [g, g+1); ours is marked "more" only when it is at least g + 1, which
/// is more than g' whatever the fraction Go dropped.
public struct AllocSideBySide: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var oursAllocs: Double
        public var goAllocs: Double
        public var oursBytes: Double?
        public var goBytes: Double?
        /// Ours allocates at least one whole allocation per op more.
        public var more: Bool { oursAllocs >= goAllocs + 1 - 1e-9 }
    }

    public var rows: [Row]

    public init(_ results: [RepetitionResult]) {
        var ours: [String: [String: [Double]]] = [:], go: [String: [String: [Double]]] = [:]
        var order: [String] = []
        for r in results {
            for unit in ["allocs/op", "B/op"] {
                guard let m = r.metric(unit) else { continue }
                if r.impl == .go { go[r.name, default: [:]][unit, default: []].append(m.value) }
                else if r.impl == .swift {
                    if ours[r.name] == nil { order.append(r.name) }
                    ours[r.name, default: [:]][unit, default: []].append(m.value)
                }
            }
        }
        func median(_ v: [Double]?) -> Double? { v.flatMap { $0.isEmpty ? nil : Statistics.median($0) } }
        rows = order.compactMap { name in
            guard let oa = median(ours[name]?["allocs/op"]), let ga = median(go[name]?["allocs/op"]) else { return nil }
            return Row(name: name, oursAllocs: oa, goAllocs: ga,
                       oursBytes: median(ours[name]?["B/op"]), goBytes: median(go[name]?["B/op"]))
        }
    }

    /// Benchmarks where ours allocates at least one whole allocation per
    /// op more than Go.
    public var moreThanGo: [Row] { rows.filter(\.more) }

    public func table() -> String {
        var t: [[String]] = [["benchmark", "ours allocs/op", "go", "ours B/op", "go", ""]]
        for r in rows {
            t.append([r.name, GoText.formatValue(r.oursAllocs), GoText.formatValue(r.goAllocs),
                      r.oursBytes.map(GoText.formatValue) ?? "-", r.goBytes.map(GoText.formatValue) ?? "-",
                      r.more ? "more than Go" : ""])
        }
        return Console.table(t, leftAligned: 1)
    }
}
