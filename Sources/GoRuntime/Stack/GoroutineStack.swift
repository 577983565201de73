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
// pointer slots. `ret()` runs the frame's deferred records (deferreturn),
// pops the locals by the function's frame size, pops BP and the return
// address, and, in segmented mode, leaves the segment when that address is
// `lessstack`.
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

    // MARK: g.stack, g.stackguard0

    /// Low end of the current stack (or segment).
    @usableFromInline var lo: UInt
    /// High end of the usable part of the current stack (or segment: below
    /// its Stktop).
    @usableFromInline var hi: UInt
    /// `lo + stackGuard`: the prologue's limit.
    @usableFromInline var stackguard0: UInt

    // MARK: g.sched

    /// Stack pointer: the low end of the innermost frame.
    @usableFromInline var sp: UInt
    /// Frame pointer: the innermost frame's varp (0 when no frame).
    @usableFromInline var bp: UInt
    /// The running function (goexit when no frame).
    @usableFromInline var pc: UInt

    // MARK: g._defer

    /// Address of the innermost defer record, 0 when none.
    @usableFromInline var deferHead: UInt = 0

    /// Frames on the stack.
    @usableFromInline var frames = 0

    /// The function table (immutable entries; see StackFunc.swift).
    @usableFromInline let funcs: UnsafeMutablePointer<FuncRecord>

    /// Allocation size of the current stack or segment.
    var allocSize: Int
    /// Segmented: sum of all segment sizes (Go 1.2's `gp->stacksize`);
    /// contiguous: equal to `allocSize`.
    var totalSize: Int
    /// Segmented: bytes in use in the segments below the current one.
    var outerUsed = 0

    /// Counters; see `StackStats`.
    public internal(set) var stats = StackStats()
    /// Deferred records run so far and the sum of their arguments.
    public internal(set) var deferRuns = 0
    public internal(set) var deferSum: UInt64 = 0

    /// A fresh goroutine stack of `StackLayout.fixedStack` (2 KiB) bytes.
    ///
    /// - Parameter maxStackSize: growth beyond this many bytes is a fatal
    ///   "stack overflow" (default Go's 1 GB on 64-bit machines).
    public init(mode: StackMode = .contiguous, maxStackSize: Int = StackLayout.defaultMaxStackSize) {
        self.mode = mode
        self.maxStackSize = maxStackSize
        let n = StackLayout.fixedStack
        lo = StackAllocator.stackalloc(n)
        hi = lo + UInt(n)
        stackguard0 = lo + UInt(StackLayout.stackGuard)
        sp = hi
        bp = 0
        pc = goexitPC
        allocSize = n
        totalSize = n
        funcs = FuncTable.shared.entries
        stats.maxSize = n
    }

    deinit {
        if mode == .segmented { releaseSegments() }
        StackAllocator.stackfree(lo, allocSize)
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
        if _slowPath(mustGrow(f.spDelta)) { morestack(f) }
        var s = sp &- 8
        stackWord(s).pointee = pc          // return address (CALL)
        s &-= 8
        stackWord(s).pointee = bp          // PUSHQ BP
        bp = s                             // MOVQ SP, BP
        s &-= f.spDelta &- 8               // SUBQ $locals, SP
        var i = 0
        while i < f.zeroCount {
            stackWord(s &+ UInt(f.zeroSlots[i] &* 8)).pointee = 0
            i &+= 1
        }
        sp = s
        pc = f.pc
        frames &+= 1
    }

    /// Whether the prologue of a function whose frame (BP and locals) is
    /// `framesize` bytes would call morestack now (obj6.go stacksplit: the
    /// three check sequences for tiny, medium and huge frames).
    @inlinable @inline(__always)
    func mustGrow(_ framesize: UInt) -> Bool {
        let spEntry = sp &- 8              // after CALL pushed the return address
        let guardp = stackguard0
        if framesize <= UInt(StackLayout.stackSmall) {
            return spEntry <= guardp
        }
        let d = framesize &- UInt(StackLayout.stackSmall)
        if framesize <= UInt(StackLayout.stackBig) {
            return spEntry &- d <= guardp
        }
        return spEntry < d || spEntry &- d <= guardp
    }

    /// Whether calling `f` now would grow (contiguous) or split (segmented)
    /// the stack.
    public func wouldGrow(_ f: StackFunc) -> Bool { mustGrow(f.spDelta) }

    /// Returns from the running function: run its deferred records, pop its
    /// locals, BP and return address; leave the segment on `lessstack`.
    @inlinable @inline(__always)
    public func ret() {
        if _slowPath(frames == 0) { goFatal("return with no frame on the stack") }
        if _slowPath(deferHead != 0) { deferreturn() }
        var s = sp &+ UInt(funcs[Int(pc)].localWords &* 8)   // ADDQ $locals, SP
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
        return sp &+ UInt(i &* 8)
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
