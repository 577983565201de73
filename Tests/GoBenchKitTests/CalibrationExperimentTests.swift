// The self-check experiments with measurements made up by the test: the
// order check flags exactly the benchmark that measures differently in
// its suite, a suite calibration stores the noise it saw, and a noise
// profile's detectable effect shrinks with more processes.

import Foundation
import Testing
@testable import GoBenchKit

@Suite struct CalibrationExperimentTests {
    static func plan(_ name: String, count: Int = 8) -> BenchmarkPlan {
        BenchmarkPlan(Benchmark.simple(name) { _ in }, benchTime: .iterations(1), count: count)
    }

    /// `count` repetitions of `name` around `level` with 1% noise.
    static func reps(_ name: String, level: Double, count: Int, rng: inout SeededNoise) -> [RepetitionResult] {
        (0..<count).map {
            RepetitionResult(name: name, threads: 1, repetition: $0, n: 1,
                             metrics: [Metric(level * exp(0.01 * rng.normal()), unit: "ns/op", kind: .time),
                                       Metric(3, unit: "spins/op", kind: .count)], process: $0)
        }
    }

    @Test func orderCheckFlagsOnlyTheBenchmarkThatDiffersInTheSuite() throws {
        let plans = [Self.plan("a"), Self.plan("b"), Self.plan("c")]
        final class Rng: @unchecked Sendable { var g = SeededNoise(seed: 7) }
        let rng = Rng()
        let check = OrderCheck(plans: plans, policy: VerdictPolicy(), inSuite: { plans in
            plans.flatMap { p in Self.reps(p.benchmark.name, level: p.benchmark.name == "b" ? 150 : 100, count: p.count, rng: &rng.g) }
        }, alone: { p in Self.reps(p.benchmark.name, level: 100, count: p.count, rng: &rng.g) })
        let c = try check.run(log: { _ in })
        #expect(c.rows.allSatisfy { $0.unit == "ns/op" })
        let differing = c.rows.filter { $0.verdict == .regression || $0.verdict == .improvement }.map(\.name)
        #expect(differing == ["b"])
    }

    @Test func suiteCalibrationStoresTheNoiseItSaw() throws {
        let plans = [Self.plan("quiet"), Self.plan("noisy")]
        final class Rng: @unchecked Sendable { var g = SeededNoise(seed: 11) }
        let rng = Rng()
        let calibration = NoiseCalibration(plans: plans, trials: 4, policy: VerdictPolicy()) { plans in
            plans.flatMap { p -> [RepetitionResult] in
                let sd = p.benchmark.name == "noisy" ? 0.10 : 0.01
                return (0..<p.count).map { i in
                    RepetitionResult(name: p.benchmark.name, threads: 1, repetition: i, n: 1,
                                     metrics: [Metric(100 * exp(sd * rng.g.normal()), unit: "ns/op", kind: .time)], process: i)
                }
            }
        }
        let o = try calibration.run(suite: "t", benchTime: "1x", count: 8, processes: 8, log: { _ in })
        let quiet = try #require(o.profile.entries.first { $0.name == "quiet" })
        let noisy = try #require(o.profile.entries.first { $0.name == "noisy" })
        #expect(abs(quiet.withinSD - 0.01) < 0.005, "\(quiet.withinSD)")
        #expect(abs(noisy.withinSD - 0.10) < 0.05, "\(noisy.withinSD)")
        #expect(quiet.trials == 4 && quiet.units == 8)
        let key = MetricKey(series: SeriesKey(name: "noisy"), unit: "ns/op")
        let at8 = try #require(o.profile.detectable(for: key, units: (8, 8), alpha: 0.05, power: 0.8))
        let at32 = try #require(o.profile.detectable(for: key, units: (32, 32), alpha: 0.05, power: 0.8))
        #expect(at8 > at32 && at32 > 0)
        #expect(o.profile.detectable(for: MetricKey(series: SeriesKey(name: "other"), unit: "ns/op"),
                                     units: (8, 8), alpha: 0.05, power: 0.8) == nil)

        // Stored per fingerprint, read back only on this machine.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noise-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try o.profile.write(resultsDirectory: dir)
        let back = try #require(try NoiseProfile.load(resultsDirectory: dir, machine: MachineFingerprint.current()))
        #expect(back.entries.count == o.profile.entries.count)
        var elsewhere = MachineFingerprint.current()
        elsewhere.family += 1
        #expect(try NoiseProfile.load(resultsDirectory: dir, machine: elsewhere) == nil)
    }

    @Test func aProfileRaisesTheDetectableEffectOfAQuietLookingSample() throws {
        // The sample looks quiet (0.1%), but A/A runs on this machine moved
        // by 5% between runs: the profile's figure wins.
        var rng = SeededNoise(seed: 3)
        let base = Self.reps("x", level: 100, count: 8, rng: &rng).map { r -> RepetitionResult in
            var r = r; r.metrics = [Metric(100 + Double(r.repetition) * 0.01, unit: "ns/op", kind: .time)]; return r
        }
        let new = base.map { r -> RepetitionResult in
            var r = r; r.metrics = [Metric(r.metrics[0].value * 1.03, unit: "ns/op", kind: .time)]; return r
        }
        var p = VerdictPolicy(thresholds: Thresholds(defaultPercent: 2))
        #expect(try Comparer.compare(base: base, new: new, policy: p).rows[0].verdict == .regression)
        p.noise = NoiseProfile(machine: .current(), date: "", suite: "t", benchTime: "1x", count: 8, processes: 8, trials: 5,
                               entries: [.init(name: "x", implementation: .swift, unit: "ns/op", withinSD: 0.001,
                                               betweenRunsSD: 0.05, units: 8, trials: 5, falseRegressions: 1)])
        let row = try Comparer.compare(base: base, new: new, policy: p).rows[0]
        #expect(row.verdict == .underpowered && row.detectableSource == "profile", "\(row.verdict) \(String(describing: row.detectableSource))")
    }
}
