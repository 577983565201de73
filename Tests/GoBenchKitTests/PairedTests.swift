// Paired statistics against SciPy 1.17 (scipy.stats.wilcoxon,
// alternative="two-sided", method="exact" or method="approx" with
// correction=True), drift flags, and the side-by-side ratio interval.

import Foundation
import Testing
@testable import GoBenchKit

@Suite struct PairedTests {
    @Test(arguments: [
        ([1.02, 1.05, 0.99, 1.07, 1.04, 1.06, 1.03, 1.08], 1.0, 0.015625, true),
        ([1.01, 0.98, 1.02, 0.97, 1.03, 0.99, 1.00001, 1.015, 0.985, 1.005], 27.0, 1.0, true),
        ([1.10, 1.12, 1.09, 1.11, 1.13, 1.08], 0.0, 0.03125, true),
    ] as [([Double], Double, Double, Bool)])
    func signedRankExactMatchesSciPy(ratios: [Double], statistic: Double, p: Double, exact: Bool) {
        let t = WilcoxonSignedRank(ratios.map { log($0) })
        #expect(t.exact == exact)
        #expect(t.statistic == statistic)
        #expect(abs(t.pValue - p) < 1e-9, "p = \(t.pValue), SciPy \(p)")
    }

    @Test func signedRankWithTiesUsesTheCorrectedNormalApproximation() {
        let t = WilcoxonSignedRank([0.1, 0.1, -0.1, 0.2, 0.2, 0.3, -0.05, 0.15])
        #expect(!t.exact)
        #expect(t.statistic == 4)
        #expect(abs(t.pValue - 0.05716215091687627) < 1e-9, "p = \(t.pValue)")
    }

    func rounds(_ name: String, _ values: [Double], unit: String = "ns/op") -> [RepetitionResult] {
        values.enumerated().map { RepetitionResult(name: name, threads: 1, repetition: $0.offset, n: 100,
                                                   metrics: [Metric($0.element, unit: unit, kind: .legacy(unit: unit, better: .lower, exact: false))]) }
    }

    @Test func pairingCancelsSharedDrift() throws {
        // The machine drifts 3x across rounds; the candidate is always 8%
        // slower in its round. Unpaired, the drift drowns the change;
        // paired, it is a clear regression.
        let drift = [100.0, 140, 180, 220, 260, 300, 250, 200]
        let base = rounds("x", drift), cand = rounds("x", drift.map { $0 * 1.08 })
        let paired = try PairedComparison(base: base, candidate: cand)
        #expect(paired.rows[0].verdict == .regression)
        #expect(abs(paired.rows[0].ratio.median - 1.08) < 1e-9)
        #expect(try !Comparer.compare(base: base, new: cand).hasRegression)
    }

    @Test func sameBuildGivesNoRegressionAndFewRoundsAreSaidSo() throws {
        let a = rounds("x", [10, 11, 9.5, 10.2, 10.1, 9.9, 10.4])
        let b = rounds("x", [10.1, 10.8, 9.6, 10.1, 10.2, 10.0, 10.3])
        #expect(try !PairedComparison(base: a, candidate: b).hasRegression)
        let few = try PairedComparison(base: rounds("x", [1]), candidate: rounds("x", [2]))
        #expect(few.rows[0].verdict == .insufficient && !few.warnings.isEmpty)
        #expect(throws: FormatError.self) { try PairedComparison(base: a, candidate: rounds("y", [1])) }
    }

    @Test func driftFlagsMarkOddRepetitions() {
        func rep(_ i: Int, steal: Double, par: Double, ivcs: Double) -> RepetitionResult {
            RepetitionResult(name: "m", threads: 2, repetition: i, n: 1, metrics: [
                Metric(10, unit: "ns/op", kind: .time), Metric(par, unit: "parallelism", kind: .condition),
                Metric(steal, unit: "steal-pct", kind: .condition), Metric(ivcs, unit: "invol-cs", kind: .condition)])
        }
        let reps = [rep(0, steal: 0, par: 1.9, ivcs: 2), rep(1, steal: 0.5, par: 1.95, ivcs: 3),
                    rep(2, steal: 12, par: 1.9, ivcs: 2), rep(3, steal: 0, par: 1.1, ivcs: 1),
                    rep(4, steal: 0, par: 1.92, ivcs: 200), rep(5, steal: 0.2, par: 1.88, ivcs: 2)]
        let flags = DriftFlags.flagged(reps)
        #expect(Set(flags.keys) == Set([2, 3, 4].map { reps[$0].key }))
        #expect(flags[reps[2].key]!.contains("steal"))
        #expect(flags[reps[3].key]!.contains("parallelism"))
        #expect(flags[reps[4].key]!.contains("preemptions"))
    }

    @Test func driftInstrumentReportsPlausibleConditions() throws {
        let spin = Benchmark("test/spin2", threads: 2) { _ in
            { worker in
                let end = monotonicNanos() + 30_000_000
                var x = 0
                while monotonicNanos() < end { x &+= 1 }
                blackHole(x)
            }
        }
        let r = Runner(instruments: [DriftInstrument()]).runRepetition(spin, n: 2, repetition: 0)
        let steal = try #require(r.metric("steal-pct")).value
        #expect(steal >= 0 && steal <= 100)
        #expect(try #require(r.metric("invol-cs")).value >= 0)
        #expect(try #require(r.metric("loadavg-1m")).value >= 0)
        // Two spinning threads: at most 2x, whatever the VM grants; near
        // 1x or more when the machine is otherwise quiet.
        let par = try #require(r.metric("parallelism")).value
        let quiet = try #require(r.metric("loadavg-1m")).value < 1
        #expect(par > 0 && par < 2.05, "parallelism \(par)")
        if quiet { #expect(par > 0.9, "parallelism \(par) on a quiet machine") }
        let single = Runner().runRepetition(Benchmark.simple("test/one") { w in
            let end = monotonicNanos() + 20_000_000
            var x = 0
            while monotonicNanos() < end { x &+= w.n }
            blackHole(x)
        }, n: 1, repetition: 0)
        // cpu-ns/op over ns/op is a single thread's parallelism: near 1.
        let ratio = single.metric("cpu-ns/op")!.value / single.metric("ns/op")!.value
        #expect(ratio > 0 && ratio <= 1.05, "single-thread cpu/wall \(ratio)")
        if quiet { #expect(ratio > 0.8, "single-thread cpu/wall \(ratio) on a quiet machine") }
    }
}
