// A goroutine's stack: real memory, frames pushed and popped by a simulated
// call and return, grown by copying (Go 1.4 and later, runtime/stack.go) or by
// linking segments (Go 1.2's runtime/stack.c). This file holds the state
// (the parts of Go's `g` that describe the stack: `stack`, `stackguard0`,
// `sched.sp/bp/pc`, `_defer`) and the hot paths: the call with its prologue
// check, the return, and access to locals. Growth lives in
// GoroutineStack+Grow.swift, segments in GoroutineStack+Segmented.swift, the
// frame walk and the invariant checks in GoroutineStack+Traceback.swift.
//
// The model. `call(f)` does what a CALL plus `f`'s prologue do on amd64:
// compare SP with `stackguard0` the way the compiler's prologue does for f's
// frame size (runtime/internal/obj/x86/obj6.go stacksplit); if the check
// fails, call `morestack`; then push the return address (the caller's PC),
// push the caller's BP, point BP at it, reserve the locals and zero their
// pointer slots. `ret()` (or `ret(f)`, which knows its frame size the way
// a compiled epilogue does) runs the frame's deferred records (deferreturn),
// pops the locals by the function's frame size, pops BP and the return
// address, and, in segmented mode, leaves the segment when that address is
// `lessstack`. The registers (SP, BP, PC, the stack bounds and guard, the
// defer head) live in a malloc'd `GRegs` block rather than in the object:
// Swift checks exclusive access to class properties at run time, which on
// these paths cost more than the modelled work.
//
// Contiguous mode (`morestack` -> `newstack`): allocate a stack twice the
// size (or more, until the frame plus the guard fit), copy the used part,
// and move every pointer into the old stack by the displacement: the pointer
// slots of every frame (from the stack maps), every saved BP, the BP
// register, and the defer record chain (`copystack`, `adjustframe`,
// `adjustctxt`, `adjustdefers`). `shrink()` is a GC safe point's
// `shrinkstack`: halve when less than a quarter is in use.
//
// Segmented mode: on overflow allocate a segment big enough for the frame
// plus `segmentExtra`, record the old bounds and the caller's SP and PC in a
// `Stktop` at its top, and return through `lessstack`, which frees the
// segment again: a call loop at a segment boundary allocates and frees a
// segment on every iteration (the "hot split").
//
// Invariants (checked by `checkInvariants()`):
// - lo <= sp <= hi, and sp >= stackguard0 - stackSmall (only a tiny frame may
//   protrude below the guard); stackguard0 == lo + stackGuard.
// - Walking from (pc, sp) by frame sizes reaches goexit after `depth` frames
//   with sp == hi of the first stack (contiguous: == hi); every frame's saved
//   BP equals the next frame's varp (0 for the outermost) and the BP register
//   equals the innermost frame's varp.
// - Every set pointer slot points into the live part of the stack.
// - The defer chain runs from innermost to outermost frame and every record
//   lies in the frame whose SP it names.
//
// Threading: a GoroutineStack is used by one thread at a time, like a
// goroutine by the M running it; it may move between threads if the hand-off
// synchronises. Its memory comes from and goes back to the calling thread's
// stack cache.

#if canImport(Glibc)
import Glibc
#endif

/// How a goroutine stack grows.
public enum StackMode: Sendable, Equatable {
    /// Go 1.4+: one contiguous block, doubled by copying.
    case contiguous
    /// Go 1.2: a chain of segments, linked on overflow, freed on return.
    case segmented
}

/// Counters of one goroutine stack.
public struct StackStats: Sendable, Equatable {
    /// `copystack` calls (growths and shrinks of a contiguous stack).
    public var copies = 0
    public var grows = 0
    public var shrinks = 0
    /// Bytes moved by `copystack` (the used part of the stack each time).
    public var bytesCopied = 0
    /// Frames walked by `adjustframe` during copies.
    public var framesAdjusted = 0
    /// Pointers rewritten by the adjustment (frame slots, saved BPs, the BP
    /// register, defer records).
    public var pointersAdjusted = 0
    /// Segments linked (segmented mode).
    public var segmentsAllocated = 0
    /// Segments freed on return (segmented mode).
    public var segmentsFreed = 0
    /// Largest `size` seen.
    public var maxSize = 0
}

/// A goroutine stack with a simulated call/return, growth and shrinking.
///
/// Not thread safe: one thread uses it at a time.
public final class GoroutineStack {
    public let mode: StackMode
    /// The size beyond which growth stops with "fatal error: stack overflow"
    /// (Go's `maxstacksize`).
    public let maxStackSize: Int

    /// The registers and the few fields of Go's `g` the hot paths touch,
    /// kept outside the object: accesses through a pointer need no dynamic
    /// exclusivity checks, which would otherwise cost more than the call
    /// itself.
    @usableFromInline let g: UnsafeMutablePointer<GRegs>

    /// Low end of the current stack (or segment).
    @usableFromInline var lo: UInt {
        @inline(__always) get { g.pointee.lo }
        @inline(__always) set { g.pointee.lo = newValue }
    }
    /// High end of the usable part of the current stack (or segment: below
    /// its Stktop).
    @usableFromInline var hi: UInt {
        @inline(__always) get { g.pointee.hi }
        @inline(__always) set { g.pointee.hi = newValue }
    }
    /// `lo + stackGuard`: the prologue's limit.
    @usableFromInline var stackguard0: UInt {
        @inline(__always) get { g.pointee.stackguard0 }
        @inline(__always) set { g.pointee.stackguard0 = newValue }
    }
    /// Stack pointer: the low end of the innermost frame.
    @usableFromInline var sp: UInt {
        @inline(__always) get { g.pointee.sp }
        @inline(__always) set { g.pointee.sp = newValue }
    }
    /// Frame pointer: the innermost frame's varp (0 when no frame).
    @usableFromInline var bp: UInt {
        @inline(__always) get { g.pointee.bp }
        @inline(__always) set { g.pointee.bp = newValue }
    }
    /// The running function (goexit when no frame).
    @usableFromInline var pc: UInt {
        @inline(__always) get { g.pointee.pc }
        @inline(__always) set { g.pointee.pc = newValue }
    }
    /// Address of the innermost defer record (`g._defer`), 0 when none.
    @usableFromInline var deferHead: UInt {
        @inline(__always) get { g.pointee.deferHead }
        @inline(__always) set { g.pointee.deferHead = newValue }
    }
    /// Frames on the stack.
    @usableFromInline var frames: Int {
        @inline(__always) get { g.pointee.frames }
        @inline(__always) set { g.pointee.frames = newValue }
    }

    /// The function table (immutable entries; see StackFunc.swift).
    @usableFromInline let funcs: UnsafeMutablePointer<FuncRecord>

    /// Allocation size of the current stack or segment.
    var allocSize: Int {
        get { g.pointee.allocSize }
        set { g.pointee.allocSize = newValue }
    }
    /// Segmented: sum of all segment sizes (Go 1.2's `gp->stacksize`);
    /// contiguous: equal to `allocSize`.
    var totalSize: Int {
        get { g.pointee.totalSize }
        set { g.pointee.totalSize = newValue }
    }
    /// Segmented: bytes in use in the segments below the current one.
    var outerUsed: Int {
        get { g.pointee.outerUsed }
        set { g.pointee.outerUsed = newValue }
    }

    /// Counters; see `StackStats`. (Kept outside the object like `g`.)
    public internal(set) var stats: StackStats {
        unsafeAddress { UnsafePointer(st) }
        unsafeMutableAddress { st }
    }
    let st: UnsafeMutablePointer<StackStats>

    /// Deferred records run so far and the sum of their arguments.
    public internal(set) var deferRuns: Int {
        get { g.pointee.deferRuns }
        set { g.pointee.deferRuns = newValue }
    }
    public internal(set) var deferSum: UInt64 {
        get { g.pointee.deferSum }
        set { g.pointee.deferSum = newValue }
    }

    /// A fresh goroutine stack of `StackLayout.fixedStack` (2 KiB) bytes.
    ///
    /// - Parameter maxStackSize: growth beyond this many bytes is a fatal
    ///   "stack overflow" (default Go's 1 GB on 64-bit machines).
    public init(mode: StackMode = .contiguous, maxStackSize: Int = StackLayout.defaultMaxStackSize) {
        self.mode = mode
        self.maxStackSize = maxStackSize
        let n = StackLayout.fixedStack
        let base = StackAllocator.stackalloc(n)
        g = .allocate(capacity: 1)
        g.initialize(to: GRegs(lo: base, hi: base + UInt(n), stackguard0: base + UInt(StackLayout.stackGuard),
                               sp: base + UInt(n), bp: 0, pc: goexitPC, deferHead: 0, frames: 0,
                               allocSize: n, totalSize: n))
        st = .allocate(capacity: 1)
        st.initialize(to: StackStats())
        funcs = FuncTable.shared.entries
        st.pointee.maxSize = n
    }

    deinit {
        if mode == .segmented { releaseSegments() }
        StackAllocator.stackfree(lo, allocSize)
        g.deinitialize(count: 1)
        g.deallocate()
        st.deinitialize(count: 1)
        st.deallocate()
    }

    /// Bytes of stack memory the goroutine owns (all segments in segmented
    /// mode).
    public var size: Int { totalSize }

    /// Bytes in use: from the top of the stack down to SP (across segments).
    public var used: Int { Int(hi - sp) + outerUsed }

    /// Frames on the stack.
    public var depth: Int { frames }

    /// The running function's PC (0 = none).
    public var currentPC: UInt { pc }

    /// Bounds of the current stack (or segment): `lo ..< hi`.
    public var bounds: (lo: UInt, hi: UInt) { (lo, hi) }

    /// The current stack pointer.
    public var stackPointer: UInt { sp }

    /// The frame pointer register (the innermost frame's varp).
    public var framePointer: UInt { bp }

    // MARK: Call and return

    /// Calls `f`: the prologue's stack check (growing or splitting the stack
    /// when it fails), then push the return address and BP, and reserve
    /// `f`'s locals with their pointer slots zeroed.
    @inlinable @inline(__always)
    public func call(_ f: StackFunc) {
        if _slowPath(mustGrow(f)) { morestack(f) }
        var s = sp &- 8
        stackWord(s).pointee = pc          // return address (CALL)
        s &-= 8
        stackWord(s).pointee = bp          // PUSHQ BP
        bp = s                             // MOVQ SP, BP
        s &-= f.spDelta &- 8               // SUBQ $locals, SP
        var i = 0
        while i < f.zeroCount {
            stackWord(s &+ UInt(bitPattern: f.zeroSlots[i] &* 8)).pointee = 0
            i &+= 1
        }
        sp = s
        pc = f.pc
        frames &+= 1
    }

    /// Whether `f`'s prologue would call morestack now (obj6.go stacksplit).
    /// Its three sequences, by the frame size F (BP and locals) the compiler
    /// knows: F <= stackSmall: SP <= guard; F <= stackBig:
    /// SP - (F - stackSmall) <= guard; bigger: the same, or the subtraction
    /// wrapped. SP is the entry SP, below the pushed return address.
    @inlinable @inline(__always)
    func mustGrow(_ f: StackFunc) -> Bool {
        let spEntry = sp &- 8
        if _slowPath(f.hugeFrame) && spEntry < f.checkOffset { return true }
        return spEntry &- f.checkOffset <= stackguard0
    }

    /// Whether calling `f` now would grow (contiguous) or split (segmented)
    /// the stack.
    public func wouldGrow(_ f: StackFunc) -> Bool { mustGrow(f) }

    /// Returns from the running function: run its deferred records, pop its
    /// locals, BP and return address; leave the segment on `lessstack`. The
    /// frame size comes from the function table.
    @inlinable @inline(__always)
    public func ret() {
        if _slowPath(pc == goexitPC) { goFatal("return with no frame on the stack") }
        popFrame(localBytes: UInt(bitPattern: funcs[Int(bitPattern: pc)].localWords &* 8))
    }

    /// `ret()` for a caller that knows it is returning from `f`, as a
    /// compiled epilogue knows its own frame size (`ADDQ $locals, SP`): no
    /// table lookup.
    @inlinable @inline(__always)
    public func ret(_ f: StackFunc) {
        if _slowPath(pc != f.pc) { goFatal("return from a function that is not running") }
        popFrame(localBytes: f.spDelta &- 8)
    }

    @inlinable @inline(__always)
    func popFrame(localBytes: UInt) {
        if _slowPath(deferHead != 0) { deferreturn() }
        var s = sp &+ localBytes                             // ADDQ $locals, SP
        bp = stackWord(s).pointee                            // POPQ BP
        s &+= 8
        pc = stackWord(s).pointee                            // RET
        s &+= 8
        sp = s
        frames &-= 1
        if _slowPath(pc == lessstackPC) { lessstack() }
    }

    // MARK: Locals and pointers

    /// The stack address of local word `i` of the running function.
    @inlinable @inline(__always)
    public func localAddress(_ i: Int) -> UInt {
        assert(i >= 0 && i < funcs[Int(pc)].localWords, "local index out of the frame")
        return sp &+ UInt(bitPattern: i &* 8)
    }

    /// The stack address of local word `i` of the caller of the running
    /// function, reached from above the return address (Go's argp: the
    /// caller's frame starts where the callee's ends; on a new segment the
    /// caller's SP is in the Stktop). This is how a callee reaches what its
    /// caller passed on the stack; an address taken before the call would be
    /// stale if the call grew the stack.
    @inlinable @inline(__always)
    public func callerLocalAddress(_ i: Int) -> UInt {
        let argp = bp &+ 16
        let base = stackWord(bp &+ 8).pointee == lessstackPC ? stackWord(argp &+ 24).pointee : argp
        return base &+ UInt(i &* 8)
    }

    /// Local word `i` of the running function.
    @inlinable
    public subscript(local i: Int) -> UInt64 {
        @inline(__always) get { UInt64(stackWord(localAddress(i)).pointee) }
        @inline(__always) set { stackWord(localAddress(i)).pointee = UInt(newValue) }
    }

    /// Reads the word at `address`, which must lie in the live part of the
    /// stack (from SP up); anything else (a stale pointer into a freed stack)
    /// is fatal.
    @inlinable @inline(__always)
    public func load(at address: UInt) -> UInt64 {
        if _slowPath(!(address >= sp && address < hi && address & 7 == 0)) { checkLiveSlow(address) }
        return UInt64(stackWord(address).pointee)
    }

    /// Writes the word at `address` (in the live part of the stack).
    @inlinable @inline(__always)
    public func store(_ value: UInt64, at address: UInt) {
        if _slowPath(!(address >= sp && address < hi && address & 7 == 0)) { checkLiveSlow(address) }
        stackWord(address).pointee = UInt(value)
    }

    // MARK: Defers

    /// Records a deferred call in the running frame (Go's `deferprocStack`):
    /// a four-word record at local words `word ..< word + 4` (link, sp,
    /// varp, argument), pushed on the goroutine's defer chain. It runs when
    /// this frame returns, adding `argument` to `deferSum`.
    public func deferRecord(atLocal word: Int, argument: UInt64) {
        precondition(word >= 0 && word + DeferRecord.words <= funcs[Int(pc)].localWords,
                     "defer record outside the frame")
        let d = sp + UInt(word * 8)
        stackWord(d + DeferRecord.link).pointee = deferHead
        stackWord(d + DeferRecord.sp).pointee = sp
        stackWord(d + DeferRecord.varp).pointee = bp
        stackWord(d + DeferRecord.arg).pointee = UInt(argument)
        deferHead = d
    }

    /// Defer records on the chain.
    public var pendingDefers: Int {
        var n = 0
        var d = deferHead
        while d != 0 { n += 1; d = stackWord(d + DeferRecord.link).pointee }
        return n
    }

    /// `deferreturn`: runs the records of the returning frame (those whose
    /// sp is this frame's SP), innermost first.
    @usableFromInline @inline(never)
    func deferreturn() {
        while deferHead != 0 {
            let d = deferHead
            if stackWord(d + DeferRecord.sp).pointee != sp { return }
            if stackWord(d + DeferRecord.varp).pointee != bp { goFatal("bad defer record: varp does not match its frame") }
            deferSum &+= UInt64(stackWord(d + DeferRecord.arg).pointee)
            deferRuns += 1
            deferHead = stackWord(d + DeferRecord.link).pointee
        }
    }
}

/// The parts of Go's `g` (stack, stackguard0, sched, _defer) and the frame
/// count, in one block the hot paths reach through a pointer.
@usableFromInline
struct GRegs {
    @usableFromInline var lo: UInt
    @usableFromInline var hi: UInt
    @usableFromInline var stackguard0: UInt
    @usableFromInline var sp: UInt
    @usableFromInline var bp: UInt
    @usableFromInline var pc: UInt
    @usableFromInline var deferHead: UInt
    @usableFromInline var frames: Int
    // Slow-path state.
    var allocSize: Int
    var totalSize: Int
    var outerUsed = 0
    var deferRuns = 0
    var deferSum: UInt64 = 0

    init(lo: UInt, hi: UInt, stackguard0: UInt, sp: UInt, bp: UInt, pc: UInt, deferHead: UInt, frames: Int,
         allocSize: Int, totalSize: Int) {
        self.lo = lo; self.hi = hi; self.stackguard0 = stackguard0; self.sp = sp
        self.bp = bp; self.pc = pc; self.deferHead = deferHead; self.frames = frames
        self.allocSize = allocSize; self.totalSize = totalSize
    }
}

/// Layout of a stack-allocated defer record (the fields of Go's `_defer`
/// that matter to stack copying: link, sp, varp, and the deferred call's
/// argument standing in for fn).
enum DeferRecord {
    static let words = 4
    static let link: UInt = 0
    static let sp: UInt = 8
    static let varp: UInt = 16
    static let arg: UInt = 24
}
