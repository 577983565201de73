// The harness's own yardsticks: what an empty loop costs, Go's spin-wait
// primitive, and compare-and-swap with and without a second thread.

import GoBenchKit
import GoRuntime
import Foundation
import Synchronization

/// Shared state for the CAS benchmarks: one word, padded so nothing else
/// shares its cache line.
final class CASCell: @unchecked Sendable {
    let value = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    private let _pad: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
}

/// Increments `cell` with a load + compareExchange loop; returns failed CAS
/// attempts (retries).
@inline(__always)
func casIncrement(_ cell: CASCell, times n: Int) -> Int {
    var failures = 0
    for _ in 0..<n {
        var old = cell.value.load(ordering: .relaxed)
        while true {
            let (done, seen) = cell.value.compareExchange(expected: old, desired: old &+ 1, ordering: .acquiringAndReleasing)
            if done { break }
            failures += 1
            old = seen
        }
    }
    return failures
}

/// The slowdown `harness/calibrate` injects, in percent of its work. Set
/// in-process by `gobench calibrate`, or for a whole process through the
/// environment variable GOBENCH_CALIBRATE_SLOWDOWN_PCT (how `ab` tests make
/// a deliberately slower candidate out of the same binary).
public enum CalibrationKnob {
    private static let percent = Atomic<Int>(
        Int(ProcessInfo.processInfo.environment["GOBENCH_CALIBRATE_SLOWDOWN_PCT"] ?? "") ?? 0)

    public static var slowdownPercent: Int {
        get { percent.load(ordering: .relaxed) }
        set { percent.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Base work per iteration: dependent xorshift rounds (about 1 ns
    /// each), so the injected extra work is an exact fraction.
    public static let baseSteps = 200
}

/// `steps` dependent xorshift64 rounds: a fixed amount of ALU work per
/// call that the optimizer can neither fold nor vectorize.
@inline(never)
func xorshiftRounds(_ seed: UInt64, steps: Int) -> UInt64 {
    var x = seed
    for _ in 0..<steps {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
    }
    return x
}

func harnessBenchmarks() -> [Benchmark] {
    // Two sizes of one loop: instruction-count metrics (callgrind,
    // hardware counters) must see about twice the work in the second.
    let xorshift = [32, 64].map { steps in
        Benchmark.simple("harness/xorshift/steps=\(steps)",
                  summary: "\(steps) dependent xorshift rounds per op: fixed ALU work, a yardstick for instruction counts") { worker in
            var x = opaque(UInt64(0x9E37_79B9_7F4A_7C15))
            for _ in 0..<worker.n { x = xorshiftRounds(x, steps: opaque(steps)) }
            blackHole(x)
        }
    }
    return [
        Benchmark("harness/empty",
                  summary: "empty body: the harness's own cost per iteration; ns/run is the fixed cost of a timed region") { run in
            // The optimizer deletes an empty loop, as it should: what is
            // left is the runner's fixed cost per run (two clock reads and
            // the barrier exit), amortised over n. ns/run shows it whole.
            run.teardown { run.report(Double(run.elapsedNanoseconds), unit: "ns/run", kind: .time) }
            return { worker in for _ in 0..<worker.n {} }
        },
        Benchmark("harness/calibrate",
                  summary: "fixed dependent-arithmetic work plus an injectable slowdown (gobench calibrate, ab tests)") { _ in
            let steps = CalibrationKnob.baseSteps * (100 + CalibrationKnob.slowdownPercent) / 100
            return { worker in
                var x = UInt64(worker.index + 1)
                for _ in 0..<worker.n { x = xorshiftRounds(x, steps: steps) }
                blackHole(x)
            }
        },
        Benchmark.simple("spin/procyield/n=30",
                  summary: "procyield(30): 30 PAUSE instructions, the spin of Go's mutex and runtime locks") { worker in
            for _ in 0..<worker.n { Machine.procyield(30) }
        },
        Benchmark("atomic/cas/uncontended",
                  summary: "load + compareExchange increment of a word no other thread touches") { run in
            let cell = CASCell()
            run.teardown { precondition(cell.value.load(ordering: .relaxed) == run.n, "lost an increment") }
            return { worker in _ = casIncrement(cell, times: worker.n) }
        },
        Benchmark("atomic/cas/contended/threads=2", threads: 2,
                  summary: "two threads increment one word with CAS loops; retries/op counts failed CAS", primaryMetrics: ["retries/op"]) { run in
            let cell = CASCell()
            run.teardown {
                precondition(cell.value.load(ordering: .relaxed) == run.n, "lost an increment")
                run.report(Double(cell.failures.load(ordering: .relaxed)) / Double(max(run.n, 1)), unit: "retries/op")
            }
            return { worker in
                let f = casIncrement(cell, times: worker.n)
                cell.failures.add(f, ordering: .relaxed)
            }
        },
    ] + xorshift
}
