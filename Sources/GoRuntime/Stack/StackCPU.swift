// The hot paths of a goroutine stack, run on "the CPU": a call with its
// prologue check, a return, and access to locals, arguments and pointers,
// the work Go's compiled code does without calling into the runtime
// (runtime/internal/obj/x86/obj6.go stacksplit for the prologue; the frame
// layout of runtime/stack.go).
//
// Why a separate value. On amd64 SP, BP and PC are registers; Go spills
// them into `g.sched` only when the goroutine stops (gosave, morestack,
// mcall). Kept in `GRegs` memory, every simulated push or pop stored SP and
// the next one reloaded it, and every store into the stack (which may alias
// `GRegs` as far as the compiler knows) forced the registers to be reloaded:
// chains of store-then-load through memory on every call and return. With
// the registers in a local value the hot-split loop's call+return went from
// 8.5 to 5.7 ns (release, this machine), with argument passing added.
// `StackCPU` holds them as stored properties of a local value the compiler
// keeps in machine registers for the length of a `GoroutineStack.run` body;
// `save()` spills them into `g.sched` and `load()` reloads them around every
// slow path (morestack, lessstack, deferreturn, a pointer check that has to
// walk the segments), as Go's morestack spills before it switches to g0.
// The stack bounds, the guard and the defer head are read from `g` on every
// check, as Go's prologue reads `g.stackguard0` through R14.
//
// The prologue check (obj6.go stacksplit), by the frame size F (BP and
// locals) the compiler knows: F <= stackSmall: SP <= guard; F <= stackBig:
// SP - (F - stackSmall) <= guard; bigger: the same, or the subtraction
// wrapped. SP is the entry SP, below the pushed return address.
//
// Invariants: between `save()` points the registers in a `StackCPU` are the
// goroutine's only up-to-date SP, BP and PC; `g.sched` is stale. One
// `StackCPU` per goroutine at a time (`run` bodies do not nest on one
// stack); the type is non-copyable so that a body cannot keep a copy.

/// The registers of the thread running a goroutine: SP, BP, PC, and the g
/// register through which the prologue reads the guard. Obtained from
/// `GoroutineStack.run`.
public struct StackCPU: ~Copyable {
    /// The goroutine (Go's g register, R14).
    @usableFromInline let g: UnsafeMutablePointer<GRegs>
    /// For the slow paths; unmanaged: the `run` that made this value keeps
    /// the stack alive, and a strong or unowned reference would cost a
    /// retain and release around every slow-path call.
    @usableFromInline let stack: Unmanaged<GoroutineStack>
    @usableFromInline let funcs: UnsafeMutablePointer<FuncRecord>
    /// Stack pointer: the low end of the innermost frame.
    @usableFromInline var sp: UInt
    /// Frame pointer: the innermost frame's varp (0 when no frame).
    @usableFromInline var bp: UInt
    /// The running function (goexit when no frame).
    @usableFromInline var pc: UInt
    /// Frames on the stack (the model's count, checked by the frame walk).
    @usableFromInline var frames: Int

    /// Loads the registers from `g.sched` (what gogo does).
    @inlinable @inline(__always)
    init(_ stack: GoroutineStack) {
        self.stack = Unmanaged.passUnretained(stack)
        g = stack.g
        funcs = stack.funcs
        sp = 0; bp = 0; pc = 0; frames = 0
        load()
    }

    /// Spills the registers into `g.sched` (gosave).
    @inlinable @inline(__always)
    public func save() {
        g.pointee.sched.sp = sp
        g.pointee.sched.bp = bp
        g.pointee.sched.pc = pc
        g.pointee.frames = frames
    }

    /// Reloads the registers from `g.sched` after a slow path changed them.
    @inlinable @inline(__always)
    mutating func load() {
        sp = g.pointee.sched.sp
        bp = g.pointee.sched.bp
        pc = g.pointee.sched.pc
        frames = g.pointee.frames
    }

    // MARK: Call and return

    /// Whether `f`'s prologue fails at stack pointer `sp` against `limit`.
    @inlinable @inline(__always)
    static func mustGrow(_ f: StackFunc, sp: UInt, limit: UInt) -> Bool {
        let spEntry = sp &- 8
        if _slowPath(f.hugeFrame) && spEntry < f.checkOffset { return true }
        return spEntry &- f.checkOffset <= limit
    }

    /// Whether calling `f` now would grow (contiguous) or split (segmented)
    /// the stack.
    @inlinable @inline(__always)
    public func wouldGrow(_ f: StackFunc) -> Bool {
        StackCPU.mustGrow(f, sp: sp, limit: g.pointee.stackguard0)
    }

    /// Calls `f`: the prologue's stack check (growing or splitting the stack
    /// when it fails), then CALL's push of the return address, PUSHQ BP,
    /// MOVQ SP, BP, and SUBQ $locals, SP, with `f`'s pointer slots zeroed.
    @inlinable @inline(__always)
    public mutating func call(_ f: StackFunc) {
        if _slowPath(StackCPU.mustGrow(f, sp: sp, limit: g.pointee.stackguard0)) {
            save()
            stack._withUnsafeGuaranteedRef { $0.morestack(f) }
            load()
        }
        var s = sp &- 8
        stackWord(s).pointee = pc          // return address (CALL)
        s &-= 8
        stackWord(s).pointee = bp          // PUSHQ BP
        bp = s                             // MOVQ SP, BP
        s &-= f.spDelta &- 8               // SUBQ $locals, SP
        var m = f.zeroMask                 // MOVQ $0, slot(SP) per pointer slot
        while m != 0 {
            stackWord(s &+ UInt(truncatingIfNeeded: m.trailingZeroBitCount &* 8)).pointee = 0
            m &= m &- 1
        }
        var i = f.zeroListStart
        while _slowPath(i < f.zeroCount) {
            stackWord(s &+ UInt(bitPattern: f.zeroSlots[i] &* 8)).pointee = 0
            i &+= 1
        }
        sp = s
        pc = f.pc
        frames &+= 1
    }

    /// Returns from the running function: run its deferred records, pop its
    /// locals, BP and return address; leave the segment on `lessstack`. The
    /// frame size comes from the function table.
    @inlinable @inline(__always)
    public mutating func ret() {
        if _slowPath(pc == goexitPC) { goFatal("return with no frame on the stack") }
        popFrame(localBytes: UInt(bitPattern: funcs[Int(bitPattern: pc)].localWords &* 8))
    }

    /// `ret()` for a caller that knows it is returning from `f`, as a
    /// compiled epilogue knows its own frame size (`ADDQ $locals, SP`): no
    /// table lookup.
    @inlinable @inline(__always)
    public mutating func ret(_ f: StackFunc) {
        if _slowPath(pc != f.pc) { goFatal("return from a function that is not running") }
        popFrame(localBytes: f.spDelta &- 8)
    }

    @inlinable @inline(__always)
    mutating func popFrame(localBytes: UInt) {
        if _slowPath(g.pointee.deferHead != 0) {
            save()
            stack._withUnsafeGuaranteedRef { $0.deferreturn() }   // reads and changes only the defer chain
        }
        var s = sp &+ localBytes                             // ADDQ $locals, SP
        bp = stackWord(s).pointee                            // POPQ BP
        s &+= 8
        pc = stackWord(s).pointee                            // RET
        s &+= 8
        sp = s
        frames &-= 1
        if _slowPath(pc == lessstackPC) {
            save()
            stack._withUnsafeGuaranteedRef { $0.lessstack() }
            load()
        }
    }

    // MARK: Locals, arguments and pointers

    /// The stack address of local word `i` of the running function.
    @inlinable @inline(__always)
    public func localAddress(_ i: Int) -> UInt {
        assert(i >= 0 && i < funcs[Int(pc)].localWords, "local index out of the frame")
        return sp &+ UInt(bitPattern: i &* 8)
    }

    /// The stack address of argument (or result) word `i` of the running
    /// function: argp + 8 i, above the return address. On a new segment
    /// this is newstack's copy, just below the Stktop.
    @inlinable @inline(__always)
    public func argAddress(_ i: Int) -> UInt {
        assert(i >= 0 && i < funcs[Int(pc)].argWords, "argument index out of the argument area")
        return bp &+ 16 &+ UInt(bitPattern: i &* 8)
    }

    /// The stack address of local word `i` of the caller of the running
    /// function. In a contiguous stack the caller's frame starts at argp
    /// (above the return address); when the running frame is the first of a
    /// segment (its return address is `lessstack`) the caller's SP is the
    /// one the segment's Stktop saved. This is how a callee reaches what its
    /// caller keeps on the stack; an address taken before the call would be
    /// stale if the call grew the stack.
    @inlinable @inline(__always)
    public func callerLocalAddress(_ i: Int) -> UInt {
        let argp = bp &+ 16
        let base = stackWord(bp &+ 8).pointee == lessstackPC
            ? stackWord(g.pointee.hi &+ Stktop.gobufSP).pointee : argp
        return base &+ UInt(bitPattern: i &* 8)
    }

    /// Local word `i` of the running function.
    @inlinable
    public subscript(local i: Int) -> UInt64 {
        @inline(__always) get { UInt64(stackWord(localAddress(i)).pointee) }
        @inline(__always) set { stackWord(localAddress(i)).pointee = UInt(newValue) }
    }

    /// Argument (or result) word `i` of the running function.
    @inlinable
    public subscript(arg i: Int) -> UInt64 {
        @inline(__always) get { UInt64(stackWord(argAddress(i)).pointee) }
        @inline(__always) set { stackWord(argAddress(i)).pointee = UInt(newValue) }
    }

    /// Reads the word at `address`, which must lie in the live part of the
    /// stack (from SP up); anything else (a stale pointer into a freed stack)
    /// is fatal.
    @inlinable @inline(__always)
    public func load(at address: UInt) -> UInt64 {
        if _slowPath(!(address >= sp && address < g.pointee.hi && address & 7 == 0)) { checkLive(address) }
        return UInt64(stackWord(address).pointee)
    }

    /// Writes the word at `address` (in the live part of the stack).
    @inlinable @inline(__always)
    public func store(_ value: UInt64, at address: UInt) {
        if _slowPath(!(address >= sp && address < g.pointee.hi && address & 7 == 0)) { checkLive(address) }
        stackWord(address).pointee = UInt(value)
    }

    /// An address outside the current segment's live part: check the older
    /// segments (fatal if in none).
    @inlinable @inline(__always)
    func checkLive(_ address: UInt) {
        save()
        stack._withUnsafeGuaranteedRef { $0.checkLiveSlow(address) }
    }
}
