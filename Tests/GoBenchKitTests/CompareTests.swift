import Testing
@testable import GoBenchKit

@Suite struct CompareTests {
    @Test func sameConditionsGiveNoRegression() throws {
        let c = try Comparer.compare(base: try loadResults(path: try fixture("base.csv")),
                                     new: try loadResults(path: try fixture("aa.csv")))
        #expect(!c.hasRegression)
        #expect(c.rows.contains { $0.unit == "parallelism" && $0.verdict == .info })
        #expect(c.geomeans.contains { $0.unit == "ns/op" && abs($0.deltaPercent) < 2 })
    }

    @Test func tenPercentSlowdownIsARegression() throws {
        let c = try Comparer.compare(base: try loadResults(path: try fixture("base.csv")),
                                     new: try loadResults(path: try fixture("slow10.csv")))
        let reg = c.rows.filter { $0.verdict == .regression }
        #expect(Set(reg.map(\.name)) == ["chan/pingpong"])
        #expect(reg.allSatisfy { $0.deltaPercent > 5 && $0.pValue! < 0.05 })
        #expect(c.hasRegression)
        // The same change is no regression when the threshold allows it.
        let lax = try Comparer.compare(base: try loadResults(path: try fixture("base.csv")),
                                       new: try loadResults(path: try fixture("slow10.csv")),
                                       thresholds: Thresholds(defaultPercent: 5) { $0 == "chan/pingpong" ? 15 : nil })
        #expect(!lax.hasRegression)
    }

    @Test func improvementsAndDirection() throws {
        func results(_ values: [Double], unit: String, better: Better) -> [RepetitionResult] {
            values.enumerated().map {
                RepetitionResult(name: "x", threads: 1, repetition: $0.offset, n: 1,
                                 metrics: [Metric($0.element, unit: unit, better: better, kind: .legacy(unit: unit, better: better, exact: false))])
            }
        }
        let base = [100.0, 101, 99, 100.5, 99.5, 100.2]
        let faster = base.map { $0 * 0.8 }
        #expect(try Comparer.compare(base: results(base, unit: "ns/op", better: .lower),
                                     new: results(faster, unit: "ns/op", better: .lower)).rows[0].verdict == .improvement)
        // For a higher-is-better metric the same drop is a regression.
        #expect(try Comparer.compare(base: results(base, unit: "MB/s", better: .higher),
                                     new: results(faster, unit: "MB/s", better: .higher)).rows[0].verdict == .regression)
    }

    @Test func negligibleEventCountsAreNoVerdict() throws {
        func r(_ v: [Double], unit: String) -> [RepetitionResult] {
            v.enumerated().map { RepetitionResult(name: "x", threads: 1, repetition: $0.offset, n: 1, metrics: [Metric($0.element, unit: unit, kind: .legacy(unit: unit, better: .lower, exact: false))]) }
        }
        let rare = [1e-6, 1.1e-6, 0.9e-6, 1e-6, 1.2e-6, 1e-6]
        // +400% of almost nothing: unchanged.
        let tiny = try Comparer.compare(base: r(rare, unit: "context-switches/op"), new: r(rare.map { $0 * 5 }, unit: "context-switches/op"))
        #expect(tiny.rows[0].verdict == .unchanged && tiny.rows[0].deltaPercent > 300)
        // The same +400% on events that happen every op is a regression,
        let often = rare.map { $0 * 1e6 }
        #expect(try Comparer.compare(base: r(often, unit: "parks/op"), new: r(often.map { $0 * 5 }, unit: "parks/op"))
            .rows[0].verdict == .regression)
        // and so is a time, however small.
        #expect(try Comparer.compare(base: r(rare, unit: "ns/op"), new: r(rare.map { $0 * 5 }, unit: "ns/op"))
            .rows[0].verdict == .regression)
        #expect(Comparer.isEventCount("waste-B/op") && !Comparer.isEventCount("task-clock-ns/op"))
        #expect(Comparer.isEventCount("starvations/op") && Comparer.isEventCount("spins/op"))
        #expect(!Comparer.isEventCount("ns/op") && !Comparer.isEventCount("cpu-ns/op"))
        // A count whose name ends in "ns" is still a count.
        let starved = try Comparer.compare(base: r(rare, unit: "starvations/op"), new: r(rare.map { $0 * 5 }, unit: "starvations/op"))
        #expect(starved.rows[0].verdict == .unchanged)
    }

    @Test func tooFewRepetitionsAreSaidSo() throws {
        func r(_ v: [Double]) -> [RepetitionResult] {
            v.enumerated().map { RepetitionResult(name: "x", threads: 1, repetition: $0.offset, n: 1, metrics: [Metric($0.element, unit: "ns/op", kind: .time)]) }
        }
        let c = try Comparer.compare(base: r([1, 1.01, 0.99]), new: r([2, 2.01, 1.99]))
        #expect(c.rows[0].verdict == .insufficient)
        #expect(!c.warnings.isEmpty)
    }

    @Test func exactMetricsNeedNoTest() throws {
        func r(_ v: Double, reps: Int) -> [RepetitionResult] {
            (0..<reps).map { RepetitionResult(name: "x", threads: 1, repetition: $0, n: 1,
                                              metrics: [Metric(v, unit: "instructions/op", kind: .exact)]) }
        }
        let c = try Comparer.compare(base: r(1000, reps: 1), new: r(1070, reps: 1))
        #expect(c.rows[0].verdict == .regression && c.rows[0].pValue == nil)
        #expect(try Comparer.compare(base: r(1000, reps: 1), new: r(1030, reps: 1)).rows[0].verdict == .unchanged)
    }

    @Test func nothingInCommonIsBadInput() {
        let a = [RepetitionResult(name: "a", threads: 1, repetition: 0, n: 1, metrics: [Metric(1, unit: "ns/op", kind: .time)])]
        let b = [RepetitionResult(name: "b", threads: 1, repetition: 0, n: 1, metrics: [Metric(1, unit: "ns/op", kind: .time)])]
        #expect(throws: FormatError.self) { try Comparer.compare(base: a, new: b) }
    }

    @Test func loadResultsRejectsBadFiles() throws {
        #expect(throws: FormatError.self) { try loadResults(path: "/nonexistent/file.csv") }
        #expect(throws: FormatError.self) { try loadResults(path: try fixture("malformed.csv")) }
        #expect(throws: FormatError.self) { try loadResults(path: try fixture("badnumber.csv")) }
    }

    @Test func comparisonCSVHasOneRowPerPairPlusGeomeans() throws {
        let c = try Comparer.compare(base: try loadResults(path: try fixture("base.csv")),
                                     new: try loadResults(path: try fixture("slow10.csv")))
        let recs = try CSV.records(Comparer.csv(c))
        #expect(recs.count == 1 + c.rows.count + c.geomeans.count)
        #expect(recs[0].contains("p_value") && recs[0].contains("verdict"))
    }
}

@Suite struct SuiteManifestTests {
    let registry = Registry([
        Benchmark.simple("mutex/uncontended") { _ in },
        Benchmark.simple("mutex/contended/threads=2", threads: 2) { _ in },
        Benchmark.simple("chan/pingpong", threads: 2) { _ in },
    ])

    @Test func parsesEntriesAndOverrides() throws {
        let s = try Suite.parse("""
            name = "t"
            benchtime = "50ms"
            count = 4
            threshold = 5.0
            [[benchmark]]
            pattern = "^mutex/"
            threshold = 12.5
            count = 8
            [[benchmark]]
            name = "chan/pingpong"
            benchtime = "200x"
            """)
        let plans = try s.plans(from: registry)
        #expect(plans.map(\.benchmark.name) == ["mutex/uncontended", "mutex/contended/threads=2", "chan/pingpong"])
        #expect(plans[0].count == 8 && plans[0].benchTime == .nanoseconds(50_000_000))
        #expect(plans[2].count == 4 && plans[2].benchTime == .iterations(200))
        #expect(s.threshold(for: "mutex/uncontended") == 12.5)
        #expect(s.threshold(for: "chan/pingpong") == 5)
        let overridden = try s.plans(from: registry, benchTimeOverride: .iterations(3), countOverride: 1)
        #expect(overridden.allSatisfy { $0.count == 1 && $0.benchTime == .iterations(3) })
    }

    @Test(arguments: [
        ("[[benchmark]]\npattern = \"x\"\nspeed = 3\n", "unknown key \"speed\""),
        ("colour = 1\n[[benchmark]]\nname = \"x\"\n", "unknown key \"colour\""),
        ("name = \"t\"\n", "no [[benchmark]]"),
        ("[[benchmark]]\nname = \"a\"\npattern = \"b\"\n", "exactly one of"),
        ("[[benchmark]]\npattern = \"(\"\n", "invalid pattern"),
        ("count = 0\n[[benchmark]]\nname = \"x\"\n", "count must be"),
        ("benchtime = \"soon\"\n[[benchmark]]\nname = \"x\"\n", "invalid bench time"),
        ("this is not toml", "TOML syntax error"),
    ])
    func rejectsBadManifests(text: String, message: String) {
        do {
            _ = try Suite.parse(text)
            Issue.record("accepted a bad manifest")
        } catch let e as FormatError {
            #expect(e.description.contains(message), "\(e.description)")
        } catch let e as SelectionError {
            #expect(e.description.contains(message), "\(e.description)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func unknownNamesAndEmptyPatternsAreErrors() throws {
        let s = try Suite.parse("[[benchmark]]\nname = \"mutex/renamed\"\n")
        #expect(throws: SelectionError.self) { try s.plans(from: registry) }
        let p = try Suite.parse("[[benchmark]]\npattern = \"^nothing/\"\n")
        #expect(throws: SelectionError.self) { try p.plans(from: registry) }
    }

    @Test func registrySelectsLikeGoTestBench() throws {
        #expect(try registry.select("contended").map(\.name) == ["mutex/uncontended", "mutex/contended/threads=2"])
        #expect(try registry.select("^chan/").map(\.name) == ["chan/pingpong"])
        #expect(throws: SelectionError.self) { try registry.select("(") }
    }
}
