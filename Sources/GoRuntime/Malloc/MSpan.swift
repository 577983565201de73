// mspan: a run of 8 KiB pages carved into objects of one size class.
// Mirrors runtime/mheap.go (type mspan) and the allocation-bit half of
// runtime/mbitmap.go (nextFreeIndex, refillAllocCache, objIndex) plus
// runtime/malloc.go's nextFreeFast.
//
// Design. Go finds a free slot in a span with two words: `freeindex`, the
// slot where the search resumes, and `allocCache`, the complement of the 64
// alloc bits starting at freeindex's 64-slot group, shifted so that bit 0
// is slot freeindex. Count-trailing-zeros on allocCache is the next free
// slot; nothing below freeindex is ever free (until the span is swept).
// Allocation never writes allocBits: a slot below freeindex is allocated
// either because its bit was set at the last sweep or because it was handed
// out since. Go's sweep then replaces allocBits by the GC's mark bits.
//
// Freeing replaces sweep. There is no collector, so objects are freed
// explicitly, and the span records frees in bitmaps beside allocBits:
//   - `freedBits`: frees by the thread whose mcache holds the span (the
//     owner); written only by that thread, no lock;
//   - `remoteFreedBits`: frees by any other thread while the span is held
//     by an mcache; written and read only under the span's mcentral lock.
// A freed slot is not reused until the span is swept, as in Go. `sweep()`
// (called under the mcentral lock when the owner hands the span back, see
// MCentral.uncacheSpan) recomputes allocBits as
//     (slots below freeindex | allocBits) minus freedBits minus remoteFreedBits
// and resets freeindex to 0. A span that no mcache holds has exact
// allocBits, and frees of its objects clear alloc bits directly under the
// mcentral lock (MCentral.freeRemote).
//
// Invariants:
//   - nelems * elemsize <= npages * pageSize; startAddr is page aligned.
//   - While cached: allocCount == (slots below freeindex or with alloc bit)
//     - (owner frees), and no slot at or above freeindex with a clear alloc
//     bit is live.
//   - While not cached: freeindex == 0, freedBits and remoteFreedBits are
//     zero, allocCount == popcount(allocBits), and the span sits on the
//     partial list (0 < allocCount < nelems) or the full list
//     (allocCount == nelems) of its mcentral.
//   - tinyRefs[i] == 0 unless slot i is a live tiny block (see
//     Allocator+Tiny.swift); all zero while the span is free.

import Synchronization

/// Bytes per page (Go's `_PageSize`).
@usableFromInline let pageSize = 1 << pageShift

/// Most objects a span can hold: 8-byte objects in one 8 KiB page. Large
/// spans hold one object; multi-page classes hold fewer.
@usableFromInline let maxObjsPerSpan = 1024

/// 64-bit words in each of a span's bitmaps.
@usableFromInline let spanBitmapWords = maxObjsPerSpan / 64

/// Span classes: size class << 1 | noscan (Go's spanClass); 68 size classes
/// times scan/noscan. The noscan bit has no effect on memory here (nothing
/// scans), but it keeps scan and noscan objects in different spans as Go
/// does, and the tiny allocator uses only noscan spans.
@usableFromInline let numSpanClasses = 68 << 1

/// Which mcentral list a span is on.
@usableFromInline enum SpanList: UInt8 {
    /// On no list: held by an mcache, a large object, or free.
    case none = 0
    /// Has free slots (partial swept list in Go).
    case partial = 1
    /// Every slot allocated (full swept list in Go).
    case full = 2
}

/// Lifecycle of a span (Go's mSpanState).
@usableFromInline enum SpanState: UInt8 {
    /// The slot is on the mheap's free list of span structures.
    case dead = 0
    /// Pages allocated to a size class or a large object.
    case inUse = 1
}

/// One span's metadata. Lives in memory from the mheap's span slot
/// allocator (Go's fixalloc), followed by its three bitmaps and its tiny
/// reference counts; never moves while in use.
@usableFromInline
struct MSpan {
    // MARK: mcentral list links; guarded by the mcentral lock.
    @usableFromInline var next: UnsafeMutablePointer<MSpan>?
    @usableFromInline var prev: UnsafeMutablePointer<MSpan>?
    @usableFromInline var list: SpanList

    // MARK: Geometry; set by mheap.allocSpan under the heap lock before the
    // span is published, immutable while in use (read without locks).
    @usableFromInline var state: SpanState
    @usableFromInline var spanclass: UInt8
    @usableFromInline var startAddr: UInt
    @usableFromInline var npages: Int
    @usableFromInline var elemsize: Int
    @usableFromInline var nelems: Int
    /// `UInt32.max / elemsize + 1` (Go's divMul).
    @usableFromInline var divMul: UInt32

    // MARK: Allocation state; owned by the caching mcache's thread while
    // cached, by the mcentral lock otherwise.
    @usableFromInline var freeindex: Int
    /// Complement of alloc bits from freeindex's group, shifted: 1 = free.
    @usableFromInline var allocCache: UInt64
    @usableFromInline var allocCount: Int
    @usableFromInline var allocBits: UnsafeMutablePointer<UInt64>
    @usableFromInline var freedBits: UnsafeMutablePointer<UInt64>

    // MARK: Frees by other threads while cached; guarded by the mcentral lock.
    @usableFromInline var remoteFreedBits: UnsafeMutablePointer<UInt64>
    @usableFromInline var remoteFreedCount: Int

    /// Per-slot tiny block counters, accessed only atomically; followed in
    /// memory by `remoteTinyDeltas` (see Allocator+Tiny.swift).
    @usableFromInline var tinyRefs: UnsafeMutablePointer<UInt8>

    /// Address of the MCache holding this span, or 0. Written only under the
    /// mcentral lock (cacheSpan/uncacheSpan); read atomically without the
    /// lock by free (see `isCached(by:)`).
    @usableFromInline var cachedBy: UInt

    /// Next free slot in the heap's span slot allocator.
    @usableFromInline var nextFreeSlot: UnsafeMutablePointer<MSpan>?
}

// Field-by-field access to a MSpan through its pointer. `pointer.f`
// would begin a Swift access to the whole struct, which ThreadSanitizer
// tracks as one variable; the fields of one MSpan are written by different
// threads under different rules (see the field comments), so each field is
// reached through its own pointer instead. Offsets fold to constants.
extension UnsafeMutablePointer where Pointee == MSpan {
    @inline(__always)
    func field<T>(_ key: KeyPath<MSpan, T>) -> UnsafeMutablePointer<T> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<MSpan>.offset(of: key)!).assumingMemoryBound(to: T.self)
    }
    @inline(__always) var next: UnsafeMutablePointer<MSpan>? {
        get { field(\MSpan.next).pointee }
        nonmutating set { field(\MSpan.next).pointee = newValue }
    }
    @inline(__always) var prev: UnsafeMutablePointer<MSpan>? {
        get { field(\MSpan.prev).pointee }
        nonmutating set { field(\MSpan.prev).pointee = newValue }
    }
    @inline(__always) var list: SpanList {
        get { field(\MSpan.list).pointee }
        nonmutating set { field(\MSpan.list).pointee = newValue }
    }
    @inline(__always) var state: SpanState {
        get { field(\MSpan.state).pointee }
        nonmutating set { field(\MSpan.state).pointee = newValue }
    }
    @inline(__always) var spanclass: UInt8 {
        get { field(\MSpan.spanclass).pointee }
        nonmutating set { field(\MSpan.spanclass).pointee = newValue }
    }
    @inline(__always) var startAddr: UInt {
        get { field(\MSpan.startAddr).pointee }
        nonmutating set { field(\MSpan.startAddr).pointee = newValue }
    }
    @inline(__always) var npages: Int {
        get { field(\MSpan.npages).pointee }
        nonmutating set { field(\MSpan.npages).pointee = newValue }
    }
    @inline(__always) var elemsize: Int {
        get { field(\MSpan.elemsize).pointee }
        nonmutating set { field(\MSpan.elemsize).pointee = newValue }
    }
    @inline(__always) var nelems: Int {
        get { field(\MSpan.nelems).pointee }
        nonmutating set { field(\MSpan.nelems).pointee = newValue }
    }
    @inline(__always) var divMul: UInt32 {
        get { field(\MSpan.divMul).pointee }
        nonmutating set { field(\MSpan.divMul).pointee = newValue }
    }
    @inline(__always) var freeindex: Int {
        get { field(\MSpan.freeindex).pointee }
        nonmutating set { field(\MSpan.freeindex).pointee = newValue }
    }
    @inline(__always) var allocCache: UInt64 {
        get { field(\MSpan.allocCache).pointee }
        nonmutating set { field(\MSpan.allocCache).pointee = newValue }
    }
    @inline(__always) var allocCount: Int {
        get { field(\MSpan.allocCount).pointee }
        nonmutating set { field(\MSpan.allocCount).pointee = newValue }
    }
    @inline(__always) var allocBits: UnsafeMutablePointer<UInt64> {
        get { field(\MSpan.allocBits).pointee }
        nonmutating set { field(\MSpan.allocBits).pointee = newValue }
    }
    @inline(__always) var freedBits: UnsafeMutablePointer<UInt64> {
        get { field(\MSpan.freedBits).pointee }
        nonmutating set { field(\MSpan.freedBits).pointee = newValue }
    }
    @inline(__always) var remoteFreedBits: UnsafeMutablePointer<UInt64> {
        get { field(\MSpan.remoteFreedBits).pointee }
        nonmutating set { field(\MSpan.remoteFreedBits).pointee = newValue }
    }
    @inline(__always) var remoteFreedCount: Int {
        get { field(\MSpan.remoteFreedCount).pointee }
        nonmutating set { field(\MSpan.remoteFreedCount).pointee = newValue }
    }
    @inline(__always) var tinyRefs: UnsafeMutablePointer<UInt8> {
        get { field(\MSpan.tinyRefs).pointee }
        nonmutating set { field(\MSpan.tinyRefs).pointee = newValue }
    }
    @inline(__always) var nextFreeSlot: UnsafeMutablePointer<MSpan>? {
        get { field(\MSpan.nextFreeSlot).pointee }
        nonmutating set { field(\MSpan.nextFreeSlot).pointee = newValue }
    }
}

extension UnsafeMutablePointer where Pointee == MSpan {
    /// The atomic view of `cachedBy`.
    @inline(__always)
    var cachedByAtomic: UnsafeMutablePointer<Atomic<UInt>> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<MSpan>.offset(of: \MSpan.cachedBy)!)
            .assumingMemoryBound(to: Atomic<UInt>.self)
    }

    /// True if `cache` holds this span. Lock-free and exact for the answer
    /// that matters: only the thread owning `cache` ever stores `cache`
    /// into cachedBy (cacheSpan) or replaces it (uncacheSpan), so when that
    /// thread reads its own address it reads its own latest store; any
    /// other thread reads a value that is at best a hint and rechecks it
    /// under the mcentral lock.
    @inline(__always)
    func isCached(by cache: UnsafeMutablePointer<MCache>) -> Bool {
        cachedByAtomic.pointee.load(ordering: .relaxed) == UInt(bitPattern: cache)
    }

    /// Per-slot changes to the tiny counters made by other threads while an
    /// mcache holds the span; guarded by the mcentral lock, folded into the
    /// counters by `MCentral.uncacheSpan`. Wrapping byte arithmetic.
    @inline(__always)
    var remoteTinyDeltas: UnsafeMutablePointer<UInt8> { self.tinyRefs + maxTinyBlocksPerSpan }

    /// The atomic view of tiny counter `i`.
    @inline(__always)
    func tinyRef(_ i: Int) -> UnsafeMutablePointer<Atomic<UInt8>> {
        UnsafeMutableRawPointer(self.tinyRefs + i).assumingMemoryBound(to: Atomic<UInt8>.self)
    }

    /// malloc.go `nextFreeFast`: the next free slot from allocCache, or 0
    /// when the cache is exhausted or a 64-slot boundary needs a refill.
    @inline(__always)
    func nextFreeFast() -> UInt {
        let theBit = self.allocCache.trailingZeroBitCount  // 64 if zero
        if theBit < 64 {
            let result = self.freeindex &+ theBit
            if result < self.nelems {
                let freeidx = result &+ 1
                if freeidx & 63 == 0 && freeidx != self.nelems { return 0 }
                self.allocCache >>= UInt64(theBit &+ 1)
                self.freeindex = freeidx
                self.allocCount &+= 1
                return UInt(bitPattern: result &* self.elemsize) &+ self.startAddr
            }
        }
        return 0
    }

    /// mbitmap.go `refillAllocCache`: load the complement of the 64 alloc
    /// bits of group `whichWord` into allocCache.
    @inline(__always)
    func refillAllocCache(_ whichWord: Int) {
        self.allocCache = ~self.allocBits[whichWord]
    }

    /// mbitmap.go `nextFreeIndex`: the next free slot at or after freeindex,
    /// advancing freeindex past it; nelems when the span is full.
    func nextFreeIndex() -> Int {
        var sfreeindex = self.freeindex
        let snelems = self.nelems
        if sfreeindex == snelems { return sfreeindex }

        var aCache = self.allocCache
        var bitIndex = aCache.trailingZeroBitCount
        while bitIndex == 64 {
            // Move to the start of the next 64-slot group.
            sfreeindex = (sfreeindex + 64) & ~63
            if sfreeindex >= snelems {
                self.freeindex = snelems
                return snelems
            }
            refillAllocCache(sfreeindex >> 6)
            aCache = self.allocCache
            bitIndex = aCache.trailingZeroBitCount
        }
        let result = sfreeindex + bitIndex
        if result >= snelems {
            self.freeindex = snelems
            return snelems
        }
        self.allocCache >>= UInt64(bitIndex + 1)
        sfreeindex = result + 1
        if sfreeindex & 63 == 0 && sfreeindex != snelems {
            refillAllocCache(sfreeindex >> 6)
        }
        self.freeindex = sfreeindex
        return result
    }

    /// mbitmap.go `objIndex`: slot of an address inside the span, by the
    /// 32-bit reciprocal instead of a division.
    @inline(__always)
    func objIndex(_ addr: UInt) -> Int {
        let off = UInt64(addr &- self.startAddr)
        return Int(truncatingIfNeeded: (off &* UInt64(self.divMul)) >> 32)
    }

    @inline(__always)
    func bitIsSet(_ bits: UnsafeMutablePointer<UInt64>, _ i: Int) -> Bool {
        bits[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    /// Whether slot `i` is allocated from the owner's point of view: below
    /// freeindex (handed out or allocated at the last sweep) or marked in
    /// allocBits. Owner only.
    @inline(__always)
    func isAllocatedByOwner(_ i: Int) -> Bool {
        i < self.freeindex || bitIsSet(self.allocBits, i)
    }

    /// Sweep: fold handed-out slots and both free bitmaps into allocBits
    /// and restart the free-slot search at 0. Caller holds the mcentral
    /// lock and either owns the span (uncacheSpan) or it is uncached.
    /// Returns the number of allocated slots.
    func sweep() -> Int {
        let n = self.nelems
        let words = (n + 63) >> 6
        let fi = self.freeindex
        var count = 0
        for w in 0..<words {
            let lo = w << 6
            // Slots below freeindex in this word.
            let handed: UInt64 = fi >= lo + 64 ? ~0 : (fi <= lo ? 0 : (1 << UInt64(fi - lo)) - 1)
            let valid: UInt64 = n >= lo + 64 ? ~0 : (1 << UInt64(n - lo)) - 1
            let alloc = (handed | self.allocBits[w]) & ~(self.freedBits[w] | self.remoteFreedBits[w]) & valid
            self.allocBits[w] = alloc
            self.freedBits[w] = 0
            self.remoteFreedBits[w] = 0
            count += alloc.nonzeroBitCount
        }
        if count != self.allocCount - self.remoteFreedCount {
            goFatal("sweep: span allocation count \(self.allocCount) - \(self.remoteFreedCount) remote frees != \(count) bits")
        }
        self.allocCount = count
        self.remoteFreedCount = 0
        self.freeindex = 0
        self.allocCache = 0  // refilled when an mcache takes the span
        return count
    }
}
