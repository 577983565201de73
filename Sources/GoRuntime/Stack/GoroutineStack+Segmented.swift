// Segmented stacks as Go used them up to 1.2 (runtime/stack.c of Go 1.2:
// runtime·newstack, runtime·oldstack, runtime·lessstack), for comparison with
// the contiguous stacks Go 1.4 replaced them with.
//
// When the prologue check fails, a new segment is allocated: big enough for
// the frame plus `segmentExtra` (Go 1.2's StackExtra) and the segment's
// `Stktop`, at least `segmentMin` (Go 1.2's StackMin, 8 KiB), rounded up to a
// power of two (Go 1.2 took StackMin-sized segments from a per-M cache and
// bigger ones from malloc; here all come from the same pools and per-thread
// cache as contiguous stacks). What is not modelled: Go 1.2 ran newstack and
// oldstack on the scheduler stack (two stack switches per split and per
// return) and copied the callee's arguments into the segment and its results
// back; frames here carry no arguments. The Stktop at the top of
// the segment records the old segment's bounds and guard, the caller's SP and
// PC, the segment's size and the bytes in use below. The called function then
// runs on the new segment with `lessstack` as its return address; when it
// returns there, the Stktop is read back, the segment freed and the caller
// resumes on the old segment. Nothing ever moves, so no pointer is adjusted;
// the price is that a call loop straddling a segment boundary allocates and
// frees a segment on every iteration.
//
// Stktop layout (eight words, at `hi` of its segment):
//   0 prevLo   1 prevHi   2 prevGuard   3 callerSP
//   4 callerPC 5 prevOuterUsed 6 prevAllocSize 7 (unused)

/// Word offsets in a Stktop. `callerSP` (24) is also read by the inlinable
/// `GoroutineStack.callerLocalAddress`.
enum Stktop {
    static let prevLo: UInt = 0
    static let prevHi: UInt = 8
    static let prevGuard: UInt = 16
    static let callerSP: UInt = 24
    static let callerPC: UInt = 32
    static let prevOuterUsed: UInt = 40
    static let prevAllocSize: UInt = 48
}

extension GoroutineStack {
    /// Go 1.2 `newstack` (segmented): link a new segment for `f`.
    func newsegment(_ f: StackFunc) {
        // Go 1.2: framesize + argsize + StackExtra, at least StackMin.
        var segsize = f.frameSize + StackLayout.segmentExtra + StackLayout.stktopSize
        if segsize < StackLayout.segmentMin { segsize = StackLayout.segmentMin }
        segsize = 1 << (Int.bitWidth - (segsize - 1).leadingZeroBitCount)   // round up to a power of 2
        if totalSize + segsize > maxStackSize { stackOverflow(newsize: totalSize + segsize) }

        let seg = StackAllocator.stackalloc(segsize)
        let top = seg + UInt(segsize - StackLayout.stktopSize)
        stackWord(top + Stktop.prevLo).pointee = lo
        stackWord(top + Stktop.prevHi).pointee = hi
        stackWord(top + Stktop.prevGuard).pointee = stackguard0
        stackWord(top + Stktop.callerSP).pointee = sp
        stackWord(top + Stktop.callerPC).pointee = pc
        stackWord(top + Stktop.prevOuterUsed).pointee = UInt(outerUsed)
        stackWord(top + Stktop.prevAllocSize).pointee = UInt(allocSize)

        outerUsed += Int(hi - sp)
        lo = seg
        hi = top
        stackguard0 = seg + UInt(StackLayout.stackGuard)
        sp = top
        allocSize = segsize
        totalSize += segsize
        // The callee's return address will be lessstack; the real one is in
        // the Stktop.
        pc = lessstackPC
        stats.segmentsAllocated += 1
        if totalSize > stats.maxSize { stats.maxSize = totalSize }
    }

    /// `lessstack` / `oldstack`: the first frame of a segment returned.
    /// Restore the old segment and the caller, free this segment.
    @usableFromInline @inline(never)
    func lessstack() {
        if sp != hi { goFatal("lessstack: frame did not end at the segment's top") }
        let top = hi
        let seg = lo, segsize = allocSize
        lo = stackWord(top + Stktop.prevLo).pointee
        hi = stackWord(top + Stktop.prevHi).pointee
        stackguard0 = stackWord(top + Stktop.prevGuard).pointee
        sp = stackWord(top + Stktop.callerSP).pointee
        pc = stackWord(top + Stktop.callerPC).pointee
        outerUsed = Int(stackWord(top + Stktop.prevOuterUsed).pointee)
        allocSize = Int(stackWord(top + Stktop.prevAllocSize).pointee)
        totalSize -= segsize
        StackAllocator.stackfree(seg, segsize)
        stats.segmentsFreed += 1
    }

    /// Frees every segment above the first (when the goroutine dies).
    func releaseSegments() {
        while hi != lo + UInt(allocSize) {
            let top = hi
            let seg = lo, segsize = allocSize
            lo = stackWord(top + Stktop.prevLo).pointee
            hi = stackWord(top + Stktop.prevHi).pointee
            allocSize = Int(stackWord(top + Stktop.prevAllocSize).pointee)
            StackAllocator.stackfree(seg, segsize)
        }
    }

    /// Number of segments (1 for a contiguous stack).
    public var segments: Int {
        var n = 1
        var h = hi, l = lo, a = allocSize
        while h != l + UInt(a) {
            let top = h
            l = stackWord(top + Stktop.prevLo).pointee
            h = stackWord(top + Stktop.prevHi).pointee
            a = Int(stackWord(top + Stktop.prevAllocSize).pointee)
            n += 1
        }
        return n
    }
}
