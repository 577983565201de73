// Tests of the context switch itself (CGoRuntime/SchedSwitch.S): the
// floating-point control state the System V ABI makes callee-saved (MXCSR's
// control bits, the x87 control word) belongs to each goroutine and to g0,
// not to the thread.

import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import GoRuntime

/// Operands read at run time, so that the division below is done by the
/// CPU (SSE, under MXCSR's rounding mode) and not folded by the compiler.
nonisolated(unsafe) var fpOperands: [Double] = [1.0, 10.0]

/// 1/10 is 1.1001 1001...(binary) x 2^-4: the bits dropped from the
/// 53-bit significand start 1001..., so rounding to nearest rounds up
/// (0x3FB999999999999A) and rounding toward zero truncates (...9999).
@inline(never)
func oneTenth() -> Double { fpOperands[0] / fpOperands[1] }

/// The rounding modes one goroutine saw: the x87 control word's (fegetround
/// reads it) and MXCSR's (through an SSE division).
struct RoundingSeen: Equatable, CustomStringConvertible {
    var x87: Int32
    var sse: Double
    static func now() -> RoundingSeen { RoundingSeen(x87: fegetround(), sse: oneTenth()) }
    var description: String { "x87 mode \(x87), 1/10 = \(sse.bitPattern)" }
}

extension SyncTests.Sched {
    @Test("a goroutine's rounding mode (MXCSR, x87 control word) survives switches and does not leak to others")
    func floatingPointControlIsPerGoroutine() {
        let nearest = RoundingSeen.now()
        #expect(nearest.x87 == FE_TONEAREST)
        fesetround(FE_TOWARDZERO)
        let towardZero = RoundingSeen.now()
        fesetround(FE_TONEAREST)
        #expect(towardZero.x87 == FE_TOWARDZERO)
        #expect(towardZero.sse < nearest.sse, "the probe cannot tell the modes apart")

        let seenByA = GoBox([RoundingSeen]())
        let seenByB = GoBox([RoundingSeen]())
        let bDone = GoBox(false)
        Go.run(maxprocs: 1) {
            let wg = WaitGroup()
            wg.add(1)
            go {
                // A: start B (which inherits A's mode at that point: to
                // nearest), round toward zero, and yield until B has run
                // on this same M (maxprocs 1).
                wg.add(1)
                go {
                    seenByB.value.append(RoundingSeen.now())
                    bDone.value = true
                    wg.done()
                }
                fesetround(FE_TOWARDZERO)
                var spins = 0
                while !bDone.value && spins < 1_000 {
                    Go.yield()
                    seenByA.value.append(RoundingSeen.now())
                    spins += 1
                }
                fesetround(FE_TONEAREST)
                wg.done()
            }
            wg.wait()
            // main resumed after A and B ran on this thread.
            seenByB.value.append(RoundingSeen.now())
        }
        let after = RoundingSeen.now()
        fesetround(FE_TONEAREST)
        #expect(bDone.value)
        // B (and main after them) started with main's mode, not A's.
        #expect(seenByB.value == [nearest, nearest])
        // A kept its own mode across every yield.
        #expect(!seenByA.value.isEmpty)
        #expect(seenByA.value.allSatisfy { $0 == towardZero }, "\(seenByA.value)")
        // The thread that called Go.run (g0 of M0) got its mode back.
        #expect(after == nearest)
    }

    @Test("a new goroutine starts with its creator's rounding mode")
    func newGoroutineInheritsCreatorsMode() {
        let towardZero: RoundingSeen = {
            fesetround(FE_TOWARDZERO)
            defer { fesetround(FE_TONEAREST) }
            return RoundingSeen.now()
        }()
        let seen = GoBox([RoundingSeen]())
        Go.run(maxprocs: 1) {
            fesetround(FE_TOWARDZERO)
            let wg = WaitGroup()
            wg.add(1)
            go { seen.value.append(RoundingSeen.now()); wg.done() }
            fesetround(FE_TONEAREST)
            wg.wait()
        }
        fesetround(FE_TONEAREST)
        #expect(seen.value == [towardZero])
    }
}
