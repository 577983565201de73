// Growing and shrinking a contiguous stack: Go 1.19 runtime/stack.go
// newstack, copystack, adjustpointer(s), adjustframe, adjustctxt,
// adjustdefers, shrinkstack.
//
// copystack reads as Go's does, in stages: allocate the new stack, compute
// the displacement (new.hi - old.hi: the used part keeps its distance from
// the top), copy the used part, adjust what lives outside the frames (the BP
// register, the defer chain), switch to the new stack, walk the frames on the
// new stack adjusting each frame's pointer slots and saved BP, free the old
// stack. Adjusting a word means: if it points into [old.lo, old.hi), add the
// displacement. The ranges of the old and new stacks never overlap, so a word
// reached twice (a defer record's link is both in a frame and on the chain)
// is moved only once.

#if canImport(Glibc)
import Glibc
#endif

/// Go's `adjustinfo`: the old stack and the displacement to the new one.
struct AdjustInfo {
    let oldLo: UInt
    let oldHi: UInt
    let delta: UInt      // new.hi - old.hi, modulo 2^64
    var adjusted = 0
}

extension GoroutineStack {
    /// `morestack`: the prologue's check failed for `f`. Grow the stack
    /// (contiguous) or link a segment (segmented) so that `f`'s frame fits.
    @usableFromInline @inline(never)
    func morestack(_ f: StackFunc) {
        switch mode {
        case .contiguous: newstack(f)
        case .segmented: newsegment(f)
        }
    }

    /// `newstack`: double the stack (more if `f`'s frame plus the guard
    /// still would not fit), or stop with "stack overflow".
    func newstack(_ f: StackFunc) {
        if sp < lo { goFatal("runtime: split stack overflow") }
        let oldsize = Int(hi - lo)
        var newsize = oldsize * 2
        // Make sure we grow at least as much as needed to fit the new frame
        // (Go: funcMaxSPDelta(f) + _StackGuard). The return address counts
        // as part of the frame here.
        let needed = f.frameSize + StackLayout.stackGuard
        let usedNow = Int(hi - sp)
        while newsize - usedNow < needed { newsize *= 2 }
        if newsize > maxStackSize { stackOverflow(newsize: newsize) }
        copystack(newsize: newsize)
        stats.grows += 1
        if mustGrow(f) { goFatal("runtime: stack still too small after newstack") }
    }

    /// Prints Go's message and throws "stack overflow".
    func stackOverflow(newsize: Int) -> Never {
        let line = "runtime: goroutine stack exceeds \(maxStackSize)-byte limit\n" +
            "runtime: sp=0x\(String(sp, radix: 16)) stack=[0x\(String(lo, radix: 16)), 0x\(String(hi, radix: 16))]\n"
        line.utf8CString.withUnsafeBufferPointer { buf in _ = write(2, buf.baseAddress, buf.count - 1) }
        goFatal("stack overflow")
    }

    /// `copystack`: moves the stack to a new one of `newsize` bytes.
    func copystack(newsize: Int) {
        let oldLo = lo, oldHi = hi, oldsize = allocSize
        let used = oldHi - sp

        // Allocate the new stack.
        let newLo = StackAllocator.stackalloc(newsize)
        let newHi = newLo + UInt(newsize)

        // Compute the adjustment.
        var adj = AdjustInfo(oldLo: oldLo, oldHi: oldHi, delta: newHi &- oldHi)

        // Copy the used part to the same distance from the top.
        if used > 0 {
            memmove(UnsafeMutableRawPointer(bitPattern: newHi - used)!,
                    UnsafeRawPointer(bitPattern: oldHi - used)!, Int(used))
        }

        // Adjust the structures outside the frames that point into the stack
        // (Go: adjustctxt for sched.bp, adjustdefers for the _defer chain).
        adjustpointer(&adj, &bp)
        adjustdefers(&adj)

        // Swap out the old stack for the new one.
        lo = newLo
        hi = newHi
        stackguard0 = newLo + UInt(StackLayout.stackGuard)
        sp = newHi - used
        allocSize = newsize
        totalSize = newsize

        // Adjust the pointers in the frames on the new stack
        // (gentraceback(..., adjustframe, ...)).
        var frame = FrameCursor(pc: pc, sp: sp)
        while frame.pc != goexitPC {
            adjustframe(&adj, frame)
            frame = next(frame)
            stats.framesAdjusted += 1
        }

        // Free the old stack.
        StackAllocator.stackfree(oldLo, oldsize)

        stats.copies += 1
        stats.bytesCopied += Int(used)
        stats.pointersAdjusted += adj.adjusted
        if newsize > stats.maxSize { stats.maxSize = newsize }
    }

    /// `adjustpointer`: if the word points into the old stack, move it.
    @inline(__always)
    func adjustpointer(_ adj: inout AdjustInfo, _ p: UnsafeMutablePointer<UInt>) {
        let v = p.pointee
        if adj.oldLo <= v && v < adj.oldHi {
            p.pointee = v &+ adj.delta
            adj.adjusted += 1
        }
    }

    /// `adjustpointers`: the words at `scanp` whose bits are set in the
    /// bitmap (`n` bits), walked a byte at a time with count-trailing-zeros
    /// as Go does.
    @inline(__always)
    func adjustpointers(_ adj: inout AdjustInfo, scanp: UInt, bitmap: UnsafeMutablePointer<UInt8>, n: Int) {
        let minp = adj.oldLo, maxp = adj.oldHi, delta = adj.delta
        var i = 0
        while i < n {
            var b = bitmap[i / 8]
            while b != 0 {
                let j = b.trailingZeroBitCount
                b &= b &- 1
                let pp = stackWord(scanp &+ UInt((i + j) * 8))
                let p = pp.pointee
                if minp <= p && p < maxp {
                    pp.pointee = p &+ delta
                    adj.adjusted += 1
                }
            }
            i += 8
        }
    }

    /// `adjustframe`: the frame's local pointer slots and its saved BP.
    @inline(__always)
    func adjustframe(_ adj: inout AdjustInfo, _ frame: FrameCursor) {
        let rec = funcs[Int(frame.pc)]
        if rec.localWords > 0 {
            adjustpointers(&adj, scanp: frame.sp, bitmap: rec.bitmap, n: rec.localWords)
        }
        // The saved base pointer sits at varp (argp - varp == 2 words).
        adjustpointer(&adj, stackWord(frame.varp(funcs)))
    }

    /// `adjustdefers`: the head of the chain, then each record's link, sp
    /// and varp (walking the chain on the new stack).
    func adjustdefers(_ adj: inout AdjustInfo) {
        adjustpointer(&adj, &deferHead)
        var d = deferHead
        while d != 0 {
            adjustpointer(&adj, stackWord(d + DeferRecord.sp))
            adjustpointer(&adj, stackWord(d + DeferRecord.varp))
            adjustpointer(&adj, stackWord(d + DeferRecord.link))
            d = stackWord(d + DeferRecord.link).pointee
        }
    }

    /// `shrinkstack` at a GC safe point: halve the stack if less than a
    /// quarter of it is in use (counting `stackLimit` bytes for NOSPLIT
    /// functions) and the half is not below `fixedStack`. Returns whether
    /// it shrank. Segmented stacks never shrink (segments go on return).
    @discardableResult
    public func shrink() -> Bool {
        if mode == .segmented { return false }
        let oldsize = Int(hi - lo)
        let newsize = oldsize / 2
        // Don't shrink below the minimum-sized stack allocation.
        if newsize < StackLayout.fixedStack { return false }
        // Only shrink if less than a quarter is in use.
        let avail = oldsize
        if Int(hi - sp) + StackLayout.stackLimit >= avail / 4 { return false }
        copystack(newsize: newsize)
        stats.shrinks += 1
        return true
    }
}
