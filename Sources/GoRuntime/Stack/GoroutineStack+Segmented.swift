// Segmented stacks as Go used them up to 1.2, for comparison with the
// contiguous stacks Go 1.4 replaced them with. Mirrors Go 1.2's
// src/pkg/runtime/asm_amd64.s (runtime·morestack, runtime·lessstack,
// runtime·gogo), src/pkg/runtime/stack.c (runtime·newstack,
// runtime·oldstack, runtime·stackalloc/stackfree) and the `Stktop`, `Gobuf`
// and `M` of src/pkg/runtime/runtime.h.
//
// What one call that straddles a segment boundary costs, stage by stage,
// and what of it is modelled here:
//
// Split (the callee's prologue check failed; `newsegment` below):
// 1. morestack (asm_amd64.s), entered through a morestackNN trampoline that
//    stored the callee's frame and argument sizes in m->moreframesize /
//    m->moreargsize. Modelled: those two stores; the TLS load of m (one
//    pthread_getspecific here, which also finds the stack cache; the model
//    also records m->curg and g there, the scheduler's part, as several
//    goroutines may take turns on one thread);
//    m->morebuf = the caller's context {pc, sp, g} and m->moreargp = the
//    caller's SP; g->sched = the callee's context {pc, sp, g, ctxt}; the
//    switch to the scheduler goroutine (g = m->g0 in TLS).
// 2. newstack (stack.c). Modelled: the "wrong goroutine" check; status =
//    Gwaiting and back; the split-stack-overflow and argsize checks; the
//    segment size (frame + argsize + StackExtra, at least StackMin); the
//    stacksize/maxstacksize check; stackalloc's "not on scheduler stack"
//    check and the allocation; the whole Stktop (old stackguard and
//    stackbase, the 6-word gobuf copied from m->morebuf, argp, argsize,
//    free, and the panic flag and panicwrap moved from the goroutine, with
//    the check of the old Stktop's panic flag); clearing
//    m->moreargp/morebuf; the new stackbase and guards;
//    the word-by-word copy of the arguments to just below the Stktop; the
//    label Gobuf (cleared, then {sp, pc = lessstack, g, ctxt}; in the M
//    here, on g0's stack in Go) that gostartcall and gogo resume from, and
//    gogo's nil-g check, restore of g, SP, ret, ctxt and PC, and clearing
//    of the label's sp, ret and ctxt.
// Return (the callee returned into lessstack; `lessstack` below):
// 3. lessstack (asm_amd64.s). Modelled: the TLS load of m (and, as in
//    1., m->curg); m->cret = AX (this model has no value in AX: Go 1.2
//    returned Go results on the stack); the switch to g0.
// 4. oldstack (stack.c). Modelled: gp->sched = the Stktop's gobuf and
//    sched.ret = m->cret; status = Gwaiting and back; the copy of argsize
//    bytes (arguments and results) back to the caller's frame; the
//    goroutine check of the saved gobuf (Go faults on top->gobuf.g->goid);
//    stackbase, guards and panicwrap restored from the Stktop; stacksize -=
//    free and stackfree; gogo(&gp->sched) (its nil-g check, g in TLS, and
//    the clearing of ret and ctxt; sched.sp is where the model's registers
//    reload from, so it is not cleared).
//
// Not modelled: rewindmorestack (it decodes the instruction at the saved PC;
// a PC here is a function index), the StackPreempt check (no preemption),
// waitreason strings, newstackcall/reflect.call, the real SP
// switch to g0's stack (the slow paths are Swift functions that run on the
// thread's own stack, which is what g0's stack is), gostartcall's push of
// lessstack (the model's CALL pushes the PC register, which gogo set to
// lessstack: "as though lessstack called the function", as newstack's
// comment says), and the second run of the
// callee's prologue after gogo (its result is checked instead). Go 1.2 took
// StackMin-sized segments from a per-M ring (m->stackcache) and bigger ones
// from malloc; here all come from the Go 1.19 pools and per-thread cache
// shared with contiguous stacks, and sizes are rounded up to a power of two.
//
// Nothing ever moves, so no pointer is adjusted; the price is that a call
// loop straddling a segment boundary allocates and frees a segment, and
// copies its arguments there and back, on every iteration (the "hot split").
//
// Stktop layout (Go 1.2 runtime.h on amd64, at `hi` of its segment, then one
// word of the model's own):
//   0 stackguard   8 stackbase   16..56 gobuf {sp, pc, g, ctxt, ret, lr}
//   64 argsize (low uint32) and panicwrap (high uint32)
//   72 argp   80 free   88 panic
// (the model never panics: ispanic and panicwrap are always zero, but they
// are carried as Go 1.2 carried them)
//   96 the old segment's allocation size (Go 1.2 kept it in that segment's
//      own Stktop.free; the model's first stack has no Stktop)
// The old segment's low end is stackguard - StackGuard, as oldstack
// computes it.

/// Byte offsets in a Stktop.
@usableFromInline
enum Stktop {
    static let stackguard: UInt = 0
    static let stackbase: UInt = 8
    /// The caller's SP (where the callee's arguments are in the old
    /// segment); read by the inlinable `StackCPU.callerLocalAddress`.
    @inlinable static var gobufSP: UInt { 16 }
    static let gobufPC: UInt = 24
    static let gobufG: UInt = 32
    static let gobufCtxt: UInt = 40
    static let gobufRet: UInt = 48
    static let gobufLR: UInt = 56
    static let argsize: UInt = 64
    static let argp: UInt = 72
    static let free: UInt = 80
    static let panicFlag: UInt = 88
    static let prevAllocSize: UInt = 96
    // 13 words: `StackLayout.stktopSize`.
}

/// The fields of Go 1.2's `M` (runtime.h) that morestack, newstack,
/// lessstack and oldstack use. One per thread, beside its stack cache (see
/// `StackThread`); touched only by its thread.
struct SplitM {
    /// TLS `g`: the goroutine whose code runs (`curg`), or `g0` inside
    /// newstack and oldstack.
    var g: UInt = 0
    /// The user goroutine this thread runs.
    var curg: UInt = 0
    /// This thread's scheduler goroutine (set once per thread: the address
    /// of its `StackThread`).
    var g0: UInt = 0
    /// The caller's context at a split: where the callee returns to.
    var morebuf = Gobuf()
    /// Where the callee's arguments start in the old segment.
    var moreargp: UInt = 0
    var moreargsize: UInt32 = 0
    var moreframesize: UInt32 = 0
    /// AX saved by lessstack.
    var cret: UInt = 0
    /// newstack's local `label`, the register set gogo resumes the callee
    /// from; Go 1.2 kept it in newstack's frame on g0's stack, here it is in
    /// the M (the model's g0 has no stack of its own).
    var label = Gobuf()
}

extension GoroutineStack {
    /// `morestack` + `newstack` of Go 1.2: link a new segment for `f` and
    /// move its arguments there. The registers are in `g.sched` (the
    /// prologue's caller context: SP = the caller's SP, PC = the caller);
    /// on return they hold the callee's start on the new segment: SP below
    /// the copied arguments, PC = lessstack (the return address the call
    /// pushes next).
    func newsegment(_ f: StackFunc) {
        // morestack (asm_amd64.s), entered from the morestackNN trampoline
        // with f's sizes.
        let t = StackAllocator.currentThread(key: g.pointee.threadKey)   // get_tls(CX); MOVQ m(CX), BX
        let gid = UInt(bitPattern: g)
        t.pointee.m.moreframesize = UInt32(truncatingIfNeeded: f.frameSize)
        t.pointee.m.moreargsize = UInt32(truncatingIfNeeded: f.argSize)
        onThread(t)
        // m->morebuf = f's caller: its PC (f's return address) and SP.
        t.pointee.m.morebuf.pc = pc
        t.pointee.m.morebuf.sp = sp
        t.pointee.m.moreargp = sp
        t.pointee.m.morebuf.g = gid
        // g->sched = the context in f: f's PC and SP (below the pushed
        // return address), and the closure context.
        g.pointee.sched.pc = f.pc
        g.pointee.sched.sp = sp &- 8
        g.pointee.sched.g = gid
        g.pointee.sched.ctxt = 0
        // Call newstack on m->g0's stack.
        t.pointee.m.g = t.pointee.m.g0

        // newstack (stack.c).
        if t.pointee.m.morebuf.g != t.pointee.m.curg { goFatal("runtime: wrong goroutine in newstack") }
        let oldstatus = status
        var framesize = Int(truncatingIfNeeded: t.pointee.m.moreframesize)
        let argsize = Int(truncatingIfNeeded: t.pointee.m.moreargsize)
        status = GStatus.waiting
        let spAtMorestack = g.pointee.sched.sp &- 8          // the call to morestack cost a word
        if spAtMorestack < lo { goFatal("runtime: split stack overflow") }
        if argsize % StackLayout.ptrSize != 0 { goFatal("runtime: stack split argsize") }

        // Allocate the new segment: frame + arguments + StackExtra, at
        // least StackMin (rounded up to a power of two for the pools).
        framesize &+= argsize
        framesize &+= StackLayout.segmentExtra                 // room for more functions, Stktop
        if framesize < StackLayout.segmentMin { framesize = StackLayout.segmentMin }
        let segsize = 1 &<< (Int.bitWidth &- (framesize &- 1).leadingZeroBitCount)
        totalSize &+= segsize
        if totalSize > maxStackSize { stackOverflow(newsize: totalSize) }
        if t.pointee.m.g != t.pointee.m.g0 { goFatal("stackalloc not on scheduler stack") }
        let stk = StackAllocator.stackalloc(segsize, thread: t)
        let top = stk &+ UInt(bitPattern: segsize &- StackLayout.stktopSize)

        // Fill in the Stktop.
        stackWord(top &+ Stktop.stackbase).pointee = hi
        stackWord(top &+ Stktop.stackguard).pointee = stackguard0
        let mb = t.pointee.m.morebuf                          // top->gobuf = m->morebuf
        stackWord(top &+ Stktop.gobufSP).pointee = mb.sp
        stackWord(top &+ Stktop.gobufPC).pointee = mb.pc
        stackWord(top &+ Stktop.gobufG).pointee = mb.g
        stackWord(top &+ Stktop.gobufCtxt).pointee = mb.ctxt
        stackWord(top &+ Stktop.gobufRet).pointee = mb.ret
        stackWord(top &+ Stktop.gobufLR).pointee = mb.lr
        let argp = t.pointee.m.moreargp
        stackWord(top &+ Stktop.argp).pointee = argp
        stackWord(top &+ Stktop.free).pointee = UInt(bitPattern: segsize)
        stackWord(top &+ Stktop.prevAllocSize).pointee = UInt(bitPattern: allocSize)
        t.pointee.m.moreargp = 0
        t.pointee.m.morebuf.pc = 0
        t.pointee.m.morebuf.lr = 0
        t.pointee.m.morebuf.sp = 0

        // Copy the flag from panic; if this is a split in the top frame of
        // a panic's deferred call, propagate it so that recover still sees
        // the panic.
        var panicking = g.pointee.ispanic
        g.pointee.ispanic = false
        if let oldtop = stktop(hi: hi, lo: lo, allocSize: allocSize),          // top->stackbase
           stackWord(oldtop &+ Stktop.panicFlag).pointee != 0,
           argp == oldtop &- UInt(stackWord(oldtop &+ Stktop.argsize).pointee & 0xFFFF_FFFF) &- UInt(g.pointee.panicwrap) {
            panicking = true
        }
        stackWord(top &+ Stktop.panicFlag).pointee = panicking ? 1 : 0
        stackWord(top &+ Stktop.argsize).pointee = UInt(bitPattern: argsize) | UInt(g.pointee.panicwrap) &<< 32
        g.pointee.panicwrap = 0

        // Switch the goroutine to the new segment.
        hi = top                                              // gp->stackbase = top
        lo = stk
        stackguard0 = stk &+ UInt(bitPattern: StackLayout.stackGuard)
        allocSize = segsize

        // Copy the arguments (and result slots) below the Stktop.
        var nsp = top
        if argsize > 0 {
            nsp &-= UInt(bitPattern: argsize)
            var i: UInt = 0
            while i < UInt(bitPattern: argsize) {
                stackWord(nsp &+ i).pointee = stackWord(argp &+ i).pointee
                i &+= 8
            }
        }

        // Continue as if lessstack had just called f: the label gostartcall
        // and gogo resume from (the model's CALL pushes PC = lessstack as
        // f's return address).
        t.pointee.m.label = Gobuf()                           // runtime·memclr(&label, sizeof label)
        t.pointee.m.label.sp = nsp
        t.pointee.m.label.pc = lessstackPC
        t.pointee.m.label.g = t.pointee.m.curg
        t.pointee.m.label.ctxt = g.pointee.sched.ctxt          // gostartcall
        g.pointee.sched.ctxt = 0
        status = oldstatus
        gogoLabel(t)

        stats.segmentsAllocated &+= 1
        if totalSize > stats.maxSize { stats.maxSize = totalSize }
        if mustGrow(f) { goFatal("runtime: stack still too small after newstack") }
    }

    /// The scheduler's part (execute: m->curg = gp, g in TLS): the model
    /// has no scheduler and several goroutines may take turns on a thread,
    /// so the split paths record which one runs when they start.
    @inline(__always)
    func onThread(_ t: UnsafeMutablePointer<StackThread>) {
        t.pointee.m.curg = UInt(bitPattern: g)
        t.pointee.m.g = UInt(bitPattern: g)
    }

    /// `gogo(&label)`: load the M's label into the goroutine's registers
    /// (g in TLS, SP, the return and context registers, PC; BP is the
    /// model's and stays) and clear the label's SP, ret and ctxt "to help
    /// the garbage collector", as Go 1.2's gogo does.
    @inline(__always)
    func gogoLabel(_ t: UnsafeMutablePointer<StackThread>) {
        let gp = t.pointee.m.label.g
        if gp == 0 { goFatal("gogo: nil g") }                  // MOVQ 0(DX), CX: make sure g != nil
        t.pointee.m.g = gp
        g.pointee.sched.sp = t.pointee.m.label.sp
        g.pointee.sched.ret = t.pointee.m.label.ret
        g.pointee.sched.ctxt = t.pointee.m.label.ctxt
        t.pointee.m.label.sp = 0
        t.pointee.m.label.ret = 0
        t.pointee.m.label.ctxt = 0
        g.pointee.sched.pc = t.pointee.m.label.pc
    }

    /// `gogo(&gp->sched)`: resume from the goroutine's own saved registers.
    /// `g.sched` is where the model's registers are loaded from, so its SP
    /// stays; ret and ctxt are cleared as Go 1.2's gogo clears them.
    @inline(__always)
    func gogoSched(_ t: UnsafeMutablePointer<StackThread>) {
        let gp = g.pointee.sched.g
        if gp == 0 { goFatal("gogo: nil g") }
        t.pointee.m.g = gp
        g.pointee.sched.ret = 0
        g.pointee.sched.ctxt = 0
    }

    /// `lessstack` + `oldstack` of Go 1.2: the first frame of a segment
    /// returned (its return address was lessstack; the registers in
    /// `g.sched` hold SP just above it). Copy the results back, restore the
    /// old segment and the caller's context from the Stktop, free the
    /// segment.
    @usableFromInline @inline(never)
    func lessstack() {
        // lessstack (asm_amd64.s): save AX in m->cret, call oldstack on g0.
        let t = StackAllocator.currentThread(key: g.pointee.threadKey)
        onThread(t)
        t.pointee.m.cret = g.pointee.sched.ret
        t.pointee.m.g = t.pointee.m.g0

        // oldstack (stack.c).
        let gid = t.pointee.m.curg
        let top = hi
        let old = stackguard0 &- UInt(bitPattern: StackLayout.stackGuard)
        let argsize = UInt(truncatingIfNeeded: UInt32(truncatingIfNeeded: stackWord(top &+ Stktop.argsize).pointee))
        var sp = top
        if g.pointee.sched.sp != top &- argsize { goFatal("lessstack: frame did not end at the segment's top") }
        let oldstatus = status
        // gp->sched = top->gobuf; gp->sched.ret = m->cret.
        g.pointee.sched.sp = stackWord(top &+ Stktop.gobufSP).pointee
        g.pointee.sched.pc = stackWord(top &+ Stktop.gobufPC).pointee
        g.pointee.sched.g = stackWord(top &+ Stktop.gobufG).pointee
        g.pointee.sched.ctxt = stackWord(top &+ Stktop.gobufCtxt).pointee
        g.pointee.sched.lr = stackWord(top &+ Stktop.gobufLR).pointee
        g.pointee.sched.ret = t.pointee.m.cret
        t.pointee.m.cret = 0
        status = GStatus.waiting

        // Copy the arguments and results back to the caller's frame.
        if argsize > 0 {
            sp &-= argsize
            let dst = stackWord(top &+ Stktop.argp).pointee
            var i: UInt = 0
            while i < argsize {
                stackWord(dst &+ i).pointee = stackWord(sp &+ i).pointee
                i &+= 8
            }
        }
        if g.pointee.sched.g != gid { goFatal("oldstack: Stktop of another goroutine") }

        // Back to the old segment.
        hi = stackWord(top &+ Stktop.stackbase).pointee
        stackguard0 = stackWord(top &+ Stktop.stackguard).pointee
        lo = stackguard0 &- UInt(bitPattern: StackLayout.stackGuard)
        g.pointee.panicwrap = UInt32(truncatingIfNeeded: stackWord(top &+ Stktop.argsize).pointee &>> 32)
        let free = Int(bitPattern: stackWord(top &+ Stktop.free).pointee)
        allocSize = Int(bitPattern: stackWord(top &+ Stktop.prevAllocSize).pointee)
        if free != 0 {
            totalSize &-= free
            StackAllocator.stackfree(old, free, thread: t)
        }
        status = oldstatus
        gogoSched(t)
        stats.segmentsFreed &+= 1
    }

    /// The Stktop of the current segment, or nil on the first stack.
    @inline(__always)
    func stktop(hi h: UInt, lo l: UInt, allocSize a: Int) -> UInt? {
        h == l &+ UInt(bitPattern: a) ? nil : h
    }

    /// Frees every segment above the first (when the goroutine dies).
    func releaseSegments() {
        while let top = stktop(hi: hi, lo: lo, allocSize: allocSize) {
            let seg = lo, segsize = allocSize
            hi = stackWord(top &+ Stktop.stackbase).pointee
            lo = stackWord(top &+ Stktop.stackguard).pointee - UInt(StackLayout.stackGuard)
            allocSize = Int(stackWord(top &+ Stktop.prevAllocSize).pointee)
            StackAllocator.stackfree(seg, segsize)
        }
    }

    /// Visits the Stktop of every segment above the first, innermost first:
    /// (top, the older segment's lo, its hi, its allocation size).
    func forEachStktop(_ body: (_ top: UInt, _ lo: UInt, _ hi: UInt, _ allocSize: Int) -> Void) {
        var h = hi, l = lo, a = allocSize
        while let top = stktop(hi: h, lo: l, allocSize: a) {
            h = stackWord(top &+ Stktop.stackbase).pointee
            l = stackWord(top &+ Stktop.stackguard).pointee - UInt(StackLayout.stackGuard)
            a = Int(stackWord(top &+ Stktop.prevAllocSize).pointee)
            body(top, l, h, a)
        }
    }

    /// Segmented: bytes in use in the segments below the current one (each
    /// from its top down to the caller SP the next Stktop saved).
    var outerUsed: Int {
        var n = 0
        forEachStktop { top, _, h, _ in n += Int(h - stackWord(top &+ Stktop.gobufSP).pointee) }
        return n
    }

    /// The Stktop of every segment above the first, innermost first, as
    /// newstack wrote them (for tests and tools).
    public var stktops: [StktopRecord] {
        var out: [StktopRecord] = []
        forEachStktop { top, _, _, _ in
            let w = stackWord(top &+ Stktop.argsize).pointee
            out.append(StktopRecord(
                top: top,
                stackguard: stackWord(top &+ Stktop.stackguard).pointee,
                stackbase: stackWord(top &+ Stktop.stackbase).pointee,
                callerSP: stackWord(top &+ Stktop.gobufSP).pointee,
                callerPC: stackWord(top &+ Stktop.gobufPC).pointee,
                goroutine: stackWord(top &+ Stktop.gobufG).pointee,
                argp: stackWord(top &+ Stktop.argp).pointee,
                argsize: Int(w & 0xFFFF_FFFF),
                panicwrap: UInt32(truncatingIfNeeded: w >> 32),
                free: Int(stackWord(top &+ Stktop.free).pointee),
                panic: stackWord(top &+ Stktop.panicFlag).pointee != 0))
        }
        return out
    }

    /// The goroutine's identity as a Stktop's gobuf records it.
    public var goroutineID: UInt { UInt(bitPattern: g) }

    /// Number of segments (1 for a contiguous stack).
    public var segments: Int {
        var n = 1
        forEachStktop { _, _, _, _ in n += 1 }
        return n
    }
}

/// A segment's Stktop (Go 1.2's `struct Stktop`): what oldstack restores
/// when the segment's first frame returns.
public struct StktopRecord: Sendable, Equatable {
    /// Address of the record (the segment's `stackbase`).
    public var top: UInt
    /// The older segment's guard and top.
    public var stackguard: UInt
    public var stackbase: UInt
    /// The saved gobuf: where the caller resumes (its SP and PC) and the
    /// goroutine.
    public var callerSP: UInt
    public var callerPC: UInt
    public var goroutine: UInt
    /// The arguments in the caller's frame, and their size in bytes.
    public var argp: UInt
    public var argsize: Int
    public var panicwrap: UInt32
    /// The segment's size (freed by oldstack).
    public var free: Int
    public var panic: Bool
}
