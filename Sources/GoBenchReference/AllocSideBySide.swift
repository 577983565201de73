// Allocations ours beside Go's, in Go's own terms (testing.B's whole-number
// AllocsPerOp).

import Foundation
import GoBenchKit

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
