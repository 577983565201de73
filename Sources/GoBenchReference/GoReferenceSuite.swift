// Go's reference suite as the harness sees it: a ReferenceSuite whose
// rounds are rounds of Go's testing.B benchmarks (GoToolchain.swift), and
// whose report is the side-by-side table, ours beside Go (SideBySide.swift).

import Foundation
import GoBenchKit

public final class GoReferenceSuite: ReferenceSuite {
    public let implementation = Implementation.go
    public let rounds: Int
    public let reference: GoReference
    let pattern: String
    let benchTime: BenchTime
    let counters: CounterInstrument?
    /// Fail when a round finds no benchmark (a `gobench go` selection).
    let requireMatches: Bool

    public init(reference: GoReference, rounds: Int, pattern: String, benchTime: BenchTime,
                counters: CounterInstrument?, requireMatches: Bool = false) {
        self.reference = reference
        self.rounds = rounds
        self.pattern = pattern
        self.benchTime = benchTime
        self.counters = counters
        self.requireMatches = requireMatches
    }

    public var contextLines: [(key: String, value: String)] {
        [("go", reference.version)] + GoReference.counterContext(counters)
    }

    public func runRound(_ round: Int) throws -> [RepetitionResult] {
        let r = try reference.runRound(round, pattern: pattern, benchTime: benchTime, counters: counters)
        if requireMatches && r.isEmpty { throw SelectionError("no Go reference benchmark matches \"\(pattern)\"") }
        return r
    }

    /// Wall time per op, then CPU per op where both sides were counted
    /// (task-clock: on a busy machine the steadier of the two).
    public func report(_ results: [RepetitionResult]) -> ReferenceReport {
        guard results.contains(where: { $0.impl == .go }) && results.contains(where: { $0.impl == .swift }) else {
            return ReferenceReport()
        }
        // The run folder's side-by-side.csv and the console's Go rows come
        // from the harness's own report (RunReport: ours beside any other
        // implementation). Go adds its allocations, in its own terms: a
        // table of their own (Go's figure is often 0, so no ratio).
        let allocs = AllocSideBySide(results)
        guard !allocs.rows.isEmpty else { return ReferenceReport() }
        let text = "\nallocations ours beside Go (Go truncates to whole numbers)\n" + allocs.table()
        let csv = ["allocs/op", "B/op"].map { SideBySide(results, unit: $0, reference: .go).csv(header: $0 == "allocs/op") }.joined()
        return ReferenceReport(files: [("side-by-side-allocs.txt", text), ("side-by-side-allocs.csv", csv)], console: text)
    }
}
