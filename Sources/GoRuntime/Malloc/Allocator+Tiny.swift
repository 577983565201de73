// The tiny allocator: noscan objects under 16 bytes packed into 16-byte
// blocks. Mirrors the tiny path of runtime/malloc.go mallocgc.
//
// Design (Go's): the mcache keeps one current block (`tiny`) and the bytes
// used in it (`tinyoffset`). A request is aligned by its size (8 if the size
// is a multiple of 8, else 4, else 2) and packed behind the previous one if
// it fits; otherwise a fresh 16-byte object of the noscan 16-byte class
// (tinySpanClass) is allocated, and it becomes the current block only if it
// leaves more room than the old one.
//
// Freeing. Go frees a tiny block when the collector finds all its members
// dead. Here each block counts its members in a one-byte counter per slot
// of its span (`MSpan.tinyRefs`), built so that neither packing nor a free
// on the owning thread needs a locked instruction:
//   - a block that becomes current gets counter `tinyFlag`; the owner
//     counts members in mcache.tinyHanded;
//   - each member's free subtracts 1; while the block is current the
//     counter stays below tinyFlag, so no free can see tinyFlag;
//   - when the block stops being current (replaced, or releaseAll) the owner
//     adds tinyHanded: the counter is then tinyFlag + members - frees, and
//     whichever of that add or a later free brings it to exactly tinyFlag
//     is the last reference; it zeroes the counter and frees the block as
//     an ordinary 16-byte object.
// Who may change a counter follows the span's alloc state (MSpan.swift):
// the thread whose mcache holds the span changes it with a relaxed load and
// store (no other thread writes it meanwhile); other threads take the
// mcentral lock and either record their change in remoteTinyDeltas (span
// held elsewhere; folded in by uncacheSpan) or apply it (span held by no
// one). All counter accesses are atomic, so a non-owner may read a counter
// to tell a tiny block (never 0 while it has members) from an ordinary
// object.
// A counter of 0 marks an ordinary 16-byte noscan object, so `free` can tell
// the two apart from the counter alone. At most 16 members per block keep
// the counter within tinyFlag +- 16.

import Synchronization

/// Counter value of a live tiny block with no outstanding adjustments.
@usableFromInline let tinyFlag: UInt8 = 64

extension Allocator {
    /// The packing fast path.
    @inline(__always)
    func tinyAlloc(_ c: UnsafeMutablePointer<MCache>, _ size: Int) -> UnsafeMutableRawPointer {
        var off = c.tinyoffset
        if size & 7 == 0 {
            off = (off &+ 7) & ~7
        } else if size & 3 == 0 {
            off = (off &+ 3) & ~3
        } else if size & 1 == 0 {
            off = (off &+ 1) & ~1
        }
        if off &+ size <= maxTinySize && c.tiny != 0 {
            let x = c.tiny &+ UInt(bitPattern: off)
            c.bytesRequested &+= size
            c.bytesHandedOut &+= off &+ size &- c.tinyoffset
            c.tinyoffset = off &+ size
            c.tinyHanded &+= 1
            return UnsafeMutableRawPointer(bitPattern: x).unsafelyUnwrapped
        }
        return tinyAllocSlow(c, size)
    }

    /// A new 16-byte block for a tiny request.
    @inline(never)
    func tinyAllocSlow(_ c: UnsafeMutablePointer<MCache>, _ size: Int) -> UnsafeMutableRawPointer {
        var v = c.alloc[tinySpanClass].nextFreeFast()
        if v == 0 {
            v = nextFree(c, tinySpanClass)
            c.bytesHandedOut -= maxTinySize  // counted below instead
        }
        let s = c.alloc[tinySpanClass]  // the span v came from
        let i = s.objIndex(v)
        c.tinyBlocks += 1
        c.bytesRequested += size
        if size < c.tinyoffset || c.tiny == 0 {
            // The new block has more room left: it becomes current.
            retireTinyBlock(c)
            s.tinyRef(i).pointee.store(tinyFlag, ordering: .releasing)
            c.tiny = v
            c.tinyoffset = size
            c.tinyHanded = 1
            c.tinySpan = s
            c.tinyIndex = i
            c.bytesHandedOut += size
        } else {
            // Keep the old block; this one is born retired with one member.
            s.tinyRef(i).pointee.store(tinyFlag &+ 1, ordering: .releasing)
            c.bytesHandedOut += maxTinySize
        }
        return UnsafeMutableRawPointer(bitPattern: v).unsafelyUnwrapped
    }

    /// The current block stops being current: hand its member count to the
    /// counter, and free the block if every member is already gone.
    func retireTinyBlock(_ c: UnsafeMutablePointer<MCache>) {
        guard c.tiny != 0, let s = c.tinySpan else { return }
        let i = c.tinyIndex
        c.bytesHandedOut += maxTinySize - c.tinyoffset
        let handed = c.tinyHanded
        c.tiny = 0
        c.tinyoffset = 0
        c.tinyHanded = 0
        c.tinySpan = nil
        if s.isCached(by: c) {
            tinyAdjustOwned(s, i, delta: UInt8(handed))
        } else {
            central[tinySpanClass].tinyAdjustRemote(s, i, delta: handed, regularAddr: nil)
        }
    }

    /// Owner path: change counter `i` of a span this thread's mcache holds.
    /// Only this thread writes the counters of such a span (others record
    /// remoteTinyDeltas under the mcentral lock), so a relaxed load and
    /// store make an exact read-modify-write without a locked instruction.
    @inline(__always)
    func tinyAdjustOwned(_ s: UnsafeMutablePointer<MSpan>, _ i: Int, delta: UInt8) {
        let ref = s.tinyRef(i)
        let nv = ref.pointee.load(ordering: .relaxed) &+ delta
        if nv == tinyFlag {
            ref.pointee.store(0, ordering: .relaxed)
            freeObject(s, i)
        } else {
            if nv < tinyFlag &- UInt8(maxTinySize) || nv > tinyFlag &+ UInt8(maxTinySize) {
                goFatal("tiny block freed more times than it has members")
            }
            ref.pointee.store(nv, ordering: .relaxed)
        }
    }

    /// `free` of an address in a span of the tiny span class: a member of
    /// a tiny block, or an ordinary 16-byte noscan object (counter 0).
    @inline(__always)
    func freeInTinyClass(_ s: UnsafeMutablePointer<MSpan>, _ i: Int, _ addr: UInt) {
        let c = currentCache()
        if s.isCached(by: c) {
            if s.tinyRef(i).pointee.load(ordering: .relaxed) == 0 {
                if s.startAddr &+ UInt(bitPattern: i &* maxTinySize) != addr {
                    badFree(addr, "free of interior pointer")
                }
                freeObject(s, i)
            } else {
                tinyAdjustOwned(s, i, delta: 0 &- 1)
            }
            return
        }
        central[tinySpanClass].tinyAdjustRemote(s, i, delta: -1, regularAddr: addr)
    }
}
