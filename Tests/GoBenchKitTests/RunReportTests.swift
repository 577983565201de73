import Foundation
import Testing
@testable import GoBenchKit

/// The fixture run: 27 benchmarks of a real `gobench all` (c698f54, 6 repetitions of 100ms) (results.csv and
/// context.json as the run wrote them), under Fixtures/report-run.
func fixtureRun() throws -> (dir: String, report: RunReport) {
    let dir = try fixture("report-run")
    let run = try RunFolder.read(dir)
    // The layout the suites give (GoBenchSuites' reportLayout), spelled out:
    // this target does not depend on the suites.
    let layout = ReportLayout(
        twins: [.init(twin: "dict/", of: "map/"), .init(twin: "alt/pthread-mutex/", of: "mutex/"),
                .init(twin: "malloc/glibc/", of: "malloc/")],
        primaryMetrics: ["map/access/hit/n=8": ["probes/op"], "map/access/hit/n=1k": ["probes/op"],
                         "map/access/hit/n=1M": ["probes/op"],
                         "mutex/starvation/mode=on": ["p99-wait-ns", "starvations/op"],
                         "mutex/starvation/mode=off": ["p99-wait-ns", "starvations/op"],
                         "alt/pthread-mutex/starvation": ["p99-wait-ns"], "mutex/uncontended": ["spins/op"]],
        footprints: [(prefix: "map/", bytesPerElement: 22)])
    let report = RunReport(environment: run.environment, results: run.results, layout: layout,
                           runDirectory: "results/runs/fixture", elapsedSeconds: RunFolder.elapsedSeconds(run.environment))
    return (dir, report)
}

let fixtureCaches = [CacheLevel(level: 1, type: "Data", bytes: 48 << 10), CacheLevel(level: 2, type: "Unified", bytes: 1 << 20),
                     CacheLevel(level: 3, type: "Unified", bytes: 32 << 20)]

@Suite struct ComplexityTests {
    @Test func fitsEachClassToItsOwnCurve() throws {
        let ns: [Double] = [8, 64, 1000, 100_000, 1_000_000]
        for c in ComplexityClass.allCases {
            let fit = try #require(Complexity.fit(ns.map { (n: $0, t: 2.5 * c.f($0)) }))
            #expect(fit.best == c)
            #expect(abs(fit.coefficient - 2.5) < 1e-9)
            #expect(fit.normalizedRMS < 1e-9)
        }
    }

    @Test func noisyLinearIsStillLinear() throws {
        let pts: [(n: Double, t: Double)] = [(10, 10.8), (100, 96), (1000, 1030), (10_000, 9900)]
        let fit = try #require(Complexity.fit(pts))
        #expect(fit.best == .linear)
        #expect(fit.normalizedRMS > 0 && fit.normalizedRMS < 0.05)
    }

    @Test func needsThreePoints() {
        #expect(Complexity.fit([(n: 10, t: 1), (n: 100, t: 2)]) == nil)
        // A size of 1 (chan/buffered/cap=1) is a point like any other.
        #expect(Complexity.fit([(n: 1, t: 5), (n: 64, t: 5.2), (n: 1024, t: 4.9)])?.best == .constant)
    }

    @Test func bendIsTheSteepestSegment() throws {
        let b = try #require(Complexity.bend([(n: 8, t: 2), (n: 1000, t: 2.2), (n: 100_000, t: 9), (n: 1_000_000, t: 12)]))
        #expect(b.from == 1000 && b.to == 100_000)
        #expect(b.slope > 0.2)
    }

    @Test func familiesGroupBySizeParameter() throws {
        let (_, report) = try fixtureRun()
        let fams = report.scalingFamilies
        #expect(fams.map(\.name) == ["map/access/hit/n=*", "malloc/size=*"])
        let map = try #require(fams.first)
        #expect(map.points.map(\.label) == ["8", "1k", "1M"])
        #expect(map.companions.map(\.label) == ["dict/access/hit/n=*"])
        #expect(fams[1].companions.map(\.label) == ["malloc/glibc/size=*"])
    }
}

@Suite struct ConsoleReportTests {
    @Test func spreadIsADashNearZeroOrWithTooFewRepetitions() {
        #expect(Console.spread(Statistics.summarize([2e-7, 3e-7, 2.5e-7, 2e-7, 3e-7, 2.2e-7])) == "-")
        #expect(Console.spread(Statistics.summarize([10, 11, 10.5])) == "-")
        #expect(Console.spread(Statistics.summarize([10, 11, 10.5, 10.2, 10.4, 10.6, 10.1])) != "-")
    }

    @Test func durationsPickTheirUnit() {
        #expect(Console.duration(0.3211) == "0.321 ns")
        #expect(Console.duration(15.24) == "15.2 ns")
        #expect(Console.duration(2400) == "2.40 µs")
        #expect(Console.duration(3_300_000) == "3.30 ms")
    }

    /// The table from a fixed results fixture, character for character.
    @Test func goldenTable() throws {
        let (_, report) = try fixtureRun()
        let text = ConsoleReport(report, caches: fixtureCaches).render()
        let golden = try String(contentsOfFile: try fixture("report-console.golden"), encoding: .utf8)
        if text != golden {
            // For inspection (and, after reading it, for updating the golden file).
            try? text.write(toFile: NSTemporaryDirectory() + "report-console.actual", atomically: true, encoding: .utf8)
            let got = text.split(separator: "\n", omittingEmptySubsequences: false)
            let want = golden.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, (a, b)) in zip(got, want).enumerated() where a != b {
                Issue.record("line \(i + 1):\n got: \(a)\nwant: \(b)")
                break
            }
            #expect(got.count == want.count)
        }
        #expect(text == golden)
    }

    @Test func twinsSitUnderThePortAndOneLinePerBenchmark() throws {
        let (_, report) = try fixtureRun()
        let lines = ConsoleReport(report, caches: fixtureCaches).render().split(separator: "\n").map(String.init)
        let i = try #require(lines.firstIndex { $0.hasPrefix("map/access/hit/n=1k ") })
        #expect(lines[i + 1].hasPrefix("  dict/access/hit/n=1k "))
        #expect(lines.contains { $0.hasPrefix("  alt/pthread-mutex/uncontended ") })
        // Counters and conditions only with --verbose.
        #expect(!lines.contains { $0.hasPrefix("      loadavg-1m") })
        #expect(lines.contains { $0.hasPrefix("  alt/pthread-mutex/starvation ") })
        let verbose = ConsoleReport(report, verbose: true, caches: fixtureCaches).render()
        #expect(verbose.contains("\n      loadavg-1m"))
        #expect(verbose.contains("fit map/access/hit/n=*: O("))
    }

    @Test func progressLineCountsBenchmarksAndRounds() {
        let p = ProgressLine(benchmarks: ["a", "b", "c", "d"])
        let t0 = Date(timeIntervalSince1970: 1000)
        #expect(p.render("calibrating b", now: t0) == "[2/4] calibrating b")
        #expect(p.render("round 1/2 a", now: t0) == "[1/4] round 1/2 a")
        // 4 of 8 steps done in 40 s: 40 s left.
        #expect(p.render("round 2/2 a", now: t0 + 40) == "[1/4] round 2/2 a, ETA 40s")
    }
}

@Suite struct HTMLReportTests {
    @Test func selfContainedAndCountsItsPlots() throws {
        let (_, report) = try fixtureRun()
        let html = HTMLReport(report, caches: fixtureCaches).render()
        for remote in ["src=\"http", "href=\"http", "@import", "url(", "fetch(", "XMLHttpRequest"] {
            #expect(!html.contains(remote), "report references \(remote)")
        }
        let plots = html.components(separatedBy: "<svg class=\"plot\"").count - 1
        #expect(plots == HTMLReport(report, caches: fixtureCaches).plotCount)
        // The fixture: 2 scaling families (map/access/hit, malloc/size), a
        // strip for each of its 4 subsystems, alternatives for mutex, map
        // and malloc, and one wait-time plot.
        #expect(plots == HTMLReportTests.expectedPlots(report))
        #expect(plots == 2 + 4 + 3 + 1)
        #expect(html.contains("O(log n)") || html.contains("O(1)") || html.contains("O(n)"))
        #expect(html.contains(report.environment["fingerprint"] ?? "no fingerprint in fixture"))
    }

    @Test func waitPercentileUnits() {
        #expect(HTMLReport.percentile(of: "p50-wait-ns") == 50)
        #expect(HTMLReport.percentile(of: "p999-wait-ns") == 99.9)
        #expect(HTMLReport.percentile(of: "max-wait-ns") == 100)
        #expect(HTMLReport.percentile(of: "probes/op") == nil)
        #expect(HTMLReport.percentile(of: "parks/op") == nil)
    }

    @Test func comparisonListsRegressionsFirst() throws {
        let (_, report) = try fixtureRun()
        // The same run against a copy of itself 5 times faster: every
        // ns/op regressed (the fixture's own spread is up to ±100%).
        let faster = report.results.map { r -> RepetitionResult in
            var r = r
            r.metrics = r.metrics.map { m in var m = m; if m.unit == "ns/op" { m.value *= 0.2 }; return m }
            return r
        }
        var r = report
        r.comparison = try Comparer.compare(base: faster, new: report.results)
        let html = HTMLReport(r, caches: fixtureCaches).render()
        let compare = try #require(html.range(of: "<section id=\"compare\">"))
        let firstSub = try #require(html.range(of: "<section id=\"sub-"))
        #expect(compare.lowerBound < firstSub.lowerBound)
        #expect(html.contains("<tr class=\"regression\">"))
        let console = ConsoleReport(r, baselineName: "faster", caches: fixtureCaches).render()
        #expect(console.contains("verdict:"))
        #expect(console.contains("regression(s) (exit 2)"))
    }

    /// Counted from the report model, independently of the renderer's own
    /// bookkeeping: one per scaling family, one strip per subsystem, one
    /// alternatives plot per subsystem with a twin or reference, one
    /// wait-time plot when any series records wait percentiles.
    static func expectedPlots(_ report: RunReport) -> Int {
        let strips = report.groups.count
        let alternatives = report.groups.filter { g in g.rows.contains { !$0.twins.isEmpty || !$0.references.isEmpty } }.count
        let waits = report.series.contains { $0.sample("p99-wait-ns") != nil } ? 1 : 0
        return report.scalingFamilies.count + strips + alternatives + waits
    }
}

@Suite struct RunFolderTests {
    @Test func contextRoundTripsInOrder() throws {
        let env = RunEnvironment(entries: [("zeta", "1"), ("alpha", "a \"quoted\"\nline"), ("fingerprint", "00ff")])
        #expect(try RunEnvironment.parse(json: env.json()) == env)
        #expect(throws: FormatError.self) { try RunEnvironment.parse(json: "[1, 2]") }
    }

    @Test func findsTheFlameGraphsOfProfiledBenchmarks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-flames-\(getpid())").path
        try FileManager.default.createDirectory(atPath: "\(dir)/profiles", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "<svg/>".write(toFile: "\(dir)/profiles/\(Profiler.fileName("map/access/hit/n=1k")).svg", atomically: true, encoding: .utf8)
        let found = RunFolder.flameGraphs(in: dir, benchmarks: ["map/access/hit/n=8", "map/access/hit/n=1k"])
        #expect(found.map(\.benchmark) == ["map/access/hit/n=1k"])
        let (_, report) = try fixtureRun()
        var r = report
        r.flameGraphs = found
        let html = HTMLReport(r, caches: fixtureCaches).render()
        #expect(html.contains("<a href=\"\(found[0].path)\">map/access/hit/n=1k</a>"))
    }

    /// Go's flame graph (NAME.go.svg, written with --with-go) is linked in
    /// the row of ours, and the suite-wide graph above the table.
    @Test func linksTheReferenceFlameGraphBesideOurs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-flames-go-\(getpid())").path
        try FileManager.default.createDirectory(atPath: "\(dir)/profiles", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stem = Profiler.fileName("chan/pingpong")
        for f in ["\(stem).svg", "\(stem).go.svg", "\(Profiler.suiteFileName).svg"] {
            try "<svg/>".write(toFile: "\(dir)/profiles/\(f)", atomically: true, encoding: .utf8)
        }
        let results = [Implementation.swift, Implementation("go")].flatMap { impl in
            (0..<3).map { RepetitionResult(name: "chan/pingpong", impl: impl, threads: 1, repetition: $0, n: 100,
                                           metrics: [Metric(Double(400 + $0), unit: "ns/op", kind: .time)]) }
        }
        var report = RunReport(environment: RunEnvironment(), results: results)
        RunFolder.findFlameGraphs(of: &report, in: dir)
        #expect(report.referenceFlameGraphs.map(\.path) == ["profiles/\(stem).go.svg"])
        let html = HTMLReport(report, caches: fixtureCaches).render()
        #expect(html.contains("<tr><td><a href=\"profiles/\(stem).svg\">chan/pingpong</a></td><td><a href=\"profiles/\(stem).go.svg\">go</a></td></tr>"))
        #expect(html.contains("href=\"profiles/_all.svg\""))
    }

    @Test func aMissingRunFolderIsAOneLineError() {
        #expect(throws: FormatError.self) { try RunFolder.read("/nonexistent/run") }
    }
}

@Suite struct ReferenceRowsTests {
    /// Go's series of the same name (--with-go) sits under ours, with
    /// ours/go as its ratio, and an orphan reference series still gets a line.
    @Test func referenceSeriesSitUnderOurs() throws {
        func rep(_ name: String, _ impl: Implementation, _ i: Int, _ ns: Double) -> RepetitionResult {
            RepetitionResult(name: name, impl: impl, threads: 1, repetition: i, n: 1000,
                             metrics: [Metric(ns, unit: "ns/op", kind: .time)])
        }
        var results: [RepetitionResult] = []
        for i in 0..<6 {
            results.append(rep("chan/pingpong", .swift, i, 100 + Double(i)))
            results.append(rep("chan/pingpong", "go", i, 200 + Double(i)))
            results.append(rep("chan/go-only", "go", i, 50))
        }
        let report = RunReport(environment: RunEnvironment(), results: results)
        #expect(report.benchmarkCount == 1)
        let row = try #require(report.groups.first?.rows.first)
        #expect(row.references.map(\.key.description) == ["chan/pingpong [go]"])
        #expect(report.sideBySide.first?.rows.first?.name == "chan/pingpong")
        let lines = ConsoleReport(report, caches: []).render().split(separator: "\n").map(String.init)
        let i = try #require(lines.firstIndex { $0.hasPrefix("chan/pingpong ") })
        #expect(lines[i + 1].hasPrefix("  chan/pingpong [go] "))
        #expect(lines[i + 1].contains("0.51x"))
        #expect(lines.contains { $0.hasPrefix("chan/go-only [go] ") })
        #expect(lines.contains { $0.hasPrefix("1 benchmark, 6 repetitions (and 2 series of other implementations)") })
        #expect(lines.contains { $0.hasPrefix("ours/this below 1: ours is faster. geomean ours/go: chan 0.51") })
    }
}

@Suite struct DifferentialFlameGraphTests {
    @Test func drawnForBenchmarksProfiledInBothRuns() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-diff-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (run, text) in [("new", "main;work;hot 30\nmain;work 10\n"), ("base", "main;work;hot 10\nmain;work 10\n")] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(run)/profiles", withIntermediateDirectories: true)
            try text.write(toFile: "\(root)/\(run)/profiles/\(Profiler.fileName("map/access/hit/n=1k")).folded",
                           atomically: true, encoding: .utf8)
        }
        let found = try RunFolder.writeDifferentialFlameGraphs(run: "\(root)/new", base: "\(root)/base",
                                                               benchmarks: ["map/access/hit/n=1k", "map/access/hit/n=8"])
        #expect(found.map(\.benchmark) == ["map/access/hit/n=1k"])
        let svg = try String(contentsOfFile: "\(root)/new/\(found[0].path)", encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("hot"))
    }
}
