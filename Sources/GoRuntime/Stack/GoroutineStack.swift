// A goroutine's stack: real memory, frames pushed and popped by a simulated
// call and return, grown by copying (Go 1.4 and later, runtime/stack.go) or by
// linking segments (Go 1.2's runtime/stack.c). This file holds the state
// (the parts of Go's `g` that describe the stack: `stack`, `stackguard0`,
// `sched`, `_defer`, `atomicstatus`) and the API that works on a stopped
// goroutine. The hot paths (the call with its prologue check, the return,
// access to locals and arguments) live in StackCPU.swift, growth in
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
// `lessstack`. A function's arguments and results sit in its caller's frame
// (the caller's lowest locals), reached by the callee at BP + 16.
//
// Registers. While a goroutine runs, SP, BP and PC are machine registers,
// not memory: `run { cpu in ... }` loads them from `g.sched` into a
// `StackCPU` value the compiler keeps in registers, and stores them back
// when the body ends or a slow path (morestack, lessstack, deferreturn, a
// pointer check) needs the goroutine's state in memory, as Go's morestack
// saves the context into `g.sched` before switching to g0. The stack bounds,
// the guard and the defer head stay in `g` (a malloc'd `GRegs` block, which
// Go ≥1.17 reaches through R14): the prologue loads the guard from memory as
// Go's `CMPQ SP, 16(R14)` does. The one-shot API on the stack itself
// (`call`, `ret`, `[local:]`...) is `run` around one operation.
//
// Contiguous mode (`morestack` -> `newstack`): allocate a stack twice the
// size (or more, until the frame plus the guard fit), copy the used part,
// and move every pointer into the old stack by the displacement: the pointer
// slots of every frame (from the stack maps), every saved BP, the BP
// register, and the defer record chain (`copystack`, `adjustframe`,
// `adjustctxt`, `adjustdefers`). `shrink()` is a GC safe point's
// `shrinkstack`: halve when less than a quarter is in use.
//
// Segmented mode: on overflow Go 1.2's morestack/newstack link a segment
// big enough for the frame, its arguments and `segmentExtra`, with a
// `Stktop` at its top recording the old bounds and the caller's context,
// copy the arguments over and run the callee there with `lessstack` as its
// return address; lessstack/oldstack copy the results back and free the
// segment: a call loop at a segment boundary allocates and frees a segment
// on every iteration (the "hot split"). See GoroutineStack+Segmented.swift.
//
// Invariants (checked by `checkInvariants()`):
// - lo <= sp <= hi, and sp >= stackguard0 - stackSmall (only a tiny frame may
//   protrude below the guard); stackguard0 == lo + stackGuard; the status is
//   Grunning (it is Gwaiting only inside newstack and oldstack).
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
    /// Stack pointer: the low end of the innermost frame (saved in
    /// `g.sched` while no `StackCPU` holds it).
    @usableFromInline var sp: UInt {
        @inline(__always) get { g.pointee.sched.sp }
        @inline(__always) set { g.pointee.sched.sp = newValue }
    }
    /// Frame pointer: the innermost frame's varp (0 when no frame).
    @usableFromInline var bp: UInt {
        @inline(__always) get { g.pointee.sched.bp }
        @inline(__always) set { g.pointee.sched.bp = newValue }
    }
    /// The running function (goexit when no frame).
    @usableFromInline var pc: UInt {
        @inline(__always) get { g.pointee.sched.pc }
        @inline(__always) set { g.pointee.sched.pc = newValue }
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
    /// Go's `g.atomicstatus` (Go 1.2: `status`): Grunning, or Gwaiting
    /// while newstack or oldstack works on the stack.
    var status: UInt32 {
        get { g.pointee.status }
        set { g.pointee.status = newValue }
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
                               sp: base + UInt(n), pc: goexitPC, allocSize: n))
        g.pointee.sched.g = UInt(bitPattern: g)
        if mode == .segmented { g.pointee.threadKey = StackAllocator.cacheKey }
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

    /// Bytes in use: from the top of the stack down to SP (across segments:
    /// each older segment from its top down to the SP its Stktop saved).
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

    // MARK: Running

    /// Runs `body` with the goroutine on the CPU: its SP, BP and PC loaded
    /// into a `StackCPU` (registers), saved back into `g.sched` when `body`
    /// returns. Inside `body`, work on the stack through `cpu` only: the
    /// stack's own accessors see the registers as they were saved last
    /// (`cpu.save()` brings them up to date).
    @inlinable @inline(__always)
    public func run<R>(_ body: (inout StackCPU) throws -> R) rethrows -> R {
        var cpu = StackCPU(self)
        defer { cpu.save() }
        return try body(&cpu)
    }

    // MARK: Call and return (one operation each; see StackCPU)

    /// Calls `f`: the prologue's stack check (growing or splitting the stack
    /// when it fails), then push the return address and BP, and reserve
    /// `f`'s locals with their pointer slots zeroed.
    @inlinable @inline(__always)
    public func call(_ f: StackFunc) { run { $0.call(f) } }

    /// Whether `f`'s prologue would call morestack now (obj6.go stacksplit).
    @inlinable @inline(__always)
    func mustGrow(_ f: StackFunc) -> Bool { StackCPU.mustGrow(f, sp: sp, limit: stackguard0) }

    /// Whether calling `f` now would grow (contiguous) or split (segmented)
    /// the stack.
    public func wouldGrow(_ f: StackFunc) -> Bool { mustGrow(f) }

    /// Returns from the running function: run its deferred records, pop its
    /// locals, BP and return address; leave the segment on `lessstack`. The
    /// frame size comes from the function table.
    @inlinable @inline(__always)
    public func ret() { run { $0.ret() } }

    /// `ret()` for a caller that knows it is returning from `f`, as a
    /// compiled epilogue knows its own frame size (`ADDQ $locals, SP`): no
    /// table lookup.
    @inlinable @inline(__always)
    public func ret(_ f: StackFunc) { run { $0.ret(f) } }

    // MARK: Locals, arguments and pointers

    /// The stack address of local word `i` of the running function.
    @inlinable @inline(__always)
    public func localAddress(_ i: Int) -> UInt { run { $0.localAddress(i) } }

    /// The stack address of argument (or result) word `i` of the running
    /// function: argp + 8 i, in its caller's frame or, on a new segment,
    /// in the copy newstack made.
    @inlinable @inline(__always)
    public func argAddress(_ i: Int) -> UInt { run { $0.argAddress(i) } }

    /// The stack address of local word `i` of the caller of the running
    /// function (see `StackCPU.callerLocalAddress`).
    @inlinable @inline(__always)
    public func callerLocalAddress(_ i: Int) -> UInt { run { $0.callerLocalAddress(i) } }

    /// Local word `i` of the running function.
    @inlinable
    public subscript(local i: Int) -> UInt64 {
        @inline(__always) get { run { $0[local: i] } }
        @inline(__always) set { run { $0[local: i] = newValue } }
    }

    /// Argument (or result) word `i` of the running function.
    @inlinable
    public subscript(arg i: Int) -> UInt64 {
        @inline(__always) get { run { $0[arg: i] } }
        @inline(__always) set { run { $0[arg: i] = newValue } }
    }

    /// Reads the word at `address`, which must lie in the live part of the
    /// stack (from SP up); anything else (a stale pointer into a freed stack)
    /// is fatal.
    @inlinable @inline(__always)
    public func load(at address: UInt) -> UInt64 { run { $0.load(at: address) } }

    /// Writes the word at `address` (in the live part of the stack).
    @inlinable @inline(__always)
    public func store(_ value: UInt64, at address: UInt) { run { $0.store(value, at: address) } }

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

/// The parts of Go's `g` (stack, stackguard0, sched, _defer, atomicstatus)
/// and the frame count, in one block the hot paths reach through a pointer.
@usableFromInline
struct GRegs {
    @usableFromInline var lo: UInt
    /// The top of the usable stack (Go 1.2's `stackbase`: below the Stktop
    /// of a segment).
    @usableFromInline var hi: UInt
    @usableFromInline var stackguard0: UInt
    /// Where SP, BP and PC rest while no `StackCPU` holds them.
    @usableFromInline var sched: Gobuf
    @usableFromInline var deferHead: UInt = 0
    @usableFromInline var frames: Int = 0
    // Slow-path state.
    var status: UInt32 = GStatus.running
    /// Go 1.2's `ispanic` and `panicwrap`: set while a panic runs deferred
    /// calls (never, in this model); newstack and oldstack carry them
    /// through every Stktop.
    var ispanic = false
    var panicwrap: UInt32 = 0
    /// `StackAllocator.cacheKey`, kept here so that the split path finds
    /// its thread's M without a swift_once call.
    var threadKey: pthread_key_t = 0
    var allocSize: Int
    var totalSize: Int
    var deferRuns = 0
    var deferSum: UInt64 = 0

    init(lo: UInt, hi: UInt, stackguard0: UInt, sp: UInt, pc: UInt, allocSize: Int) {
        self.lo = lo; self.hi = hi; self.stackguard0 = stackguard0
        self.sched = Gobuf(sp: sp, pc: pc)
        self.allocSize = allocSize; self.totalSize = allocSize
    }
}

/// A saved register set: Go's `gobuf` (runtime/runtime2.go; Go 1.2's
/// `Gobuf` in runtime.h had the same words but `bp`).
@usableFromInline
struct Gobuf {
    @usableFromInline var sp: UInt = 0
    @usableFromInline var pc: UInt = 0
    /// The goroutine (its `GRegs` address).
    var g: UInt = 0
    /// The closure context register (DX); 0: no closures here.
    var ctxt: UInt = 0
    /// The return value register (AX).
    var ret: UInt = 0
    /// The link register (0 on amd64).
    var lr: UInt = 0
    @usableFromInline var bp: UInt = 0

    @usableFromInline init(sp: UInt = 0, pc: UInt = 0) { self.sp = sp; self.pc = pc }
}

/// Goroutine states the stack code sets (Go 1.2's runtime.h numbering,
/// the same as Go 1.19's `_Grunning` and `_Gwaiting`).
enum GStatus {
    static let running: UInt32 = 2
    static let waiting: UInt32 = 4
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
