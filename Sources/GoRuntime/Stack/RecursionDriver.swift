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

/// Drives a recursion on a stack and verifies it.
public final class RecursionDriver {
    public let stack: GoroutineStack
    /// The recursive function.
    public let frame: StackFunc
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
        for _ in 0..<count {
            let moves = verify ? s.stats.copies : 0
            s.call(f)
            // The parent's address is taken after the call (through argp):
            // the call may have moved the stack.
            let parent: UInt = lv == 0 ? 0 : s.callerLocalAddress(0)
            let v = value(lv)
            s[local: 0] = v
            s[local: 1] = UInt64(s.localAddress(0))
            s[local: 2] = UInt64(parent)
            s[local: 3] = UInt64(lv)
            s[local: 4] = 0
            s[local: 5] = v ^ UInt64(lv)
            lv += 1
            if verify && s.stats.copies != moves { level = lv; verifyAll() }
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
        defer { level = lv; checksum = sum }
        for iteration in 0..<count {
            lv -= 1
            let v = s[local: 0]
            if v != value(lv) || s[local: 3] != UInt64(lv) { goFatal("recursion driver: frame \(lv) lost its value") }
            let selfp = UInt(s[local: 1])
            if selfp != s.localAddress(0) || s.load(at: selfp) != v {
                goFatal("recursion driver: self pointer of frame \(lv) is stale")
            }
            if s[local: 5] != v ^ UInt64(lv) { goFatal("recursion driver: scratch of frame \(lv) changed") }
            let child = s[local: 4]
            if (iteration > 0 || child != 0) && child != result(of: lv + 1) { goFatal("recursion driver: frame \(lv) got a wrong result") }
            if lv > 0 {
                let parentp = UInt(s[local: 2])
                if s.load(at: parentp) != value(lv - 1) { goFatal("recursion driver: parent pointer of frame \(lv) is stale") }
                s.store(result(of: lv), at: parentp + 32)        // the caller's local 4
            }
            sum = sum &* 31 &+ v
            s.ret(f)
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

    /// Calls `frame` `n` times from the current depth (a call loop, like
    /// Go's leaf64 in suites/go/stack_test.go): each call stores a value in
    /// its frame and reads it back before returning. Returns the sum.
    @discardableResult
    public func callLoop(_ n: Int) -> UInt64 {
        let s = stack
        let f = frame
        let sd = seed
        var sum: UInt64 = 0
        for k in 0..<n {
            s.call(f)
            s[local: 0] = UInt64(truncatingIfNeeded: k) ^ sd
            sum &+= s[local: 0]
            s.ret(f)
        }
        return sum
    }

    /// Descends until the next call of `frame` would grow or split the
    /// stack; returns the levels added.
    @discardableResult
    public func descendToBoundary() -> Int {
        var n = 0
        while !stack.wouldGrow(frame) { descend(1); n += 1 }
        return n
    }
}
