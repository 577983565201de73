// Work that runs on a GoroutineStack: a recursion whose every frame writes a
// value, takes a pointer to it and a pointer to its caller's value, and on
// the way back up checks both through the pointers and hands a result to its
// caller through the caller pointer. A stack that moved without adjusting a
// pointer, or adjusted it wrongly, fails one of these checks (or the stack's
// own check that a dereferenced pointer lies in the live stack) with a fatal
// error, so every benchmark iteration is also a test.
//
// Frame of the recursive function (at least 64 bytes: return address, saved
// BP and six locals; extra locals are scratch):
//   local 0  value      = mix(seed, level)
//   local 1  self       -> local 0 of this frame          (pointer slot)
//   local 2  parent     -> local 0 of the caller's frame  (pointer slot; 0 at level 0)
//   local 3  level
//   local 4  child      result the callee stored through its parent pointer
//   local 5  scratch    value ^ level
//
// The hot-split loop (`callLoop`) mirrors Go's descendThenLoop/leaf64 in
// suites/go/stack_test.go: a loop frame whose lowest locals are the
// outgoing argument area of `leaf64(k, x) -> r` (24 bytes of arguments and
// result, Go's argsize), calling the leaf at a stack boundary; the leaf
// reads its arguments at argp, stores k ^ x in its frame, takes a pointer to
// it (its pointer slot) and returns the value read through it in its result
// slot, which the loop checks. In segmented mode every call copies the 24
// bytes to a new segment and back.
//   loop frame: local 0 k, local 1 x, local 2 result (argument area), local 3 x
//   leaf64:     local 0 v = k ^ x, local 1 q -> local 0 (pointer slot)

/// Drives a recursion on a stack and verifies it.
public final class RecursionDriver {
    public let stack: GoroutineStack
    /// The recursive function.
    public let frame: StackFunc
    /// The hot-split loop's frame (its locals 0-2 are `leaf`'s arguments).
    public var loopFrame: StackFunc { RecursionDriver.hotLoopFunc }
    /// The function the hot-split loop calls: a 64-byte frame with 24 bytes
    /// of arguments and result (Go's leaf64).
    public var leaf: StackFunc { RecursionDriver.leafFunc }
    public let seed: UInt64
    /// Driver frames currently on the stack.
    public private(set) var level = 0
    /// Running checksum of the values verified on the way up.
    public private(set) var checksum: UInt64 = 0
    /// Full-stack verifications done (after moves, with `verifyAfterMoves`).
    public private(set) var fullVerifications = 0

    /// When true, every growth or shrink seen during `descend` is followed by
    /// a check of every driver frame on the stack.
    public var verifyAfterMoves = false

    static let localsNeeded = 6

    public init(stack: GoroutineStack, frameSize: Int = 64, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        precondition(frameSize >= 16 + 8 * RecursionDriver.localsNeeded, "driver frames need at least 64 bytes")
        self.stack = stack
        self.frame = RecursionDriver.function(frameSize: frameSize)
        self.seed = seed
    }

    /// A driver using `frame`, which must come from
    /// `RecursionDriver.function(frameSize:)` (avoids registering the
    /// function again for every new stack).
    public init(stack: GoroutineStack, frame: StackFunc, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        precondition(frame.localWords >= RecursionDriver.localsNeeded, "driver frames need at least 64 bytes")
        let bits = FuncTable.shared.entries[Int(frame.pc)].bitmap[0]
        precondition(bits & 0b111 == 0b110, "driver frames need pointer slots 1 and 2 (and slot 0 a value)")
        self.stack = stack
        self.frame = frame
        self.seed = seed
    }

    static let hotLoopFunc = StackFunc(name: "hotloop", frameSize: 64)
    static let leafFunc = StackFunc(name: "leaf64", frameSize: 64, pointerSlots: [1], argSize: 24)

    /// The recursive function with a frame of `frameSize` bytes (at least
    /// 64): locals 1 and 2 are pointer slots.
    public static func function(frameSize: Int = 64) -> StackFunc {
        StackFunc(name: "recurse\(frameSize)", frameSize: frameSize, pointerSlots: [1, 2])
    }

    /// The value frame `level` stores.
    @inline(__always)
    public func value(_ level: Int) -> UInt64 {
        var x = seed &+ UInt64(truncatingIfNeeded: level) &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    /// Recurses `depth` frames down and back up, verifying every frame;
    /// returns the checksum of this run.
    @discardableResult
    public func run(depth: Int) -> UInt64 {
        let before = checksum
        descend(depth)
        ascend(depth)
        return checksum &- before
    }

    /// Calls `count` more levels of the recursion.
    public func descend(_ count: Int) {
        let s = stack
        let f = frame
        let verify = verifyAfterMoves
        var lv = level                      // a local: class fields cost an exclusivity check
        // The registers for the whole loop (what `s.run` does, without
        // depending on the closure being inlined).
        var cpu = StackCPU(s)
        defer { cpu.save() }
        for _ in 0..<count {
            let moves = verify ? s.stats.copies : 0
            cpu.call(f)
            // The parent's address is taken after the call (through
            // argp): the call may have moved the stack.
            let parent: UInt = lv == 0 ? 0 : cpu.callerLocalAddress(0)
            let v = value(lv)
            cpu[local: 0] = v
            cpu[local: 1] = UInt64(cpu.localAddress(0))
            cpu[local: 2] = UInt64(parent)
            cpu[local: 3] = UInt64(lv)
            cpu[local: 4] = 0
            cpu[local: 5] = v ^ UInt64(lv)
            lv += 1
            if verify && s.stats.copies != moves { cpu.save(); level = lv; verifyAll() }
        }
        level = lv
    }

    /// Returns from `count` levels, verifying each frame through its
    /// pointers before it returns and its callee's result after.
    public func ascend(_ count: Int) {
        precondition(count <= level, "ascending past the driver's first frame")
        let s = stack
        let f = frame
        var lv = level
        var sum = checksum
        var cpu = StackCPU(s)
        defer { cpu.save(); level = lv; checksum = sum }
        for iteration in 0..<count {
            lv -= 1
            let v = cpu[local: 0]
            if v != value(lv) || cpu[local: 3] != UInt64(lv) { goFatal("recursion driver: frame \(lv) lost its value") }
            let selfp = UInt(cpu[local: 1])
            if selfp != cpu.localAddress(0) || cpu.load(at: selfp) != v {
                goFatal("recursion driver: self pointer of frame \(lv) is stale")
            }
            if cpu[local: 5] != v ^ UInt64(lv) { goFatal("recursion driver: scratch of frame \(lv) changed") }
            let child = cpu[local: 4]
            if (iteration > 0 || child != 0) && child != result(of: lv + 1) { goFatal("recursion driver: frame \(lv) got a wrong result") }
            if lv > 0 {
                let parentp = UInt(cpu[local: 2])
                if cpu.load(at: parentp) != value(lv - 1) { goFatal("recursion driver: parent pointer of frame \(lv) is stale") }
                cpu.store(result(of: lv), at: parentp + 32)        // the caller's local 4
            }
            sum = sum &* 31 &+ v
            cpu.ret(f)
        }
    }

    @inline(__always)
    func result(of level: Int) -> UInt64 { value(level) &* 3 | 1 }

    /// Checks every driver frame on the stack (the innermost `level` frames)
    /// through its pointers.
    public func verifyAll() {
        fullVerifications += 1
        let fs = stack.walkFrames()
        if fs.count < level { goFatal("recursion driver: frames missing") }
        for k in 0..<level {
            let f = fs[k]
            let lv = level - 1 - k
            if f.pc != frame.pc { goFatal("recursion driver: foreign frame at level \(lv)") }
            let v = stack.peek(f.localAddress(0))
            if v != value(lv) || stack.peek(f.localAddress(3)) != UInt64(lv) { goFatal("recursion driver: frame \(lv) lost its value") }
            let selfp = UInt(stack.peek(f.localAddress(1)))
            if selfp != f.localAddress(0) { goFatal("recursion driver: self pointer of frame \(lv) is stale") }
            let parentp = UInt(stack.peek(f.localAddress(2)))
            if lv > 0 {
                if parentp != fs[k + 1].localAddress(0) || stack.peek(parentp) != value(lv - 1) {
                    goFatal("recursion driver: parent pointer of frame \(lv) is stale")
                }
            } else if parentp != 0 {
                goFatal("recursion driver: root frame has a parent pointer")
            }
        }
    }

    /// The hot-split loop: pushes `loopFrame`, calls `leaf` `n` times from
    /// it (like Go's descendThenLoop calling leaf64), checking every result,
    /// and returns from the loop frame. Returns the sum of the results.
    ///
    /// The loop runs with the thread's own stack frame kept 2 KiB (mod 4
    /// KiB) away from the simulated stack's hot words: see
    /// `runApartFromSimulatedStack`.
    @discardableResult
    public func callLoop(_ n: Int) -> UInt64 {
        guard n > 1 else { return callLoopHere(0..<n) }
        // The first iteration may move the hot words: in contiguous mode it
        // grows the stack (the copy lands elsewhere), and the stack stays
        // grown. Place the real stack against where the rest runs.
        let first = callLoopHere(0..<1)
        return first &+ runApartFromSimulatedStack(stack.g.pointee.sched.sp) { self.callLoopHere(1..<n) }
    }

    /// The loop itself, for iterations `ks` (k is leaf64's first argument).
    @inline(never)
    func callLoopHere(_ ks: Range<Int>) -> UInt64 {
        let s = stack
        let lf = loopFrame
        let leaf = self.leaf
        let x = seed
        var cpu = StackCPU(s)
        defer { cpu.save() }
        cpu.call(lf)
        cpu[local: 3] = x
        var sum: UInt64 = 0
        for k in ks {
            let kk = UInt64(truncatingIfNeeded: k)
            cpu[local: 0] = kk                          // outgoing arguments: k,
            cpu[local: 1] = cpu[local: 3]               // x
            cpu.call(leaf)
            // leaf64: v := k ^ x; q := &v; return *q
            cpu[local: 0] = cpu[arg: 0] ^ cpu[arg: 1]
            cpu[local: 1] = UInt64(cpu.localAddress(0))
            cpu[arg: 2] = cpu.load(at: UInt(cpu[local: 1]))
            cpu.ret(leaf)
            let r = cpu[local: 2]                       // the result
            if _slowPath(r != kk ^ x) { goFatal("hot-split loop: leaf64 returned a wrong result") }
            sum &+= r
        }
        cpu.ret(lf)
        return sum
    }

    /// Descends until, from `loopFrame` pushed on top, the next call of
    /// `leaf` would grow or split the stack (where `callLoop` runs its hot
    /// split); returns the levels added.
    @discardableResult
    public func descendToBoundary() -> Int {
        var n = 0
        while true {
            precondition(!stack.wouldGrow(loopFrame), "hot-split loop frame does not fit")
            stack.call(loopFrame)
            let boundary = stack.wouldGrow(leaf)
            stack.ret(loopFrame)
            if boundary { return n }
            descend(1)
            n += 1
        }
    }
}

/// Runs `body` with the calling thread's real stack moved down so that the
/// frames `body` pushes keep clear, modulo 4 KiB, of the simulated stack's
/// hot words at `simulatedSP`.
///
/// Why: a model of a stack is two stacks, the simulated one in memory and
/// the thread's own, where the compiled loop keeps its spilled loop
/// invariants. When a load from one has the same low 12 address bits as a
/// recent store to the other, the CPU's memory disambiguation treats the
/// load as possibly dependent and holds it (4K aliasing). The real Go
/// runtime has one stack, so this cost is the model's, not Go's; yet it
/// decided the hot-split figure: the same machine code ran at 5.7 or 8.9
/// ns per call depending only on how deep the harness happened to call it.
/// Scanning the distance between the two in 16-byte steps (AMD EPYC, this
/// build) gave slow windows (7-11 ns) around -512..0 and a fast plateau at
/// +16..+464 bytes; `nativeStackOffset` sits in the middle of the plateau.
@inline(never)
func runApartFromSimulatedStack<R>(_ simulatedSP: UInt, _ body: () -> R) -> R {
    var marker: UInt8 = 0
    let here = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    let target = (simulatedSP &+ nativeStackOffset) & 0xFFF
    let pad = Int(((here & 0xFFF) &- target) & 0xFFF)
    return withUnsafeTemporaryAllocation(byteCount: pad + 64, alignment: 16) { buffer in
        // Touch both ends so that the padding is really taken from this stack.
        buffer[0] = 0
        buffer[pad] = 0
        return body()
    }
}

/// Where the real stack's frame starts, modulo 4 KiB, relative to the
/// simulated stack pointer (see `runApartFromSimulatedStack`).
let nativeStackOffset: UInt = 208
