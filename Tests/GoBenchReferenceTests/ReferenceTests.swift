// Go's reference suite outside the kit: the side-by-side ratio interval,
// and how our names and patterns become Go's -bench patterns.

import Foundation
import Testing
import GoBenchKit
@testable import GoBenchReference

@Suite struct ReferenceTests {
    @Test func sideBySideRatioInterval() {
        // 6 vs 6: P(U <= 5) = 0.0206 <= 0.025 < P(U <= 6): k = 6, so the
        // interval is the 6th smallest and 6th largest of 36 ratios.
        let x = [2.0, 2.1, 2.2, 2.3, 2.4, 2.5], y = [1.0, 1.01, 1.02, 1.03, 1.04, 1.05]
        let ci = SideBySide.ratioInterval(x, y, confidence: 0.95)
        var ratios: [Double] = []
        for a in x { for b in y { ratios.append(a / b) } }
        ratios.sort()
        #expect(ci.valid)
        #expect(ci.low == ratios[5] && ci.high == ratios[30])
        let results = x.enumerated().map { RepetitionResult(name: "m/a", threads: 1, repetition: $0.offset, n: 1, metrics: [Metric($0.element, unit: "ns/op", kind: .time)]) }
            + y.enumerated().map { RepetitionResult(name: "m/a", impl: .go, threads: 1, repetition: $0.offset, n: 1, metrics: [Metric($0.element, unit: "ns/op", kind: .time)]) }
        let sbs = SideBySide(results, reference: .go)
        #expect(sbs.rows.count == 1 && abs(sbs.rows[0].ratio - 2.25 / 1.025) < 1e-9)
        #expect(sbs.geomeans.first?.subsystem == "m")
        // Any unit pairs the same way, and its CSV rows say which.
        let cpu = SideBySide(results.map { r in
            var c = r
            c.metrics = [Metric(r.metrics[0].value, unit: "task-clock-ns/op", kind: .time)]
            return c
        }, unit: "task-clock-ns/op", reference: .go)
        #expect(cpu.rows.count == 1 && cpu.rows[0].ratio == sbs.rows[0].ratio)
        #expect(cpu.csv(header: false).split(separator: "\n").last?.hasPrefix("[geomean m],task-clock-ns/op,go,") == true)
        #expect(SideBySide(results, unit: "task-clock-ns/op", reference: .go).rows.isEmpty)
    }

    @Test func goBenchPatternPassesOnlyTopLevelAnchors() {
        #expect(GoReference.goBenchPattern(for: "^mutex/contended") == "^BenchmarkMutex/contended")
        #expect(GoReference.goBenchPattern(for: "contended") == ".")
        #expect(GoReference.goBenchPattern(for: "^(a|b)$") == ".")
    }

    @Test func goPatternSelectsExactlyOneBenchmarkLevelByLevel() {
        #expect(GoReference.exactBenchPattern(forName: "chan/buffered/cap=64")
                == "^BenchmarkChan$/^buffered$/^cap=64$")
        #expect(GoReference.exactBenchPattern(forName: "alloc/size=8") == "^BenchmarkAlloc$/^size=8$")
        #expect(GoReference.quoteMeta("a.b+c(d)|[e]{f}^$\\*?") == "a\\.b\\+c\\(d\\)\\|\\[e\\]\\{f\\}\\^\\$\\\\\\*\\?")
    }
}

@Suite struct AllocSideBySideTests {
    func row(_ name: String, _ impl: Implementation, allocs: Double, bytes: Double, rep: Int = 0) -> RepetitionResult {
        RepetitionResult(name: name, impl: impl, threads: 1, repetition: rep, n: 10,
                         metrics: [Metric(allocs, unit: "allocs/op", kind: .exact), Metric(bytes, unit: "B/op", kind: .exact)])
    }

    @Test func marksOnlyWholeAllocationsMoreThanGo() {
        let t = AllocSideBySide([
            row("chan/x", "swift", allocs: 1, bytes: 48), row("chan/x", "go", allocs: 0, bytes: 0),
            // Go printed 0 for anything below one: 0.4 of ours is not more.
            row("map/y", "swift", allocs: 0.4, bytes: 10), row("map/y", "go", allocs: 0, bytes: 0),
            row("malloc/z", "swift", allocs: 0, bytes: 0), row("malloc/z", "go", allocs: 1, bytes: 16),
            row("ours/only", "swift", allocs: 3, bytes: 3),
        ])
        #expect(t.rows.map(\.name) == ["chan/x", "map/y", "malloc/z"])
        #expect(t.moreThanGo.map(\.name) == ["chan/x"])
        let text = t.table()
        #expect(text.contains("more than Go"))
        #expect(text.split(separator: "\n").count == 4)
    }
}
