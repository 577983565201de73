// Tests of the paired sampling-overhead measurement (ProfileOverhead.swift):
// the schedule's balance, the estimate's arithmetic, the stack-accuracy
// predicate, and a tiny end-to-end run.

import Foundation
import Testing
@testable import GoBenchKit

@Suite struct ProfileOverheadTests {
    @Test func everyArmGetsItsPairsForEveryBenchmarkWithTheOrderBalanced() {
        let steps = OverheadSchedule.steps(benchmarks: 3, arms: 4, pairs: 6, seed: 7)
        #expect(steps.count == 3 * 4 * 6)
        for b in 0..<3 {
            for a in 0..<4 {
                let mine = steps.filter { $0.benchmark == b && $0.arm == a }
                #expect(mine.map(\.block) == Array(0..<6), "one pair per block, blocks in order")
                #expect(mine.filter(\.sampledFirst).count == 3, "ABBA: half the pairs sampled first")
                #expect(mine.allSatisfy { $0.sampledFirst == ($0.block % 2 == 1) })
            }
        }
        // Blocks run in order: all of block k before any of block k+1.
        #expect(steps.map(\.block) == steps.map(\.block).sorted())
    }

    @Test func theArmOrderIsSeededAndShuffled() {
        let a = OverheadSchedule.steps(benchmarks: 2, arms: 6, pairs: 4, seed: 1)
        #expect(a == OverheadSchedule.steps(benchmarks: 2, arms: 6, pairs: 4, seed: 1))
        #expect(a.map(\.arm) != OverheadSchedule.steps(benchmarks: 2, arms: 6, pairs: 4, seed: 2).map(\.arm))
        // Within one seed the arms' order changes from block to block (6!
        // orders: eight identical blocks would be a broken shuffle).
        let orders = Set((0..<4).map { k in a.filter { $0.block == k && $0.benchmark == 0 }.map(\.arm) })
        #expect(orders.count > 1)
        // Every block still holds each arm once per benchmark.
        for k in 0..<4 { #expect(a.filter { $0.block == k && $0.benchmark == 1 }.map(\.arm).sorted() == Array(0..<6)) }
    }

    @Test func aConstantRatioIsEstimatedExactly() throws {
        let base = [100.0, 120, 90, 110, 105, 98]
        let e = try #require(OverheadEstimate(base: base, sampled: base.map { $0 * 1.05 }))
        #expect(abs(e.ratio - 1.05) < 1e-12)
        #expect(abs(e.low - 1.05) < 1e-12 && abs(e.high - 1.05) < 1e-12)
        #expect(e.pValue == 0)
        #expect(e.pairs == 6)
    }

    @Test func pairingCancelsDriftThatAnUnpairedRatioWouldNot() throws {
        // The machine slows down 10x over the run; every pair sees the same
        // speed on both sides, and the sampled side costs 2% more.
        var g = SplitMix64(seed: 3)
        var base: [Double] = [], sampled: [Double] = []
        for k in 0..<40 {
            let speed = 1 + 9 * Double(k) / 39
            let noise = { 1 + Double(g.next() % 1000) / 100_000 }   // up to +1%
            base.append(100 * speed * noise())
            sampled.append(102 * speed * noise())
        }
        let e = try #require(OverheadEstimate(base: base, sampled: sampled))
        #expect(e.low < 1.02 && 1.02 < e.high, "the interval holds the true ratio: \(e.text)")
        #expect(e.high - e.low < 0.01, "and is narrow although the values span 10x: \(e.text)")
        #expect(e.low > 1, "a 2% slowdown is detected: \(e.text)")
    }

    @Test func noDifferenceGivesAnIntervalAroundOne() throws {
        let base = [100.0, 101, 99, 100.5, 99.5, 100, 100.2, 99.8]
        let sampled = [100.4, 100.7, 99.2, 100.1, 99.9, 100.3, 99.9, 100.1]
        let e = try #require(OverheadEstimate(base: base, sampled: sampled))
        #expect(e.low < 1 && 1 < e.high)
        #expect(e.pValue > 0.05)
    }

    @Test func unusableInputGivesNoEstimate() {
        #expect(OverheadEstimate(base: [1, 2], sampled: [1]) == nil, "lengths differ")
        #expect(OverheadEstimate(base: [1], sampled: [1]) == nil, "one pair has no spread")
        #expect(OverheadEstimate(base: [1, 0], sampled: [1, 1]) == nil, "a zero time")
        #expect(OverheadEstimate(base: [1, .nan], sampled: [1, 1]) == nil)
    }

    @Test func aStackReachesTheBodyOnlyThroughTheRunnersWorkerClosure() {
        #expect(OverheadRun.reachesBody(["start_thread", "closure #1 in Runner.measure(_:n:counted:repetition:)", "body", "leaf"]))
        #expect(!OverheadRun.reachesBody(["leaf"]), "a chain cut at the leaf")
        #expect(!OverheadRun.reachesBody(["[truncated]", "body", "leaf"]))
    }

    @Test func theEstimateTextSaysPercentAndInterval() throws {
        let e = try #require(OverheadEstimate(base: [100, 100, 100], sampled: [101, 101, 101]))
        #expect(e.text == "+1.00% [+1.00, +1.00]")
    }

    /// A tiny run: the A/A control and (where perf's ring is granted) the
    /// kernel unwinder, on two busy benchmarks, 2 pairs of 2 ms repetitions.
    @Test func aTinyRunReportsEveryArmAndBenchmarkAndPoolsThem() throws {
        func busy(_ name: String) -> Benchmark {
            Benchmark.simple(name) { w in
                var x: UInt64 = 1
                for _ in 0..<w.n { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                blackHole(x)
            }
        }
        var arms = [OverheadArm.control]
        let kernel = Sampler.kernelCallchainsAvailable
        if kernel { arms.append(OverheadArm(SamplerConfig(hz: 997, unwinder: .kernel))) }
        let run = OverheadRun(benchmarks: [busy("test/busy-a"), busy("test/busy-b")], arms: arms, pairs: 2,
                              benchTime: .nanoseconds(2_000_000), seed: 1)
        let report = run.run()
        #expect(report.rows.count == arms.count * 3, "two benchmarks and the pooled row per arm")
        let control = try #require(report.rows.first { $0.arm == .control && $0.benchmark == "test/busy-a" })
        #expect(control.wall?.pairs == 2 && control.cpu?.pairs == 2)
        #expect(control.achievedHz == nil && control.reachesBody == nil, "the control samples nothing")
        let pooled = try #require(report.rows.first { $0.arm == .control && $0.benchmark == OverheadRun.pooledName })
        #expect(pooled.cpu?.pairs == 4)
        if kernel {
            let k = try #require(report.rows.first { $0.arm.sampler?.unwinder == .kernel && $0.benchmark == "test/busy-b" })
            #expect(k.samples > 0, "4 ms of sampled CPU at 997 Hz")
            #expect(k.achievedHz != nil)
            let kp = try #require(report.rows.first { $0.arm.sampler?.unwinder == .kernel && $0.benchmark == OverheadRun.pooledName })
            #expect(kp.samples == report.rows.filter { $0.arm == k.arm && $0.benchmark != OverheadRun.pooledName }.map(\.samples).reduce(0, +))
        }
        let csv = report.csv().split(separator: "\n")
        #expect(csv.count == 1 + report.rows.count)
        #expect(report.table().contains("test/busy-a"))
    }
}
