// Walking the frames of a goroutine stack (the part of Go's gentraceback
// that copystack and the GC need: from (pc, sp), each frame's size gives its
// varp and return address, the return address names the caller), and the
// invariant checks tests run after every mutation.

/// A position in the frame walk: a function and its SP.
struct FrameCursor {
    var pc: UInt
    var sp: UInt

    /// The frame's varp: where its saved BP sits, above its locals.
    @inline(__always)
    func varp(_ funcs: UnsafeMutablePointer<FuncRecord>) -> UInt {
        sp &+ UInt(funcs[Int(pc)].localWords &* 8)
    }
}

/// One frame of a goroutine stack, innermost first.
public struct StackFrame: Sendable, Equatable {
    /// The function's PC (`StackFunc.pc`).
    public var pc: UInt
    /// Low end of the frame (its local word 0).
    public var sp: UInt
    /// Where the saved BP sits (the frame's BP value).
    public var varp: UInt
    /// The saved BP: the caller's varp (0 for the outermost frame).
    public var savedBP: UInt
    /// Local words.
    public var localWords: Int

    /// Address of local word `i`.
    public func localAddress(_ i: Int) -> UInt { sp + UInt(i * 8) }
}

extension GoroutineStack {
    /// The caller's frame position: follow the return address, through the
    /// Stktop (above the frame's copied arguments) when it is `lessstack`.
    @inline(__always)
    func next(_ f: FrameCursor) -> FrameCursor {
        let varp = f.varp(funcs)
        let ret = stackWord(varp &+ 8).pointee
        if ret == lessstackPC {
            let top = varp &+ 16 &+ UInt(funcs[Int(f.pc)].argWords &* 8)
            return FrameCursor(pc: stackWord(top + Stktop.gobufPC).pointee,
                               sp: stackWord(top + Stktop.gobufSP).pointee)
        }
        return FrameCursor(pc: ret, sp: varp &+ 16)
    }

    /// The frames on the stack, innermost first.
    public func walkFrames() -> [StackFrame] { walk().frames }

    /// The frames, and the SP the walk ends at (above the outermost frame's
    /// return address, or the caller SP in a Stktop when a segment was split
    /// off before the first call).
    func walk() -> (frames: [StackFrame], endSP: UInt) {
        var out: [StackFrame] = []
        var f = FrameCursor(pc: pc, sp: sp)
        while f.pc != goexitPC {
            if out.count > frames { goFatal("frame walk: more frames than calls") }
            let varp = f.varp(funcs)
            out.append(StackFrame(pc: f.pc, sp: f.sp, varp: varp, savedBP: stackWord(varp).pointee,
                                  localWords: funcs[Int(f.pc)].localWords))
            f = next(f)
        }
        return (out, f.sp)
    }

    /// Reads any word in the live part of the stack, given a frame from
    /// `walkFrames()` (for verifying outer frames).
    public func peek(_ address: UInt) -> UInt64 {
        if !isLive(address) { goFatal("invalid stack pointer") }
        return UInt64(stackWord(address).pointee)
    }

    /// Whether `address` is an aligned word in a live part of the stack:
    /// [sp, hi) of the current segment or, below a Stktop, [callerSP, prevHi)
    /// of an older one.
    func isLive(_ address: UInt) -> Bool {
        if address & 7 != 0 { return false }
        if address >= sp && address < hi { return true }
        var live = false
        forEachStktop { top, _, h, _ in
            if address >= stackWord(top + Stktop.gobufSP).pointee && address < h { live = true }
        }
        return live
    }

    @usableFromInline @inline(never)
    func checkLiveSlow(_ address: UInt) {
        if !isLive(address) { goFatal("invalid stack pointer") }
    }

    /// Checks the invariants listed in GoroutineStack.swift; a violation
    /// is fatal. O(frames).
    public func checkInvariants() {
        func fail(_ m: String) -> Never { goFatal("stack invariant: \(m)") }
        if !(lo <= sp && sp <= hi) { fail("sp outside the stack") }
        if stackguard0 != lo + UInt(StackLayout.stackGuard) { fail("stackguard0 != lo + stackGuard") }
        if sp + UInt(StackLayout.stackSmall) < stackguard0 { fail("sp too far below the guard") }
        if allocSize & (allocSize - 1) != 0 || allocSize < StackLayout.fixedStack { fail("size not a power of 2") }
        if status != GStatus.running { fail("goroutine not running (status \(status))") }
        if mode == .contiguous {
            if hi - lo != UInt(allocSize) || totalSize != allocSize { fail("contiguous size mismatch") }
            if outerUsed != 0 { fail("contiguous stack with outer segments") }
        }
        if totalSize > maxStackSize { fail("size beyond the maximum") }

        // Frames: count, BP chain, pointer slots.
        let (fs, endSP) = walk()
        if fs.count != frames { fail("walk found \(fs.count) frames, expected \(frames)") }
        if bp != (fs.first?.varp ?? 0) { fail("BP register is not the innermost varp") }
        for (i, fr) in fs.enumerated() {
            let callerVarp = i + 1 < fs.count ? fs[i + 1].varp : 0
            if fr.savedBP != callerVarp { fail("saved BP of frame \(i) does not reach its caller") }
            if !isLive(fr.sp) && fr.localWords > 0 { fail("frame \(i) not in the live stack") }
            let rec = funcs[Int(fr.pc)]
            for w in 0..<rec.localWords where rec.bitmap[w / 8] & (1 << UInt8(w % 8)) != 0 {
                let v = stackWord(fr.sp + UInt(w * 8)).pointee
                if v != 0 && !isLive(v) { fail("pointer slot \(w) of frame \(i) points outside the live stack") }
            }
        }
        // The walk ends at the top of the first stack (segment). Every
        // Stktop names this goroutine, and its segment is `free` bytes.
        var base = hi
        var segLo = lo, segSize = allocSize
        forEachStktop { top, l, h, a in
            if stackWord(top + Stktop.gobufG).pointee != UInt(bitPattern: g) { fail("Stktop of another goroutine") }
            if stackWord(top + Stktop.free).pointee != UInt(segSize) || top + UInt(StackLayout.stktopSize) != segLo + UInt(segSize) {
                fail("Stktop does not match its segment")
            }
            if stackWord(top + Stktop.argsize).pointee & 0xFFFF_FFFF > UInt(h - stackWord(top + Stktop.gobufSP).pointee) {
                fail("Stktop argument area outside the caller's frame")
            }
            base = h
            segLo = l; segSize = a
        }
        if endSP != base {
            fail("frame walk ends at 0x\(String(endSP, radix: 16)), the stack's top is 0x\(String(base, radix: 16)) (\(mode), \(fs.count) frames)")
        }

        // Defer chain: innermost to outermost, each in its frame.
        var d = deferHead
        var lastSP: UInt = 0
        var seen = 0
        while d != 0 {
            seen += 1
            if seen > frames * 64 + 1 { fail("defer chain loops") }
            if !isLive(d) { fail("defer record outside the live stack") }
            let dsp = stackWord(d + DeferRecord.sp).pointee
            let dvarp = stackWord(d + DeferRecord.varp).pointee
            guard let owner = fs.first(where: { $0.sp == dsp }) else { fail("defer record names no frame") }
            if owner.varp != dvarp { fail("defer record varp mismatch") }
            if d < owner.sp || d + UInt(DeferRecord.words * 8) > owner.varp { fail("defer record outside its frame") }
            if lastSP != 0 && mode == .contiguous && dsp < lastSP { fail("defer chain out of order") }
            lastSP = dsp
            d = stackWord(d + DeferRecord.link).pointee
        }
    }
}
