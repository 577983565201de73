// Allocator: Go 1.19's size-class allocator over mmap'ed memory, with
// explicit free. Mirrors runtime/malloc.go (mallocgc: tiny, small, large
// paths) and runtime/msize.go (roundupsize / class lookup).
//
// Design. An allocation of `size` bytes takes one of three paths, as in
// mallocgc:
//   - tiny (noscan and size < 16): packed into the thread's current 16-byte
//     block (Allocator+Tiny.swift);
//   - small (size <= 32 KiB): size -> class through size_to_class8/128,
//     span class = class << 1 | noscan, then `nextFreeFast` on the span the
//     thread's mcache holds for that class: a count-trailing-zeros on the
//     span's 64-bit allocCache and four stores. Only when the cache word or
//     the span is exhausted does `nextFree` run (refill from mcentral, which
//     may grow the heap);
//   - large (> 32 KiB): a span of its own straight from mheap.
// The fast path takes no lock and executes no atomic read-modify-write.
//
// Differences from Go, all forced by having no garbage collector:
//   - `free` replaces sweep (Allocator+Free.swift): objects are freed
//     explicitly and become reusable when their span is next swept, which
//     happens when an mcache gives the span back (refill or release).
//   - Memory is not zeroed: Go zeroes because the collector must see typed
//     memory; this allocator hands out raw bytes like malloc.
//   - `allocate(size: 0)` returns a distinct 1-byte object, not Go's shared
//     zerobase, so that every result can be passed to `free`.
//
// Thread safety: `allocate` and `free` may be called from any thread at any
// time. `statistics()` is exact for the calling thread and for threads whose
// mcaches have been released; other threads publish their counters at each
// refill. `checkInvariants()` requires that no other thread is allocating.

import CGoRuntime
import Synchronization

/// Requests below this, without pointers, use the tiny allocator (Go's
/// maxTinySize).
@usableFromInline let maxTinySize = 16

/// Size class of the tiny blocks (16 bytes).
@usableFromInline let tinySizeClass = 2

/// Span class of the tiny blocks: the noscan 16-byte class (Go's
/// tinySpanClass).
@usableFromInline let tinySpanClass = tinySizeClass << 1 | 1

/// Counters the mcaches publish into; all relaxed atomics.
final class AllocatorCounters {
    let bytesRequested = Atomic<Int>(0)
    let bytesHandedOut = Atomic<Int>(0)
    let refills = Atomic<Int>(0)
    let tinyBlocks = Atomic<Int>(0)
    let largeAllocs = Atomic<Int>(0)
}

/// Go 1.19's size-class allocator (mcache -> mcentral -> mheap) with an
/// explicit `free`.
public final class Allocator: @unchecked Sendable {
    /// Source of allocator ids; ids are never reused, so a thread's stale
    /// one-entry cache can never match a later Allocator.
    private static let nextID = Atomic<UInt64>(1)

    let id: UInt64
    let key: Int64
    let heap: MHeap
    /// Copies of the heap's immutable geometry, one load away for `free`.
    let heapBase: UInt
    let heapBytes: UInt
    let spanTable: UnsafeMutablePointer<UnsafeMutablePointer<MSpan>?>
    /// One mcentral per span class (Go's mheap_.central).
    let central: [MCentral]
    /// Go's emptymspan: a span with no free slots that every fresh mcache
    /// slot points to, so the fast path needs no nil check.
    let emptySpan: UnsafeMutablePointer<MSpan>
    /// Copies of the generated tables in plain memory: the fast path then
    /// indexes them without array bounds or ownership checks.
    let class8: UnsafeMutablePointer<UInt8>
    let class128: UnsafeMutablePointer<UInt8>
    /// Guards `caches`, the list of every live mcache of this Allocator.
    let registryLock: RuntimeLock
    var caches: UnsafeMutablePointer<MCache>?
    let stats = AllocatorCounters()

    /// Object size of each size class; index 0 (large objects) is 0.
    public static let classSizes: [Int] = classToSize.map(Int.init)
    /// Pages (8 KiB) per span of each size class; index 0 is 0.
    public static let classPages: [Int] = classToAllocNPages.map(Int.init)
    /// Bytes per page of the heap.
    public static let pageBytes = pageSize
    /// Largest size served from size classes; larger requests get a span.
    public static let maxSmallSize = GoRuntime.maxSmallSize

    /// msize.go: the size class serving `size` bytes (1...32768); 0 for
    /// sizes that get a span of their own (and for 0).
    public static func sizeClass(forSize size: Int) -> Int {
        if size <= 0 || size > GoRuntime.maxSmallSize { return 0 }
        return size <= smallSizeMax - 8
            ? Int(sizeToClass8[(size + smallSizeDiv - 1) / smallSizeDiv])
            : Int(sizeToClass128[(size - smallSizeMax + largeSizeDiv - 1) / largeSizeDiv])
    }

    /// A new, empty heap. Reserves address space (16 GiB by default) but
    /// commits memory only as the heap grows, 64 MiB at a time.
    public convenience init() {
        self.init(reservationBytes: defaultReservationBytes)
    }

    init(reservationBytes: Int) {
        id = Allocator.nextID.add(1, ordering: .relaxed).oldValue
        let k = cgort_malloc_key_new(allocatorThreadExitHook)
        if k < 0 { goFatal("runtime: out of pthread keys for allocator caches") }
        key = k
        let h = MHeap(reservationBytes: reservationBytes)
        heap = h
        heapBase = h.base
        heapBytes = UInt(h.reservedPages) << UInt(pageShift)
        spanTable = h.spans
        central = (0..<numSpanClasses).map { MCentral(spanclass: $0, heap: h) }
        emptySpan = cgort_malloc_meta_alloc(UInt64(MemoryLayout<MSpan>.stride))!
            .bindMemory(to: MSpan.self, capacity: 1)
        let noBits = cgort_malloc_meta_alloc(UInt64(3 * spanBitmapWords * 8 + 2 * maxTinyBlocksPerSpan))!
        let words = noBits.bindMemory(to: UInt64.self, capacity: 3 * spanBitmapWords)
        emptySpan.initialize(to: MSpan(
            next: nil, prev: nil, list: .none, state: .dead, spanclass: 0,
            startAddr: 0, npages: 0, elemsize: 0, nelems: 0, divMul: 0,
            freeindex: 0, allocCache: 0, allocCount: 0,
            allocBits: words, freedBits: words + spanBitmapWords,
            remoteFreedBits: words + 2 * spanBitmapWords, remoteFreedCount: 0,
            tinyRefs: (noBits + 3 * spanBitmapWords * 8).assumingMemoryBound(to: UInt8.self),
            cachedBy: 0, nextFreeSlot: nil))
        class8 = .allocate(capacity: sizeToClass8.count)
        class8.initialize(from: sizeToClass8, count: sizeToClass8.count)
        class128 = .allocate(capacity: sizeToClass128.count)
        class128.initialize(from: sizeToClass128, count: sizeToClass128.count)
        registryLock = RuntimeLock.allocate()
    }

    deinit {
        // No thread may still be using this Allocator (see MCache.swift):
        // forget the key first so no exit hook runs for it, then free the
        // caches; the heap's memory goes with `heap`.
        cgort_malloc_key_delete(key)
        if cgort_malloc_tls_lookup(id) != nil { cgort_malloc_tls_set(0, nil) }
        var c = caches
        while let p = c {
            c = p.registryNext
            cgort_malloc_meta_free(p)
        }
        cgort_malloc_meta_free(emptySpan.allocBits)
        cgort_malloc_meta_free(emptySpan)
        class8.deallocate()
        class128.deallocate()
        registryLock.deallocate()
    }

    // MARK: - Allocation (malloc.go mallocgc)

    /// Allocate `size` bytes. `noscan` says the object holds no pointers
    /// (Go's noscan span classes; only noscan requests under 16 bytes use
    /// the tiny allocator). The memory is not zeroed. Alignment: the
    /// largest power of two dividing the class size, up to 8 KiB (at least
    /// 8 bytes; tiny objects are aligned to their size's power-of-two
    /// factor, up to 8); large objects are page aligned.
    @inline(__always)
    public func allocate(size: Int, noscan: Bool = true) -> UnsafeMutableRawPointer {
        let c = currentCache()
        if size <= GoRuntime.maxSmallSize && size > 0 {
            if noscan && size < maxTinySize {
                return tinyAlloc(c, size)
            }
            let sizeclass = size <= smallSizeMax &- 8
                ? Int(class8[(size &+ 7) &>> 3])
                : Int(class128[(size &- smallSizeMax &+ 127) &>> 7])
            let spc = sizeclass &<< 1 | (noscan ? 1 : 0)
            let span = c.alloc[spc]
            var v = span.nextFreeFast()
            c.bytesRequested &+= size
            if v != 0 {
                c.bytesHandedOut &+= span.elemsize
            } else {
                v = nextFree(c, spc)  // counts bytesHandedOut itself
            }
            return UnsafeMutableRawPointer(bitPattern: v).unsafelyUnwrapped
        }
        return allocateOther(c, size, noscan)
    }

    /// Large objects, zero and negative sizes.
    @inline(never)
    func allocateOther(_ c: UnsafeMutablePointer<MCache>, _ size: Int, _ noscan: Bool) -> UnsafeMutableRawPointer {
        if size < 0 { goFatal("runtime: allocation size out of range") }
        if size == 0 { return allocate(size: 1, noscan: noscan) }
        // malloc.go mcache.allocLarge.
        if size > Int.max - pageSize { goFatal("runtime: allocation size out of range") }
        let npages = (size + pageSize - 1) >> pageShift
        let s = heap.allocSpan(npages: npages, spanclass: noscan ? 1 : 0)
        s.allocCount = 1
        s.allocBits[0] = 1
        s.freeindex = 1
        c.bytesRequested += size
        c.bytesHandedOut += npages << pageShift
        c.largeAllocs += 1
        return UnsafeMutableRawPointer(bitPattern: s.startAddr).unsafelyUnwrapped
    }

    // MARK: - The thread's mcache

    /// This thread's mcache for this Allocator: the one-entry `__thread`
    /// cache, else the pthread key, else a new mcache.
    @inline(__always)
    func currentCache() -> UnsafeMutablePointer<MCache> {
        if let p = cgort_malloc_tls_lookup(id) {
            return p.assumingMemoryBound(to: MCache.self)
        }
        return currentCacheSlow()
    }

    @inline(never)
    func currentCacheSlow() -> UnsafeMutablePointer<MCache> {
        if let p = cgort_malloc_key_get(key) {
            cgort_malloc_tls_set(id, p)
            return p.assumingMemoryBound(to: MCache.self)
        }
        // mcache.go allocmcache.
        let raw = cgort_malloc_meta_alloc(UInt64(MemoryLayout<MCache>.stride + numSpanClasses * 8))!
        let table = (raw + MemoryLayout<MCache>.stride)
            .bindMemory(to: UnsafeMutablePointer<MSpan>.self, capacity: numSpanClasses)
        table.initialize(repeating: emptySpan, count: numSpanClasses)
        let c = raw.bindMemory(to: MCache.self, capacity: 1)
        c.initialize(to: MCache(
            tiny: 0, tinyoffset: 0, tinyHanded: 0, tinySpan: nil, tinyIndex: 0,
            bytesRequested: 0, bytesHandedOut: 0, refills: 0, tinyBlocks: 0, largeAllocs: 0,
            registryNext: nil, registryPrev: nil, owner: Unmanaged.passUnretained(self)))
        registryLock.lock()
        c.registryNext = caches
        caches?.registryPrev = c
        caches = c
        registryLock.unlock()
        cgort_malloc_key_set(key, raw)
        cgort_malloc_tls_set(id, raw)
        return c
    }

    /// The thread-exit path (mcache.go freemcache): flush and free `c`.
    /// Runs on the exiting thread, which owns `c`.
    func destroyCache(_ c: UnsafeMutablePointer<MCache>) {
        releaseAll(c)
        registryLock.lock()
        if let p = c.registryPrev { p.registryNext = c.registryNext } else { caches = c.registryNext }
        c.registryNext?.registryPrev = c.registryPrev
        registryLock.unlock()
        if cgort_malloc_tls_lookup(id) == UnsafeMutableRawPointer(c) { cgort_malloc_tls_set(0, nil) }
        cgort_malloc_meta_free(c)
    }

    /// Give every span the calling thread's mcache holds back to mcentral
    /// (sweeping them), retire its tiny block and publish its statistics:
    /// Go's mcache.releaseAll. The thread keeps its (now empty) mcache.
    public func flushCurrentThreadCache() {
        releaseAll(currentCache())
    }
}

/// pthread key destructor target: the exiting thread's mcache.
private let allocatorThreadExitHook: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
    guard let raw else { return }
    let c = raw.assumingMemoryBound(to: MCache.self)
    c.owner.takeUnretainedValue().destroyCache(c)
}
