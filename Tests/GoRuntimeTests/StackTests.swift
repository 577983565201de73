// Tests of the goroutine stack model (Sources/GoRuntime/Stack): growth by
// copying with pointer adjustment, shrinking, segmented stacks, the pools
// and the per-thread cache, and the fatal paths.

import GoRuntime
import Testing

@Suite("Goroutine stacks", .serialized)
struct StackTests {
    @Test func freshStack() {
        let s = GoroutineStack(mode: .contiguous)
        #expect(s.size == StackLayout.fixedStack)
        #expect(s.size == 2048)
        #expect(s.used == 0)
        #expect(s.depth == 0)
        #expect(s.maxStackSize == 1_000_000_000)
        #expect(StackLayout.stackGuard == 928)
        #expect(StackLayout.stackLimit == 800)
        s.checkInvariants()
    }

    @Test(arguments: [StackMode.contiguous, .segmented])
    func callAndReturnRestoreRegisters(mode: StackMode) {
        let s = GoroutineStack(mode: mode)
        let f = StackFunc(name: "regs", frameSize: 48, pointerSlots: [0])
        let sp0 = s.stackPointer
        s.call(f)
        #expect(s.depth == 1)
        #expect(s.used == 48)
        #expect(s.framePointer == s.stackPointer + 32)
        s[local: 1] = 77
        s.checkInvariants()
        s.ret()
        #expect(s.depth == 0)
        #expect(s.stackPointer == sp0)
        #expect(s.framePointer == 0)
        s.checkInvariants()
    }

    /// The prologue's three check sequences (obj6.go stacksplit), at the
    /// exact byte where each starts to fail.
    @Test func prologueCheckMatchesGo() {
        let s = GoroutineStack()
        let guardAddr = s.bounds.lo + UInt(StackLayout.stackGuard)
        let filler = StackFunc(name: "filler8", frameSize: 24)           // 8 bytes of locals
        // Tiny frame (<= stackSmall): fails when entry SP <= guard.
        let tiny = StackFunc(name: "tiny", frameSize: 16 + 96)
        while !s.wouldGrow(tiny) { s.call(filler) }
        #expect(s.stackPointer - 8 <= guardAddr)
        #expect(s.stackPointer - 8 + 24 > guardAddr)
        // Medium frame: fails when entry SP - (F - stackSmall) <= guard.
        let medium = StackFunc(name: "medium", frameSize: 1008)       // F = 1000
        let s2 = GoroutineStack()
        while !s2.wouldGrow(medium) { s2.call(filler) }
        let g2 = s2.bounds.lo + UInt(StackLayout.stackGuard)
        #expect(s2.stackPointer - 8 - (1000 - 128) <= g2)
        #expect(s2.stackPointer - 8 + 24 - (1000 - 128) > g2)
        // Huge frame (> stackBig): always fails on a 2 KiB stack, and
        // growing makes room for the whole frame plus the guard.
        let huge = StackFunc(name: "hugeframe", frameSize: 8200)
        let s3 = GoroutineStack()
        #expect(s3.wouldGrow(huge))
        s3.call(huge)
        #expect(s3.size == 16384)
        #expect(s3.stackPointer >= s3.bounds.lo + UInt(StackLayout.stackGuard))
        s3.ret(huge)
        s3.checkInvariants()
        while s.depth > 0 { s.ret(filler) }
        while s2.depth > 0 { s2.ret() }
    }

    @Test func growthDoublesAndKeepsPointers() {
        let s = GoroutineStack(mode: .contiguous)
        let d = RecursionDriver(stack: s)
        d.verifyAfterMoves = true
        var sizes = [s.size]
        for _ in 0..<1000 {
            d.descend(1)
            if s.size != sizes.last! { sizes.append(s.size) }
        }
        s.checkInvariants()
        // 1000 frames of 64 bytes need 64,000 bytes plus the guard: 2 KiB
        // doubled five times.
        #expect(sizes == [2048, 4096, 8192, 16384, 32768, 65536])
        #expect(s.stats.grows == 5)
        #expect(s.stats.copies == 5)
        #expect(d.fullVerifications == 5)
        #expect(s.used == 64_000)
        // Each copy moved the used part: the frames present at that moment.
        #expect(s.stats.bytesCopied > 0 && s.stats.bytesCopied < 64_000)
        // Every frame has a self pointer and (but the root) a parent pointer,
        // plus a saved BP: all were adjusted at each copy.
        #expect(s.stats.pointersAdjusted >= s.stats.framesAdjusted * 2)
        d.ascend(1000)
        #expect(s.depth == 0)
        s.checkInvariants()
    }

    @Test func shrinkHalvesWhenLessThanAQuarterIsUsed() {
        let s = GoroutineStack(mode: .contiguous)
        let d = RecursionDriver(stack: s)
        d.descend(1000)
        #expect(s.size == 65536)
        #expect(s.shrink() == false)          // 64,000 + 800 used of 65,536
        d.ascend(990)
        var sizes = [s.size]
        while s.shrink() {
            sizes.append(s.size)
            d.verifyAll()
            s.checkInvariants()
        }
        // 10 frames (640 bytes) + stackLimit (800) = 1,440 < size/4 down to 8 KiB.
        #expect(sizes == [65536, 32768, 16384, 8192, 4096])
        #expect(s.stats.shrinks == 4)
        d.ascend(10)
        // An empty stack shrinks to the minimum and no further.
        while s.shrink() {}
        #expect(s.size == StackLayout.fixedStack)
        s.checkInvariants()
    }

    @Test func deferChainSurvivesGrowthAndShrink() {
        let s = GoroutineStack(mode: .contiguous)
        let f = StackFunc(name: "deferrer", frameSize: 96, pointerSlots: [0])
        var expected: UInt64 = 0
        for i in 0..<300 {
            s.call(f)
            s[local: 1] = UInt64(i)
            if i % 3 == 0 {
                s.deferRecord(atLocal: 4, argument: UInt64(i) * 7)
                expected &+= UInt64(i) * 7
            }
        }
        #expect(s.stats.grows >= 3)
        #expect(s.pendingDefers == 100)
        s.checkInvariants()
        for _ in 0..<250 { s.ret() }
        while s.shrink() { s.checkInvariants() }
        for _ in 0..<50 { s.ret() }
        #expect(s.pendingDefers == 0)
        #expect(s.deferRuns == 100)
        #expect(s.deferSum == expected)
        s.checkInvariants()
    }

    @Test func hugeFramesUseTheWrapSafeCheck() {
        let s = GoroutineStack(mode: .contiguous)
        let big = StackFunc(name: "huge", frameSize: 40_000, pointerSlots: [0, 4000])
        s.call(big)
        #expect(s.size == 65536)              // 40,000 + 928 needs 64 KiB
        s[local: 0] = UInt64(s.localAddress(1))
        s[local: 1] = 99
        s.call(big)
        #expect(s.size == 131072)
        s.ret()
        #expect(s.load(at: UInt(s[local: 0])) == 99)
        s.checkInvariants()
        s.ret()
    }

    /// A random walk of calls, returns, defers and shrinks over functions of
    /// several frame sizes, with pointers from every frame to values in its
    /// own and outer frames, checked against a shadow model after every step.
    @Test(arguments: [StackMode.contiguous, .segmented])
    func randomOperationsKeepEveryPointerValid(mode: StackMode) {
        struct FnSpec { let fn: StackFunc; let ptrs: [Int]; let deferAt: Int? }
        let specs = [
            FnSpec(fn: StackFunc(name: "r16", frameSize: 16), ptrs: [], deferAt: nil),
            FnSpec(fn: StackFunc(name: "r64", frameSize: 64, pointerSlots: [0, 1]), ptrs: [0, 1], deferAt: nil),
            FnSpec(fn: StackFunc(name: "r200", frameSize: 200, pointerSlots: [0, 2, 5]), ptrs: [0, 2, 5], deferAt: 10),
            FnSpec(fn: StackFunc(name: "r1024", frameSize: 1024, pointerSlots: [0, 7, 50]), ptrs: [0, 7, 50], deferAt: 20),
            FnSpec(fn: StackFunc(name: "r5000", frameSize: 5000, pointerSlots: [1, 3, 600]), ptrs: [1, 3, 600], deferAt: 100),
        ]
        struct Shadow {
            var spec: Int
            var values: [Int: UInt64] = [:]
            var ptrs: [Int: (frame: Int, word: Int)] = [:]
        }
        let s = GoroutineStack(mode: mode)
        var rng = SplitMix64(state: mode == .contiguous ? 1 : 2)
        var shadow: [Shadow] = []                  // outermost first
        var expectedDeferSum: UInt64 = 0

        var mismatches = 0
        func verify() {
            // Plain comparisons (not #expect) in the inner loops: this runs
            // after every step.
            let fs = s.walkFrames()
            guard fs.count == shadow.count else { Issue.record("walk found \(fs.count) frames, model has \(shadow.count)"); mismatches += 1; return }
            for (i, sh) in shadow.enumerated() {
                let fr = fs[shadow.count - 1 - i]
                if fr.pc != specs[sh.spec].fn.pc { mismatches += 1 }
                for (w, v) in sh.values where s.peek(fr.localAddress(w)) != v { mismatches += 1 }
                for (w, t) in sh.ptrs {
                    let target = fs[shadow.count - 1 - t.frame].localAddress(t.word)
                    let p = UInt(s.peek(fr.localAddress(w)))
                    if p != target || s.peek(p) != shadow[t.frame].values[t.word]! { mismatches += 1 }
                }
            }
            s.checkInvariants()
        }

        for step in 0..<900 {
            let r = rng.below(100)
            // Phases of 150 steps alternate between mostly calling and mostly
            // returning, so the stack both grows and becomes shrinkable.
            let callPercent = (step / 150) % 2 == 0 ? 65 : 15
            if shadow.isEmpty || (r < callPercent && shadow.count < 80) {
                let k = [0, 0, 1, 1, 1, 2, 2, 3, 3, 4][rng.below(10)]   // 5000-byte frames rarely
                let spec = specs[k]
                s.call(spec.fn)
                var sh = Shadow(spec: k)
                let words = spec.fn.localWords
                let reserved = Set(spec.ptrs).union(spec.deferAt.map { Set($0..<$0 + 4) } ?? [])
                for _ in 0..<min(4, words) {
                    let w = rng.below(words)
                    if reserved.contains(w) { continue }
                    let v = rng.next()
                    s[local: w] = v
                    sh.values[w] = v
                }
                shadow.append(sh)
                let me = shadow.count - 1
                let fs = s.walkFrames()
                for w in spec.ptrs {
                    // Point at a value in this frame or an outer one.
                    let candidates = (max(0, me - 20)...me).flatMap { f in shadow[f].values.keys.map { (f, $0) } }
                    if candidates.isEmpty { continue }
                    let (tf, tw) = candidates[rng.below(candidates.count)]
                    s[local: w] = UInt64(fs[me - tf].localAddress(tw))
                    shadow[me].ptrs[w] = (tf, tw)
                }
                if let at = spec.deferAt, rng.below(2) == 0 {
                    let arg = UInt64(step)
                    s.deferRecord(atLocal: at, argument: arg)
                    expectedDeferSum &+= arg
                }
            } else if r < 92 {
                s.ret()
                shadow.removeLast()
            } else {
                s.shrink()
            }
            verify()
        }
        while !shadow.isEmpty { s.ret(); shadow.removeLast() }
        #expect(mismatches == 0)
        #expect(s.deferSum == expectedDeferSum)
        #expect(s.pendingDefers == 0)
        s.checkInvariants()
        if mode == .contiguous {
            #expect(s.stats.grows > 0)
            #expect(s.stats.shrinks > 0)
            #expect(s.stats.segmentsAllocated == 0)
        } else {
            #expect(s.stats.copies == 0)
            #expect(s.stats.segmentsAllocated > 0)
            #expect(s.stats.segmentsAllocated == s.stats.segmentsFreed)
            #expect(s.segments == 1)
            #expect(s.size == StackLayout.fixedStack)
        }
    }

    @Test func segmentedStacksLinkAndFreeSegments() {
        let s = GoroutineStack(mode: .segmented)
        let d = RecursionDriver(stack: s)
        d.descend(1000)
        #expect(s.stats.copies == 0)
        #expect(s.segments > 1)
        #expect(s.segments == s.stats.segmentsAllocated + 1)
        #expect(s.used == 64_000)
        d.verifyAll()
        s.checkInvariants()
        d.ascend(1000)
        #expect(s.segments == 1)
        #expect(s.stats.segmentsFreed == s.stats.segmentsAllocated)
        s.checkInvariants()
    }

    @Test(arguments: [StackMode.contiguous, .segmented])
    func hotSplit(mode: StackMode) {
        let s = GoroutineStack(mode: mode)
        let d = RecursionDriver(stack: s)
        let pushed = d.descendToBoundary()
        #expect(pushed > 0)
        s.call(d.loopFrame)
        #expect(s.wouldGrow(d.leaf))
        s.ret(d.loopFrame)
        let depth = s.depth, sp = s.stackPointer
        let sum = d.callLoop(100)
        // Every leaf64(k, x) returned k ^ x through its result slot.
        var expected: UInt64 = 0
        for k in 0..<100 { expected &+= UInt64(k) ^ d.seed }
        #expect(sum == expected)
        #expect(s.depth == depth)
        if mode == .segmented { #expect(s.stackPointer == sp) }
        s.checkInvariants()
        if mode == .contiguous {
            #expect(s.stats.copies == 1)            // grew once, then no more
            #expect(s.stats.segmentsAllocated == 0)
        } else {
            #expect(s.stats.segmentsAllocated == 100)   // one split per call
            #expect(s.stats.segmentsFreed == 100)
        }
        d.ascend(pushed)
        s.checkInvariants()
    }

    /// Go 1.2's newstack writes a Stktop recording the old segment and the
    /// caller; oldstack restores all of it.
    @Test func splitWritesAndOldstackRestoresTheStktop() {
        let s = GoroutineStack(mode: .segmented)
        let caller = StackFunc(name: "splitcaller", frameSize: 96)          // 10 locals
        let callee = StackFunc(name: "splitcallee", frameSize: 64, pointerSlots: [0], argSize: 24)
        while !s.wouldGrow(callee) { s.call(caller) }
        let (lo0, hi0) = s.bounds
        let sp0 = s.stackPointer, bp0 = s.framePointer, pc0 = s.currentPC, depth0 = s.depth
        let size0 = s.size, used0 = s.used
        #expect(s.stktops.isEmpty)

        s.call(callee)
        #expect(s.segments == 2)
        let t = s.stktops[0]
        #expect(t.top == s.bounds.hi)
        #expect(t.stackguard == lo0 + UInt(StackLayout.stackGuard))
        #expect(t.stackbase == hi0)
        #expect(t.callerSP == sp0)
        #expect(t.callerPC == pc0)
        #expect(t.goroutine == s.goroutineID)
        #expect(t.argp == sp0)
        #expect(t.argsize == 24)
        #expect(t.free == StackLayout.segmentMin)          // 64 + 24 + 2048 < 8 KiB
        #expect(t.top + UInt(StackLayout.stktopSize) == s.bounds.lo + UInt(t.free))
        #expect(t.panic == false && t.panicwrap == 0)
        #expect(s.size == size0 + t.free)
        // The callee's frame sits below its copied arguments, which sit
        // below the Stktop; its return address is lessstack.
        #expect(s.argAddress(0) == t.top - 24)
        #expect(s.stackPointer == t.top - 24 - 64)
        #expect(s.used == used0 + 24 + 64)
        s.checkInvariants()
        let fs = s.walkFrames()
        #expect(fs.count == depth0 + 1)
        #expect(fs[1].sp == sp0 && fs[1].pc == caller.pc)
        #expect(fs[0].savedBP == bp0)

        s.ret(callee)
        #expect(s.stktops.isEmpty)
        #expect(s.bounds.lo == lo0 && s.bounds.hi == hi0)
        #expect(s.stackPointer == sp0 && s.framePointer == bp0 && s.currentPC == pc0)
        #expect(s.depth == depth0 && s.size == size0 && s.used == used0)
        #expect(s.wouldGrow(callee))
        #expect(s.stats.segmentsAllocated == 1 && s.stats.segmentsFreed == 1)
        s.checkInvariants()
        while s.depth > 0 { s.ret(caller) }
        s.checkInvariants()
    }

    /// Arguments live in the caller's frame; on a new segment the callee
    /// reads newstack's copy, and its results reach the caller through
    /// oldstack's copy back. A pointer passed as an argument still points
    /// into the caller's segment and stays usable in both directions.
    @Test(arguments: [StackMode.contiguous, .segmented])
    func argumentsAndResultsCrossTheBoundary(mode: StackMode) {
        let s = GoroutineStack(mode: mode)
        let caller = StackFunc(name: "argcaller", frameSize: 80, pointerSlots: [1])  // 8 locals: 0-2 outgoing
        let callee = StackFunc(name: "argcallee", frameSize: 48, argSize: 24)
        var splits = 0
        for round in 0..<200 {
            s.call(caller)
            let k = UInt64(round) &* 0x9E37_79B9_7F4A_7C15
            s[local: 3] = k ^ 0xFF
            s[local: 0] = k                                        // argument 0: a value
            s[local: 1] = UInt64(s.localAddress(3))                // argument 1: a pointer into this frame
            s[local: 2] = 0                                        // result slot
            s[local: 4] = 4444
            let split = s.wouldGrow(callee)
            let callerSP = s.stackPointer                          // (contiguous: moves if the call grows)
            s.call(callee)
            if mode == .segmented && split {
                splits += 1
                #expect(s.argAddress(0) != callerSP)               // a copy on the new segment
                #expect(s.argAddress(2) + 8 == s.bounds.hi)
            } else {
                #expect(s.argAddress(0) == s.callerLocalAddress(0))   // the caller's own words
            }
            #expect(s[arg: 0] == k)
            let p = UInt(s[arg: 1])
            #expect(s.load(at: p) == k ^ 0xFF)                     // through the pointer, across segments
            s.store(k &+ 1, at: p)
            s[local: 0] = s[arg: 0] &* 3
            s[arg: 2] = s[local: 0]                                // the result
            s.checkInvariants()
            s.ret(callee)
            #expect(s[local: 2] == k &* 3)                        // copied back
            #expect(s[local: 0] == k)
            #expect(s[local: 3] == k &+ 1)
            #expect(s[local: 4] == 4444)
            s.checkInvariants()
            // Leave the caller frame on the stack every other round, so the
            // boundary moves through the call.
            if round % 2 == 1 { s.ret(caller) }
        }
        if mode == .segmented {
            #expect(splits > 0)
            #expect(s.stats.segmentsAllocated >= splits)           // the caller frames split too
        } else {
            #expect(s.stats.grows > 0)
        }
        while s.depth > 0 { s.ret() }
        #expect(s.segments == 1)
        s.checkInvariants()
    }

    /// A chain of calls that pass arguments, crossing many segment
    /// boundaries: the frame walk finds every frame through the Stktops
    /// above the copied arguments, and every level gets its result.
    @Test func argumentChainsAcrossManySegments() {
        let s = GoroutineStack(mode: .segmented)
        let f = StackFunc(name: "argchain", frameSize: 320, pointerSlots: [2], argSize: 16)   // 38 locals
        let depth = 150
        s.call(f)                                                  // the root passes arguments too
        for level in 0..<depth {
            s[local: 0] = UInt64(level)                            // outgoing: level,
            s[local: 1] = 0                                        // result slot
            s[local: 2] = UInt64(s.localAddress(5))                // a pointer slot
            s[local: 5] = UInt64(level) ^ 0xABCD
            s.call(f)
            #expect(s[arg: 0] == UInt64(level))
        }
        #expect(s.segments > 5)
        s.checkInvariants()
        #expect(s.walkFrames().count == depth + 1)
        #expect(s.stktops.allSatisfy { $0.argsize == 16 && $0.goroutine == s.goroutineID })
        for level in stride(from: depth - 1, through: 0, by: -1) {
            s[arg: 1] = UInt64(level) &* 7                         // return a result
            s.ret(f)
            #expect(s[local: 1] == UInt64(level) &* 7)
            #expect(s.load(at: UInt(s[local: 2])) == UInt64(level) ^ 0xABCD)
        }
        s.checkInvariants()
        s.ret(f)
        #expect(s.segments == 1)
        #expect(s.stats.segmentsAllocated == s.stats.segmentsFreed)
    }

    /// Many operations in one `run` body (registers held in a StackCPU)
    /// leave the stack exactly as the same operations one by one.
    @Test(arguments: [StackMode.contiguous, .segmented])
    func runBodyMatchesSingleOperations(mode: StackMode) {
        let f = StackFunc(name: "runf", frameSize: 72, pointerSlots: [1])
        func build(_ s: GoroutineStack, batched: Bool) {
            if batched {
                s.run { cpu in
                    for i in 0..<300 {
                        cpu.call(f)
                        cpu[local: 0] = UInt64(i)
                        cpu[local: 1] = UInt64(cpu.localAddress(0))
                        if i % 50 == 0 { cpu.save(); s.checkInvariants() }
                    }
                    for _ in 0..<100 { cpu.ret(f) }
                }
            } else {
                for i in 0..<300 {
                    s.call(f)
                    s[local: 0] = UInt64(i)
                    s[local: 1] = UInt64(s.localAddress(0))
                }
                for _ in 0..<100 { s.ret(f) }
            }
        }
        let a = GoroutineStack(mode: mode), b = GoroutineStack(mode: mode)
        build(a, batched: true)
        build(b, batched: false)
        #expect(a.depth == 200 && b.depth == 200)
        #expect(a.used == b.used && a.size == b.size && a.segments == b.segments)
        #expect(a.stats == b.stats)
        a.checkInvariants()
        let fa = a.walkFrames(), fb = b.walkFrames()
        for (x, y) in zip(fa, fb) {
            #expect(a.peek(x.localAddress(0)) == b.peek(y.localAddress(0)))
            #expect(a.peek(UInt(a.peek(x.localAddress(1)))) == a.peek(x.localAddress(0)))
        }
        while a.depth > 0 { a.ret() }
        while b.depth > 0 { b.ret() }
    }

    @Test func poolsReuseMemory() {
        // The per-thread cache is LIFO: a freed 2 KiB stack is the next one.
        let a = GoroutineStack()
        let loA = a.bounds.lo
        _ = consume a
        let b = GoroutineStack()
        #expect(b.bounds.lo == loA)

        // A grown stack's large block comes back from the heap.
        let d = RecursionDriver(stack: b)
        d.descend(1000)
        let big = b.bounds.lo
        d.ascend(1000)
        _ = consume d
        _ = consume b
        let c = GoroutineStack()
        let d2 = RecursionDriver(stack: c)
        d2.descend(1000)
        #expect(c.bounds.lo == big)
        d2.ascend(1000)
        StackAllocator.checkInvariants()

        // Many stacks at once and back: after the first round (which may
        // take memory from the system), every round ends with the pools and
        // the heap exactly where the previous one left them.
        var before: StackAllocatorStats? = nil
        for _ in 0..<3 {
            var stacks: [GoroutineStack] = []
            for i in 0..<64 {
                let g = GoroutineStack()
                let dr = RecursionDriver(stack: g)
                dr.descend(i % 4 * 40)                 // 2, 4, 8 and 16 KiB stacks
                stacks.append(g)
            }
            StackAllocator.checkInvariants()
            for c in StackAllocator.threadCacheBytes() { #expect(c <= StackLayout.stackCacheSize) }
            stacks.removeAll()
            StackAllocator.checkInvariants()
            StackAllocator.flushThreadCache()
            let now = StackAllocator.snapshot()
            if let before { #expect(now == before) }
            before = now
        }
    }

    @Test func threadsShareThePools() {
        // Stacks grown on one thread and freed on another. The threads are
        // pthreads that exit, so their caches go back to the pools (the
        // cache key's destructor): afterwards every stack this test took
        // from a span is back, and the pools hold exactly what they held
        // before. (The suite is serialized and no other test uses stacks.)
        final class Box: @unchecked Sendable {
            let stacks = UnsafeMutablePointer<GoroutineStack?>.allocate(capacity: 64)
            init() { stacks.initialize(repeating: nil, count: 64) }
            deinit { stacks.deinitialize(count: 64); stacks.deallocate() }
        }
        let box = Box()
        let before = StackAllocator.snapshot()
        SyncTestThreads.run(4) { t in
            for i in stride(from: t, to: 64, by: 4) {
                let g = GoroutineStack(mode: i % 2 == 0 ? .contiguous : .segmented)
                let d = RecursionDriver(stack: g)
                d.run(depth: 50 + i * 7)
                d.descend(i)
                box.stacks[i] = g
            }
        }
        let held = StackAllocator.snapshot()
        #expect(held.allocatedFromSpans != before.allocatedFromSpans, "the grown stacks came from the pools")
        SyncTestThreads.run(4) { t in
            for i in stride(from: (t + 1) % 4, to: 64, by: 4) {
                box.stacks[i]!.checkInvariants()
                box.stacks[i] = nil
            }
        }
        StackAllocator.checkInvariants()
        #expect(StackAllocator.snapshot().allocatedFromSpans == before.allocatedFromSpans,
                "stacks freed on other threads, and those threads' caches, went back to the pools")
    }

    @Test func overflowIsFatal() async {
        let contiguous = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let s = GoroutineStack(mode: .contiguous, maxStackSize: 64 * 1024)
            RecursionDriver(stack: s).descend(2000)
        }
        expectStderr(of: contiguous, contains: "fatal error: stack overflow", "goroutine stack exceeds 65536-byte limit")
        let segmented = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let s = GoroutineStack(mode: .segmented, maxStackSize: 64 * 1024)
            RecursionDriver(stack: s).descend(2000)
        }
        expectStderr(of: segmented, contains: "fatal error: stack overflow")
    }

    @Test func staleStackPointerIsCaught() async {
        // A pointer kept outside the stack maps is not adjusted: after the
        // stack moves it points into freed memory and using it is fatal.
        await #expect(processExitsWith: .exitCode(2)) {
            let s = GoroutineStack(mode: .contiguous)
            let f = StackFunc(name: "leaky", frameSize: 64)   // no pointer slots
            s.call(f)
            s[local: 0] = 5
            s[local: 1] = UInt64(s.localAddress(0))        // a pointer the map does not know
            let g = StackFunc(name: "big", frameSize: 4096)
            s.call(g)                                        // grows: the stack moves
            s.ret()
            _ = s.load(at: UInt(s[local: 1]))
        }
    }
}
