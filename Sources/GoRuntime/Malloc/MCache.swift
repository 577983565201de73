// mcache: a thread's private stock of spans, one per span class. Mirrors
// runtime/mcache.go (refill, releaseAll, nextFree from malloc.go).
//
// Design. Go gives every P an mcache and reaches it through g.m.p without
// a lock, because only the goroutine running on that P touches it. Here
// every thread that uses an Allocator gets its own MCache for that
// Allocator: found through a one-entry C `__thread` cache keyed by the
// allocator's unique id, falling back to a pthread key per Allocator (see
// Allocator.currentCache). The fast path (nextFreeFast on `alloc[spc]`)
// reads and writes only this thread's mcache and the spans it holds.
//
// Lifetime (Go's allocmcache/freemcache at procresize):
//   - created on a thread's first allocate/free on an Allocator and linked
//     into the Allocator's registry;
//   - flushed when the thread exits: the pthread key's destructor calls
//     `Allocator.destroyCache`, which runs releaseAll (every span back to
//     its mcentral, swept there; the tiny block retired; statistics
//     published) and frees the mcache;
//   - `Allocator.flushCurrentThreadCache()` runs releaseAll on demand;
//   - when the Allocator is destroyed, every remaining mcache is freed
//     without flushing (the whole heap is unmapped with it). An Allocator
//     must therefore outlive its use on every thread, as any allocator
//     must outlive its objects.
//
// Invariants: alloc[spc] is `emptySpan` or a span of class spc whose
// cachedBy is this mcache; `tiny` is 0 or the address of a 16-byte block in
// `tinySpan` (slot `tinyIndex`) whose counter holds `tinyFlag`-minus-frees.

/// One thread's cache for one Allocator. Allocated with its span table
/// right behind it; owned by one thread.
@usableFromInline
struct MCache {
    // The span per span class (Go's mcache.alloc) sits right behind the
    // struct, numSpanClasses pointers: see `alloc` below.

    // MARK: Tiny allocator (malloc.go mcache.tiny/tinyoffset).
    /// Current tiny block, or 0.
    @usableFromInline var tiny: UInt
    /// Bytes of the tiny block used.
    @usableFromInline var tinyoffset: Int
    /// Objects handed out from the current tiny block.
    @usableFromInline var tinyHanded: Int
    @usableFromInline var tinySpan: UnsafeMutablePointer<MSpan>?
    @usableFromInline var tinyIndex: Int

    // MARK: Local statistics, published to the Allocator at every refill
    // and release (Go batches its heap stats per P the same way).
    @usableFromInline var bytesRequested: Int
    @usableFromInline var bytesHandedOut: Int
    @usableFromInline var refills: Int
    @usableFromInline var tinyBlocks: Int
    @usableFromInline var largeAllocs: Int

    // MARK: Registry links; guarded by the Allocator's registry lock.
    var registryNext: UnsafeMutablePointer<MCache>?
    var registryPrev: UnsafeMutablePointer<MCache>?
    /// The Allocator this cache belongs to, for the thread-exit hook.
    var owner: Unmanaged<Allocator>
}

// Field-by-field access to a MCache through its pointer. `pointer.f`
// would begin a Swift access to the whole struct, which ThreadSanitizer
// tracks as one variable; the fields of one MCache are written by different
// threads under different rules (see the field comments), so each field is
// reached through its own pointer instead. Offsets fold to constants.
extension UnsafeMutablePointer where Pointee == MCache {
    @inline(__always)
    func field<T>(_ key: KeyPath<MCache, T>) -> UnsafeMutablePointer<T> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<MCache>.offset(of: key)!).assumingMemoryBound(to: T.self)
    }
    @inline(__always) var tiny: UInt {
        get { field(\MCache.tiny).pointee }
        nonmutating set { field(\MCache.tiny).pointee = newValue }
    }
    @inline(__always) var tinyoffset: Int {
        get { field(\MCache.tinyoffset).pointee }
        nonmutating set { field(\MCache.tinyoffset).pointee = newValue }
    }
    @inline(__always) var tinyHanded: Int {
        get { field(\MCache.tinyHanded).pointee }
        nonmutating set { field(\MCache.tinyHanded).pointee = newValue }
    }
    @inline(__always) var tinySpan: UnsafeMutablePointer<MSpan>? {
        get { field(\MCache.tinySpan).pointee }
        nonmutating set { field(\MCache.tinySpan).pointee = newValue }
    }
    @inline(__always) var tinyIndex: Int {
        get { field(\MCache.tinyIndex).pointee }
        nonmutating set { field(\MCache.tinyIndex).pointee = newValue }
    }
    @inline(__always) var bytesRequested: Int {
        get { field(\MCache.bytesRequested).pointee }
        nonmutating set { field(\MCache.bytesRequested).pointee = newValue }
    }
    @inline(__always) var bytesHandedOut: Int {
        get { field(\MCache.bytesHandedOut).pointee }
        nonmutating set { field(\MCache.bytesHandedOut).pointee = newValue }
    }
    @inline(__always) var refills: Int {
        get { field(\MCache.refills).pointee }
        nonmutating set { field(\MCache.refills).pointee = newValue }
    }
    @inline(__always) var tinyBlocks: Int {
        get { field(\MCache.tinyBlocks).pointee }
        nonmutating set { field(\MCache.tinyBlocks).pointee = newValue }
    }
    @inline(__always) var largeAllocs: Int {
        get { field(\MCache.largeAllocs).pointee }
        nonmutating set { field(\MCache.largeAllocs).pointee = newValue }
    }
    @inline(__always) var registryNext: UnsafeMutablePointer<MCache>? {
        get { field(\MCache.registryNext).pointee }
        nonmutating set { field(\MCache.registryNext).pointee = newValue }
    }
    @inline(__always) var registryPrev: UnsafeMutablePointer<MCache>? {
        get { field(\MCache.registryPrev).pointee }
        nonmutating set { field(\MCache.registryPrev).pointee = newValue }
    }
    @inline(__always) var owner: Unmanaged<Allocator> {
        get { field(\MCache.owner).pointee }
        nonmutating set { field(\MCache.owner).pointee = newValue }
    }
}

extension UnsafeMutablePointer where Pointee == MCache {
    /// The span table behind the mcache: a constant offset from the mcache,
    /// so the fast path loads a span with one load instead of two.
    @inline(__always)
    var alloc: UnsafeMutablePointer<UnsafeMutablePointer<MSpan>> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<MCache>.stride)
            .assumingMemoryBound(to: UnsafeMutablePointer<MSpan>.self)
    }
}

extension Allocator {
    /// malloc.go `mcache.nextFree`: a free slot of class `spc`, refilling
    /// the cached span from mcentral when it is exhausted.
    @inline(never)
    func nextFree(_ c: UnsafeMutablePointer<MCache>, _ spc: Int) -> UInt {
        var s = c.alloc[spc]
        var freeIndex = s.nextFreeIndex()
        if freeIndex == s.nelems {
            refill(c, spc)
            s = c.alloc[spc]
            freeIndex = s.nextFreeIndex()
        }
        if freeIndex >= s.nelems {
            goFatal("freeIndex is not valid")
        }
        s.allocCount += 1
        c.bytesHandedOut += s.elemsize
        return s.startAddr + UInt(freeIndex * s.elemsize)
    }

    /// mcache.go `refill`: hand the exhausted span of class `spc` back to
    /// its mcentral (which sweeps it) and take one with free slots.
    func refill(_ c: UnsafeMutablePointer<MCache>, _ spc: Int) {
        let s = c.alloc[spc]
        if s != emptySpan {
            if s.freeindex != s.nelems {
                goFatal("refill of span with free space remaining")
            }
            central[spc].uncacheSpan(s)
        }
        c.alloc[spc] = central[spc].cacheSpan(for: c)
        c.refills += 1
        publishStatistics(c)
    }

    /// mcache.go `releaseAll`: every cached span back to its mcentral, the
    /// tiny block retired, statistics published. Owner thread only.
    func releaseAll(_ c: UnsafeMutablePointer<MCache>) {
        retireTinyBlock(c)
        for spc in 0..<numSpanClasses {
            let s = c.alloc[spc]
            if s != emptySpan {
                central[spc].uncacheSpan(s)
                c.alloc[spc] = emptySpan
            }
        }
        publishStatistics(c)
    }

    /// Fold the mcache's local counters into the Allocator's. Owner only.
    func publishStatistics(_ c: UnsafeMutablePointer<MCache>) {
        stats.bytesRequested.add(c.bytesRequested, ordering: .relaxed)
        stats.bytesHandedOut.add(c.bytesHandedOut, ordering: .relaxed)
        stats.refills.add(c.refills, ordering: .relaxed)
        stats.tinyBlocks.add(c.tinyBlocks, ordering: .relaxed)
        stats.largeAllocs.add(c.largeAllocs, ordering: .relaxed)
        c.bytesRequested = 0
        c.bytesHandedOut = 0
        c.refills = 0
        c.tinyBlocks = 0
        c.largeAllocs = 0
    }
}
