// Explicit free: the replacement for Go's sweep (runtime/mgcsweep.go
// mspan.sweep), which is where Go returns dead objects to their spans and
// empty spans to the heap.
//
// Design. `free(p)` finds p's span through the heap's page table (Go's
// spanOf), its slot by the division magic (objIndex), and then:
//   - large object: the span goes straight back to mheap (Go frees large
//     spans in sweep the same way);
//   - tiny span class: a tiny block member drops the block's counter, the
//     block itself is freed with its last member (Allocator+Tiny.swift);
//   - the span is held by the calling thread's mcache: set the slot's bit in
//     span.freedBits, no lock, no atomic RMW (the fast path);
//   - otherwise: mcentral.freeRemote under the mcentral lock, which either
//     records the slot in remoteFreedBits (another thread holds the span) or
//     clears its alloc bit, moving the span from full to partial or back to
//     the heap when it empties.
// Freed slots are reused after the span's next sweep (MSpan.sweep), as
// Go reuses a dead object's slot only after sweeping its span.
//
// Misuse caught (fatal error, like Go's throw): pointers not from this
// allocator, interior pointers, and double frees on the owner path and the
// uncached path; a double free racing with another thread's free of the
// same object is caught at the next sweep, when the counts disagree.

extension Allocator {
    /// Free an object returned by `allocate`. Any thread may free any
    /// object; each object must be freed once.
    public func free(_ pointer: UnsafeMutableRawPointer) {
        let addr = UInt(bitPattern: pointer)
        // mheap.go spanOf, from the copies of the heap's geometry (see
        // MHeap.swift for why the table read needs no lock).
        let off = addr &- heapBase
        if off >= heapBytes { heap.badPointer(addr) }
        guard let s = spanTable[Int(bitPattern: off &>> UInt(pageShift))] else { heap.badPointer(addr) }
        let spc = Int(s.spanclass)
        if spc &>> 1 == 0 {
            freeLarge(s, addr)
            return
        }
        let i = s.objIndex(addr)
        if spc == tinySpanClass {
            freeInTinyClass(s, i, addr)
            return
        }
        if s.startAddr &+ UInt(bitPattern: i &* s.elemsize) != addr {
            badFree(addr, "free of interior pointer")
        }
        freeObject(s, i)
    }

    /// Free slot `i` of small-object span `s`.
    @inline(__always)
    func freeObject(_ s: UnsafeMutablePointer<MSpan>, _ i: Int) {
        let c = currentCache()
        if s.isCached(by: c) {
            // Owner path: the span's alloc state is this thread's.
            let w = i &>> 6
            let bit: UInt64 = 1 &<< UInt64(i & 63)
            if s.freedBits[w] & bit != 0 || !s.isAllocatedByOwner(i) {
                badFree(s.startAddr + UInt(i * s.elemsize), "double free or free of unallocated object")
            }
            s.freedBits[w] |= bit
            s.allocCount &-= 1
            return
        }
        central[Int(s.spanclass)].freeRemote(s, i)
    }

    @inline(never)
    func freeLarge(_ s: UnsafeMutablePointer<MSpan>, _ addr: UInt) {
        if addr != s.startAddr { badFree(addr, "free of interior pointer") }
        heap.freeSpan(s)
    }

    @inline(never)
    func badFree(_ addr: UInt, _ what: String) -> Never {
        goFatal("\(what) 0x\(String(addr, radix: 16))")
    }
}
