// Goroutine stacks (GoRuntime/Stack): the cost of growing a fresh 2 KiB
// stack by copying, the same recursion on a stack already grown, and the
// "hot split" of segmented stacks (Go 1.2) against contiguous ones (Go 1.4+).
// Every benchmark runs the verifying RecursionDriver: 64-byte frames that
// write values and pointers into the stack and check them through the
// pointers on the way back. Go 1.19's counterparts: suites/go/stack_test.go.

import GoBenchKit
import GoRuntime

/// Stack counters summed over the stacks one run used (touched only by the
/// single worker thread and, after it joined, by the teardown).
final class StackRunTotals: @unchecked Sendable {
    var copies = 0
    var bytesCopied = 0
    var segments = 0
    var pointersAdjusted = 0

    init() {}

    /// The counts between two snapshots of one stack's statistics.
    init(since before: StackStats, now: StackStats) {
        copies = now.copies - before.copies
        bytesCopied = now.bytesCopied - before.bytesCopied
        segments = now.segmentsAllocated - before.segmentsAllocated
        pointersAdjusted = now.pointersAdjusted - before.pointersAdjusted
    }

    func add(_ s: StackStats) {
        copies += s.copies
        bytesCopied += s.bytesCopied
        segments += s.segmentsAllocated
        pointersAdjusted += s.pointersAdjusted
    }

    func report(_ run: RunContext) {
        let n = Double(max(run.n, 1))
        run.report(Double(copies) / n, unit: "copies/op")
        run.report(Double(bytesCopied) / n, unit: "bytes-copied/op")
        run.report(Double(segments) / n, unit: "segments/op")
        run.report(Double(pointersAdjusted) / n, unit: "ptrs-adjusted/op")
    }
}

/// Frames of a native Swift recursion with the same work as the driver
/// (a value, a pointer to it, a pointer to the caller's value): the cost of
/// the recursion on the thread's own, never-moving stack.
@inline(never)
func nativeRecurse(_ n: Int, _ parent: UnsafeMutablePointer<UInt64>) -> UInt64 {
    var v: (UInt64, UInt64, UInt64, UInt64) = (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15 ^ parent.pointee, 0, 0, 0)
    v.1 = v.0 >> 7
    if n == 0 { return v.0 &+ v.1 }
    let r = withUnsafeMutablePointer(to: &v.0) { nativeRecurse(n - 1, opaque($0)) }
    if v.1 != v.0 >> 7 { fatalError("native recursion lost a value") }
    return r &* 31 &+ v.0 &+ v.1
}

func stackBenchmarks() -> [Benchmark] {
    var list: [Benchmark] = []
    for depth in [10, 100, 1000, 10000] {
        list.append(Benchmark("stack/grow/depth=\(depth)",
                              summary: "fresh 2 KiB contiguous stack, recurse \(depth) x 64-byte frames and back (grow by copying)") { run in
            let fn = RecursionDriver.function(frameSize: 64)
            let totals = StackRunTotals()
            run.teardown { totals.report(run) }
            return { worker in
                for _ in 0..<worker.n {
                    let s = GoroutineStack(mode: .contiguous)
                    blackHole(RecursionDriver(stack: s, frame: fn).run(depth: depth))
                    totals.add(s.stats)
                }
            }
        })
    }
    list.append(Benchmark("stack/grow/depth=1000/mode=segmented",
                          summary: "fresh 2 KiB segmented stack, recurse 1000 x 64-byte frames and back (link segments)") { run in
        let fn = RecursionDriver.function(frameSize: 64)
        let totals = StackRunTotals()
        run.teardown { totals.report(run) }
        return { worker in
            for _ in 0..<worker.n {
                let s = GoroutineStack(mode: .segmented)
                blackHole(RecursionDriver(stack: s, frame: fn).run(depth: 1000))
                totals.add(s.stats)
            }
        }
    })
    for depth in [10, 100, 1000, 10000] {
        list.append(Benchmark("stack/grown/depth=\(depth)",
                              summary: "recurse \(depth) x 64-byte frames and back on a stack already grown to fit") { run in
            let s = GoroutineStack(mode: .contiguous)
            let d = RecursionDriver(stack: s)
            d.run(depth: depth)                       // grow once, untimed
            let before = s.stats
            run.teardown {
                StackRunTotals(since: before, now: s.stats).report(run)
            }
            return { worker in
                for _ in 0..<worker.n { blackHole(d.run(depth: depth)) }
            }
        })
    }
    list.append(Benchmark.simple("stack/swift-recursion/depth=1000",
                                 summary: "Swift anchor: the same recursion natively on the thread's stack") { worker in
        var x: UInt64 = 1
        for _ in 0..<worker.n { blackHole(nativeRecurse(1000, &x)) }
    })
    for mode in [StackMode.contiguous, .segmented] {
        let name = mode == .contiguous ? "contiguous" : "segmented"
        list.append(Benchmark("stack/hotsplit/mode=\(name)",
                              summary: "call+return of a 64-byte frame with 24 bytes of arguments and result in a loop at a stack boundary (\(name))") { run in
            let s = GoroutineStack(mode: mode)
            let d = RecursionDriver(stack: s)
            let levels = d.descendToBoundary()          // the loop's next call grows or splits
            let before = s.stats
            run.teardown {
                StackRunTotals(since: before, now: s.stats).report(run)
                d.ascend(levels)
            }
            return { worker in blackHole(d.callLoop(worker.n)) }
        })
    }
    return list
}
