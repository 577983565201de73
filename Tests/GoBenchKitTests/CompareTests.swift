import Foundation
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
        #expect(reg.allSatisfy { $0.deltaPercent > 5 && $0.adjustedP! < 0.05 })
        #expect(c.hasRegression)
        // The same change is no regression when the threshold allows it.
        let lax = try Comparer.compare(base: try loadResults(path: try fixture("base.csv")),
                                       new: try loadResults(path: try fixture("slow10.csv")),
                                       policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 5) { $0 == "chan/pingpong" ? 15 : nil }))
        #expect(!lax.hasRegression)
    }

    static func results(_ values: [Double], unit: String, kind: MetricKind, better: Better = .lower,
                        name: String = "x", processes: [Int]? = nil) -> [RepetitionResult] {
        values.enumerated().map {
            RepetitionResult(name: name, threads: 1, repetition: $0.offset, n: 1,
                             metrics: [Metric($0.element, unit: unit, better: better, kind: kind)],
                             process: processes?[$0.offset])
        }
    }

    /// A policy that also judges `units` for every benchmark.
    static func judging(_ units: [String]) -> VerdictPolicy {
        var p = VerdictPolicy()
        p.suiteMetrics = { _ in units }
        return p
    }

    @Test func improvementsAndDirection() throws {
        let base = [100.0, 101, 99, 100.5, 99.5, 100.2]
        let faster = base.map { $0 * 0.8 }
        #expect(try Comparer.compare(base: Self.results(base, unit: "ns/op", kind: .time),
                                     new: Self.results(faster, unit: "ns/op", kind: .time)).rows[0].verdict == .improvement)
        // For a higher-is-better metric the same drop is a regression.
        #expect(try Comparer.compare(base: Self.results(base, unit: "MB/s", kind: .count, better: .higher),
                                     new: Self.results(faster, unit: "MB/s", kind: .count, better: .higher),
                                     policy: Self.judging(["MB/s"])).rows[0].verdict == .regression)
    }

    @Test func onlyPrimaryMetricsAreJudged() throws {
        let base = [10.0, 10.1, 9.9, 10.05, 9.95, 10.02]
        let worse = base.map { $0 * 3 }
        // spins/op tripled, but it is neither primary nor named by a suite.
        let c = try Comparer.compare(base: Self.results(base, unit: "spins/op", kind: .count),
                                     new: Self.results(worse, unit: "spins/op", kind: .count))
        #expect(c.rows[0].verdict == .info && c.rows[0].note == "not a primary metric" && !c.hasRegression)
        // A benchmark that declares it primary gets it judged,
        var declared = VerdictPolicy()
        declared.declaredPrimary = { $0 == "x" ? ["spins/op"] : [] }
        #expect(try Comparer.compare(base: Self.results(base, unit: "spins/op", kind: .count),
                                     new: Self.results(worse, unit: "spins/op", kind: .count), policy: declared).hasRegression)
        // and a suite can switch a benchmark off entirely.
        var off = VerdictPolicy()
        off.isJudged = { _ in false }
        #expect(try !Comparer.compare(base: Self.results(base, unit: "ns/op", kind: .time),
                                      new: Self.results(worse, unit: "ns/op", kind: .time), policy: off).hasRegression)
        // Conditions are never judged, whatever the suite says.
        let cond = try Comparer.compare(base: Self.results(base, unit: "parallelism", kind: .condition),
                                        new: Self.results(worse, unit: "parallelism", kind: .condition),
                                        policy: Self.judging(["parallelism"]))
        #expect(cond.rows[0].verdict == .info)
    }

    @Test func negligibleEventCountsAreNoVerdict() throws {
        let p = Self.judging(["context-switches/op", "parks/op", "starvations/op"])
        let rare = [1e-6, 1.1e-6, 0.9e-6, 1e-6, 1.2e-6, 1e-6]
        // +400% of almost nothing: unchanged.
        let tiny = try Comparer.compare(base: Self.results(rare, unit: "context-switches/op", kind: .count),
                                        new: Self.results(rare.map { $0 * 5 }, unit: "context-switches/op", kind: .count), policy: p)
        #expect(tiny.rows[0].verdict == .unchanged && tiny.rows[0].deltaPercent > 300)
        // The same +400% on events that happen every op is a regression,
        let often = rare.map { $0 * 1e6 }
        #expect(try Comparer.compare(base: Self.results(often, unit: "parks/op", kind: .count),
                                     new: Self.results(often.map { $0 * 5 }, unit: "parks/op", kind: .count), policy: p)
            .rows[0].verdict == .regression)
        // and so is a time, however small.
        #expect(try Comparer.compare(base: Self.results(rare, unit: "ns/op", kind: .time),
                                     new: Self.results(rare.map { $0 * 5 }, unit: "ns/op", kind: .time))
            .rows[0].verdict == .regression)
        // A count whose name ends in "ns" is a count because it says so.
        let starved = try Comparer.compare(base: Self.results(rare, unit: "starvations/op", kind: .count),
                                           new: Self.results(rare.map { $0 * 5 }, unit: "starvations/op", kind: .count), policy: p)
        #expect(starved.rows[0].verdict == .unchanged)
    }

    @Test func tooFewValuesAreSaidSo() throws {
        let c = try Comparer.compare(base: Self.results([1], unit: "ns/op", kind: .time),
                                     new: Self.results([2], unit: "ns/op", kind: .time))
        #expect(c.rows[0].verdict == .insufficient)
        #expect(!c.warnings.isEmpty)
    }

    @Test func noisyRowsThatCannotDetectTheirThresholdAreNotAPass() throws {
        // 20% noise, three values a side: a 5% threshold is far below what
        // this sample could detect.
        let c = try Comparer.compare(base: Self.results([100, 125, 85], unit: "ns/op", kind: .time),
                                     new: Self.results([104, 80, 121], unit: "ns/op", kind: .time))
        #expect(c.rows[0].verdict == .underpowered)
        #expect(c.rows[0].detectable! > 5)
    }

    @Test func theWorkerProcessIsTheUnitOfReplication() throws {
        // Two processes a side, six repetitions each. Each process sits at
        // its own level (layout, heap state); the repetitions within one
        // agree to 0.1%. Counted as 12 independent values the 6% shift looks
        // certain; counted as 2 processes a side it is not established.
        let levels = [100.0, 104.0], newLevels = [106.0, 110.0]
        func reps(_ lv: [Double]) -> ([Double], [Int]) {
            var v: [Double] = [], p: [Int] = []
            for (i, l) in lv.enumerated() { for k in 0..<6 { v.append(l * (1 + Double(k) * 0.0002)); p.append(i) } }
            return (v, p)
        }
        let (bv, bp) = reps(levels), (nv, np) = reps(newLevels)
        let byProcess = try Comparer.compare(base: Self.results(bv, unit: "ns/op", kind: .time, processes: bp),
                                             new: Self.results(nv, unit: "ns/op", kind: .time, processes: np))
        #expect(byProcess.rows[0].verdict != .regression)
        let byRepetition = try Comparer.compare(base: Self.results(bv, unit: "ns/op", kind: .time),
                                                new: Self.results(nv, unit: "ns/op", kind: .time),
                                                policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 2)))
        #expect(byRepetition.rows[0].verdict == .regression)
    }

    @Test func exactMetricsNeedNoTest() throws {
        let c = try Comparer.compare(base: Self.results([1000], unit: "instructions/op", kind: .exact),
                                     new: Self.results([1070], unit: "instructions/op", kind: .exact))
        #expect(c.rows[0].verdict == .regression && c.rows[0].pValue == nil)
        #expect(try Comparer.compare(base: Self.results([1000], unit: "instructions/op", kind: .exact),
                                     new: Self.results([1030], unit: "instructions/op", kind: .exact)).rows[0].verdict == .unchanged)
    }

    @Test func oneMoreAllocationPerOpIsARegressionAtAnyPercentage() throws {
        func allocs(_ v: Double) -> [RepetitionResult] { Self.results([v, v, v], unit: "allocs/op", kind: .exact) }
        #expect(try Comparer.compare(base: allocs(100), new: allocs(101)).rows[0].verdict == .regression)
        #expect(try Comparer.compare(base: allocs(100), new: allocs(100.4)).rows[0].verdict == .unchanged)
        #expect(try Comparer.compare(base: allocs(2), new: allocs(1)).rows[0].verdict == .improvement)
    }

    @Test func anExactMetricThatVariesIsJudgedLikeACount() throws {
        // B/op of code with a random seed: fractions of a byte per op that
        // move by a large percentage between runs of unchanged code.
        let base = Self.results([0.01, 0.02, 0.015, 0.03, 0.012, 0.018], unit: "B/op", kind: .exact)
        let new = Self.results([0.31, 0.46, 0.28, 0.40, 0.35, 0.44], unit: "B/op", kind: .exact)
        let c = try Comparer.compare(base: base, new: new)
        #expect(c.rows[0].verdict == .unchanged, "under one byte per op: \(c.rows[0].verdict)")
        // Varying allocation counts that grew by whole allocations, clearly.
        let more = try Comparer.compare(base: Self.results([10, 10.2, 9.9, 10.1, 10, 10.05], unit: "allocs/op", kind: .exact),
                                        new: Self.results([14, 14.1, 13.9, 14.2, 14, 14.05], unit: "allocs/op", kind: .exact))
        #expect(more.rows[0].verdict == .regression && more.rows[0].pValue != nil)
        // Constant within each run, different between runs: the fraction of
        // a byte per op that n, calibrated anew, amortizes differently.
        let amortized = try Comparer.compare(base: Self.results([0.0226, 0.0226, 0.0226], unit: "B/op", kind: .exact),
                                             new: Self.results([0.0302, 0.0302, 0.0302], unit: "B/op", kind: .exact))
        #expect(amortized.rows[0].verdict == .unchanged)
        // A constant count stays exact: no test.
        let constant = try Comparer.compare(base: Self.results([3, 3, 3], unit: "allocs/op", kind: .exact),
                                            new: Self.results([4, 4, 4], unit: "allocs/op", kind: .exact))
        #expect(constant.rows[0].verdict == .regression && constant.rows[0].pValue == nil)
    }

    @Test func adjustmentsMatchTheirDefinitions() {
        let p = [0.01, 0.04, 0.03, 0.005]
        let bh = VerdictPolicy.adjust(p, method: .benjaminiHochberg)
        let holm = VerdictPolicy.adjust(p, method: .holm)
        for (x, y) in zip(bh, [0.02, 0.04, 0.04, 0.02]) { #expect(abs(x - y) < 1e-12) }
        for (x, y) in zip(holm, [0.03, 0.06, 0.06, 0.02]) { #expect(abs(x - y) < 1e-12) }
        #expect(VerdictPolicy.adjust(p, method: .none) == p)
    }

    @Test func errorControlKeepsAnAAComparisonOfManyRowsQuiet() throws {
        // 300 benchmarks of unchanged code, 3% noise, 12 values a side.
        // Unadjusted, about 5% of rows come out significant; after
        // Benjamini-Hochberg or Holm none does, and no row is a verdict.
        var rng = SeededNoise(seed: 42)
        var base: [RepetitionResult] = [], new: [RepetitionResult] = []
        for b in 0..<300 {
            for r in 0..<12 {
                base.append(RepetitionResult(name: "b\(b)", threads: 1, repetition: r, n: 1,
                                             metrics: [Metric(100 * exp(0.03 * rng.normal()), unit: "ns/op", kind: .time)]))
                new.append(RepetitionResult(name: "b\(b)", threads: 1, repetition: r, n: 1,
                                            metrics: [Metric(100 * exp(0.03 * rng.normal()), unit: "ns/op", kind: .time)]))
            }
        }
        func falseAlarms(_ m: ErrorControl) throws -> Int {
            var p = VerdictPolicy(thresholds: Thresholds(defaultPercent: 0))
            p.errorControl = m
            let c = try Comparer.compare(base: base, new: new, policy: p)
            if m != .none { #expect(!c.hasRegression && !c.rows.contains { $0.verdict == .improvement }) }
            return c.rows.filter { $0.adjustedP! < 0.05 }.count
        }
        let unadjusted = try falseAlarms(.none)
        #expect(unadjusted > 5, "unadjusted: \(unadjusted) of 300")
        #expect(try falseAlarms(.benjaminiHochberg) == 0)
        #expect(try falseAlarms(.holm) == 0)
    }

    @Test func differentMachinesAreRefusedUnlessAskedFor() throws {
        let m = MachineFingerprint.current()
        var other = m
        other.model += 1
        let a = ResultSet(results: Self.results([10, 10.1, 9.9, 10], unit: "ns/op", kind: .time), machine: m, path: "a.csv")
        let b = ResultSet(results: Self.results([20, 20.1, 19.9, 20], unit: "ns/op", kind: .time), machine: other, path: "b.csv")
        var warnings: [String] = []
        #expect(throws: MachineMismatchError.self) { try Comparer.checkMachines(a, b, crossMachine: false, warnings: &warnings) }
        do {
            _ = try Comparer.checkMachines(a, b, crossMachine: false, warnings: &warnings)
        } catch let e as MachineMismatchError {
            // Base first, then new.
            #expect(e.description.contains("cpu-model \(m.model) vs \(m.model + 1)"))
        }
        #expect(try Comparer.checkMachines(a, b, crossMachine: true, warnings: &warnings))
        #expect(try !Comparer.checkMachines(a, a, crossMachine: false, warnings: &warnings))
        let unknown = ResultSet(results: a.results, path: "old.csv")
        #expect(throws: MachineMismatchError.self) { try Comparer.checkMachines(unknown, b, crossMachine: false, warnings: &warnings) }
        // Under --cross-machine the timing is shown, an exact count judged.
        var p = VerdictPolicy()
        p.crossMachine = true
        let mixed = try Comparer.compare(
            base: [RepetitionResult(name: "x", threads: 1, repetition: 0, n: 1, metrics: [Metric(10, unit: "ns/op", kind: .time), Metric(100, unit: "instructions/op", kind: .exact)]),
                   RepetitionResult(name: "x", threads: 1, repetition: 1, n: 1, metrics: [Metric(10.1, unit: "ns/op", kind: .time), Metric(100, unit: "instructions/op", kind: .exact)])],
            new: [RepetitionResult(name: "x", threads: 1, repetition: 0, n: 1, metrics: [Metric(30, unit: "ns/op", kind: .time), Metric(150, unit: "instructions/op", kind: .exact)]),
                  RepetitionResult(name: "x", threads: 1, repetition: 1, n: 1, metrics: [Metric(30.1, unit: "ns/op", kind: .time), Metric(150, unit: "instructions/op", kind: .exact)])],
            policy: p)
        #expect(mixed.rows.first { $0.unit == "ns/op" }!.verdict == .info)
        #expect(mixed.rows.first { $0.unit == "instructions/op" }!.verdict == .regression)
    }

    @Test func nothingInCommonIsBadInput() {
        let a = [RepetitionResult(name: "a", threads: 1, repetition: 0, n: 1, metrics: [Metric(1, unit: "ns/op", kind: .time)])]
        let b = [RepetitionResult(name: "b", threads: 1, repetition: 0, n: 1, metrics: [Metric(1, unit: "ns/op", kind: .time)])]
        #expect(throws: FormatError.self) { try Comparer.compare(base: a, new: b) }
    }

    @Test func loadResultsRejectsBadFiles() throws {
        #expect(throws: InputError.self) { try loadResults(path: "/nonexistent/file.csv") }
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

@Suite struct TrimmedMeanTestTests {
    /// scipy.stats.ttest_ind(log(a), log(b), equal_var=False, trim=0.2) in SciPy 1.17: Yuen-Welch.
    @Test func twoSampleMatchesSciPy() throws {
        let a = [100, 101, 99, 100.5, 99.5, 100.2, 100.1, 99.8].map { log($0) }
        let b = [104, 105, 103.5, 104.2, 104.8, 103.9, 104.4, 150].map { log($0) }
        let t = try #require(TrimmedMeanTest(logBase: a, logNew: b))
        #expect(abs(t.t - 14.693948846667965) < 1e-9)
        #expect(abs(t.degreesOfFreedom - 9.80345005156206) < 1e-9)
        #expect(abs(t.pValue - 5.322733173890308e-08) / 5.322733173890308e-08 < 1e-6)
    }

    /// scipy.stats.t: ppf(0.975, 7.3), ppf(0.8, 7.3), 2 * sf(2.5, 4.5).
    @Test func studentTMatchesSciPy() {
        #expect(abs(StudentT.quantile(0.975, df: 7.3) - 2.345066736547703) < 1e-9)
        #expect(abs(StudentT.quantile(0.8, df: 7.3) - 0.8936713571802273) < 1e-9)
        #expect(abs(StudentT.twoSidedP(2.5, df: 4.5) - 0.059905686502200545) < 1e-12)
    }

    @Test func aSampleWinsorizedFlatIsNotCertain() throws {
        let a = [1.0, 1, 1, 1, 1, 1.3].map { log($0) }, b = [1.02, 1.02, 1.02, 1.02, 1.02, 0.8].map { log($0) }
        let t = try #require(TrimmedMeanTest(logBase: a, logNew: b))
        #expect(t.standardError > 0 && t.pValue > 0)
    }

    @Test func oneTrimmedOutlierDoesNotDecide() throws {
        let base = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0].map { log($0) }
        var spiky = base
        spiky[3] = log(9.0)  // one repetition hit by a preemption
        let t = try #require(TrimmedMeanTest(logBase: base, logNew: spiky))
        #expect(t.pValue > 0.5)
    }
}

/// A seeded normal generator for the tests: GoBenchKit's SplitMix64 (the
/// one behind --order shuffle) through Box-Muller.
struct SeededNoise {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func uniform() -> Double { (Double(generator.next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
}
