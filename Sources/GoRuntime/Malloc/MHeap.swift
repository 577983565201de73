// mheap: page-granular memory from one mmap'ed reservation. Mirrors
// runtime/mheap.go (allocSpan, freeSpan, grow, spanOf), the page bitmap of
// runtime/mpagealloc.go and runtime/mem_linux.go (sysReserve/sysMap).
//
// Design. At init the heap reserves `reservationBytes` of address space
// with PROT_NONE (Go's arena hints reserve space the same way) and commits
// it in 64 MiB arenas (Go's heapArenaBytes on linux/amd64) as it grows.
// Three side tables are indexed by page number from `base`:
//   - `spans`: page -> owning mspan (Go's heapArena.spans), so `free` finds
//     an object's span from its address alone;
//   - `pageBits`: 1 bit per page, set while the page belongs to a span
//     (Go's pallocBits, 1 = allocated);
// Both are lazily zero-filled mappings, so untouched parts cost nothing.
// Allocation is Go's policy, address-ordered first fit: the lowest run of
// `npages` free pages at or above `searchPage` (Go's searchAddr: no page
// below it is free). Go accelerates the search with a radix tree of
// summaries; here a linear scan skips whole 64-page words, which is enough
// for heaps of this benchmark's size. Freed pages go straight back to the
// bitmap and lower searchPage. Pages are not returned to the OS (Go's
// background scavenger is not ported); they stay committed for reuse.
//
// Span structures come from a slot allocator (Go's fixalloc): chunks of
// slots, each an MSpan followed by its bitmaps and tiny counters, with a
// free list threaded through `nextFreeSlot`.
//
// Locking: every mutable field here is guarded by `lock` (Go's
// mheap_.lock). Lock order: mcentral lock, then heap lock. The `spans`
// table is read without the lock by `free` (spanOf): the entry for a live
// object's page was written under the lock before the object's address
// was returned to anyone, and it is only rewritten after the span is freed,
// which cannot happen while the object is live; so any thread that
// legitimately holds the address reads the right entry.

import CGoRuntime
import Synchronization

/// Bytes committed at a time (Go's heapArenaBytes on 64-bit Linux).
@usableFromInline let heapArenaBytes = 64 << 20

/// Address space one Allocator reserves. The heap cannot grow past it
/// (Go's limit is the 48-bit address space).
@usableFromInline let defaultReservationBytes = 16 << 30

/// Tiny blocks (16-byte objects) in one span of the tiny span class.
let maxTinyBlocksPerSpan = pageSize / 16

/// Span slots per fixalloc chunk.
let spanSlotsPerChunk = 64

/// Bytes of one span slot: the MSpan, three bitmaps, tiny counters and
/// remote tiny deltas.
let spanSlotBytes: Int = {
    let head = (MemoryLayout<MSpan>.stride + 63) & ~63
    return head + 3 * spanBitmapWords * 8 + 2 * maxTinyBlocksPerSpan  // tinyRefs, remoteTinyDeltas
}()

final class MHeap {
    /// Go's mheap_.lock.
    let lock: RuntimeLock
    /// First byte of the reservation, arena aligned.
    let base: UInt
    /// Pages in the reservation.
    let reservedPages: Int
    /// The raw mapping (base may be above it for alignment).
    let mapping: UnsafeMutableRawPointer
    let mappingBytes: Int
    /// Page -> span table; see the file comment for the lock-free read.
    let spans: UnsafeMutablePointer<UnsafeMutablePointer<MSpan>?>
    /// Page-in-use bitmap; guarded by lock.
    let pageBits: UnsafeMutablePointer<UInt64>
    /// Pages committed (readable and writable) from base; guarded by lock.
    var mappedPages = 0
    /// No page below this is free; guarded by lock.
    var searchPage = 0
    /// Span slot free list and chunks; guarded by lock.
    var freeSlots: UnsafeMutablePointer<MSpan>?
    var slotChunks: [UnsafeMutableRawPointer] = []

    /// Statistics, written under lock, read atomically by anyone.
    let pagesInUse = Atomic<Int>(0)
    let spansInUse = Atomic<Int>(0)
    let mappedBytes = Atomic<Int>(0)

    init(reservationBytes: Int) {
        lock = RuntimeLock.allocate()
        mappingBytes = reservationBytes + heapArenaBytes
        guard let m = cgort_malloc_reserve(UInt64(mappingBytes)) else {
            goFatal("runtime: cannot reserve \(reservationBytes >> 20) MiB of address space")
        }
        mapping = m
        let raw = UInt(bitPattern: m)
        base = (raw + UInt(heapArenaBytes) - 1) & ~UInt(heapArenaBytes - 1)
        reservedPages = reservationBytes >> pageShift
        guard let t = cgort_malloc_map_table(UInt64(reservedPages * 8)),
              let b = cgort_malloc_map_table(UInt64((reservedPages + 63) / 64 * 8)) else {
            goFatal("runtime: cannot map heap tables")
        }
        spans = t.bindMemory(to: UnsafeMutablePointer<MSpan>?.self, capacity: reservedPages)
        pageBits = b.bindMemory(to: UInt64.self, capacity: (reservedPages + 63) / 64)
    }

    deinit {
        cgort_malloc_unmap(mapping, UInt64(mappingBytes))
        cgort_malloc_unmap(spans, UInt64(reservedPages * 8))
        cgort_malloc_unmap(pageBits, UInt64((reservedPages + 63) / 64 * 8))
        for c in slotChunks { cgort_malloc_meta_free(c) }
        lock.deallocate()
    }

    /// mheap.go `spanOf` for a pointer handed to `free`: the in-use span
    /// containing `addr`, or a fatal error for a pointer this heap never
    /// handed out. Lock-free (see the file comment).
    @inline(__always)
    func spanOf(_ addr: UInt) -> UnsafeMutablePointer<MSpan> {
        let off = addr &- base
        if off >= UInt(reservedPages) << UInt(pageShift) {
            badPointer(addr)
        }
        guard let s = spans[Int(off >> UInt(pageShift))] else { badPointer(addr) }
        return s
    }

    @inline(never)
    func badPointer(_ addr: UInt) -> Never {
        goFatal("free of pointer 0x\(String(addr, radix: 16)) not allocated by this allocator")
    }

    // MARK: - Spans

    /// mheap.go `allocSpan`: a new in-use span of `npages` pages for span
    /// class `spc` (size class 0: one large object of npages pages).
    /// Takes the heap lock.
    func allocSpan(npages: Int, spanclass spc: Int) -> UnsafeMutablePointer<MSpan> {
        lock.lock()
        let page = allocPages(npages)
        let s = allocSlot()
        let sizeclass = spc >> 1
        let elemsize = sizeclass == 0 ? npages << pageShift : Int(classToSize[sizeclass])
        s.state = .inUse
        s.list = .none
        s.next = nil
        s.prev = nil
        s.spanclass = UInt8(spc)
        s.startAddr = base + UInt(page << pageShift)
        s.npages = npages
        s.elemsize = elemsize
        s.nelems = sizeclass == 0 ? 1 : (npages << pageShift) / elemsize
        s.divMul = sizeclass == 0 ? 0 : classToDivMagic[sizeclass]
        s.freeindex = 0
        s.allocCache = 0
        s.allocCount = 0
        s.remoteFreedCount = 0
        s.allocBits.initialize(repeating: 0, count: spanBitmapWords)
        s.freedBits.initialize(repeating: 0, count: spanBitmapWords)
        s.remoteFreedBits.initialize(repeating: 0, count: spanBitmapWords)
        s.cachedByAtomic.pointee.store(0, ordering: .relaxed)
        for p in page..<(page + npages) { spans[p] = s }
        pagesInUse.add(npages, ordering: .relaxed)
        spansInUse.add(1, ordering: .relaxed)
        lock.unlock()
        return s
    }

    /// mheap.go `freeSpan`: return a span's pages to the page bitmap and its
    /// structure to the slot allocator. The span must have no live objects
    /// and be on no list. Takes the heap lock.
    func freeSpan(_ s: UnsafeMutablePointer<MSpan>) {
        lock.lock()
        if s.state != .inUse || s.list != .none {
            goFatal("mheap.freeSpan: span not in use or still listed")
        }
        let page = Int((s.startAddr - base) >> UInt(pageShift))
        let npages = s.npages
        for p in page..<(page + npages) { spans[p] = nil }
        setPages(page, npages, inUse: false)
        if page < searchPage { searchPage = page }
        s.state = .dead
        s.nextFreeSlot = freeSlots
        freeSlots = s
        pagesInUse.subtract(npages, ordering: .relaxed)
        spansInUse.subtract(1, ordering: .relaxed)
        lock.unlock()
    }

    /// fixalloc.alloc for span structures. Heap lock held.
    private func allocSlot() -> UnsafeMutablePointer<MSpan> {
        if freeSlots == nil {
            let chunk = cgort_malloc_meta_alloc(UInt64(spanSlotBytes * spanSlotsPerChunk))!
            slotChunks.append(chunk)
            let head = (MemoryLayout<MSpan>.stride + 63) & ~63
            for i in (0..<spanSlotsPerChunk).reversed() {
                let slot = chunk + i * spanSlotBytes
                let words = (slot + head).bindMemory(to: UInt64.self, capacity: 3 * spanBitmapWords)
                let refs = (slot + head + 3 * spanBitmapWords * 8).bindMemory(to: UInt8.self, capacity: 2 * maxTinyBlocksPerSpan)
                let s = slot.bindMemory(to: MSpan.self, capacity: 1)
                s.initialize(to: MSpan(
                    next: nil, prev: nil, list: .none, state: .dead, spanclass: 0,
                    startAddr: 0, npages: 0, elemsize: 0, nelems: 0, divMul: 0,
                    freeindex: 0, allocCache: 0, allocCount: 0,
                    allocBits: words, freedBits: words + spanBitmapWords,
                    remoteFreedBits: words + 2 * spanBitmapWords, remoteFreedCount: 0,
                    tinyRefs: refs, cachedBy: 0, nextFreeSlot: freeSlots))
                freeSlots = s
            }
        }
        let s = freeSlots!
        freeSlots = s.nextFreeSlot
        s.nextFreeSlot = nil
        return s
    }

    // MARK: - Pages (mpagealloc.go)

    /// Find and mark `npages` free pages, growing the heap if needed.
    /// Heap lock held. Returns the first page's index.
    private func allocPages(_ npages: Int) -> Int {
        if let p = findRun(npages) {
            setPages(p, npages, inUse: true)
            return p
        }
        grow(npages)
        guard let p = findRun(npages) else { goFatal("mheap: no pages after grow") }
        setPages(p, npages, inUse: true)
        return p
    }

    /// pageAlloc.find: the lowest run of `n` free pages among the mapped
    /// ones at or above searchPage; advances searchPage to the first free
    /// page seen. Heap lock held.
    func findRun(_ n: Int) -> Int? {
        var i = searchPage
        var firstFree: Int? = nil
        let limit = mappedPages
        while i + n <= limit {
            // First free page at or after i, skipping full words.
            let w = i >> 6
            let word = pageBits[w] | ((1 << UInt64(i & 63)) &- 1)
            if word == ~0 {
                i = (w + 1) << 6
                continue
            }
            let start = (w << 6) + (~word).trailingZeroBitCount
            if start >= limit { break }
            if firstFree == nil { firstFree = start }
            // Extend the free run from start.
            var end = start
            while end < start + n && end < limit {
                let rest = pageBits[end >> 6] >> UInt64(end & 63)
                if rest == 0 {
                    end = ((end >> 6) + 1) << 6
                } else {
                    end += rest.trailingZeroBitCount
                    break
                }
            }
            end = min(end, limit)
            if end - start >= n {
                searchPage = firstFree == start ? start + n : firstFree!
                return start
            }
            i = end + 1
        }
        if let f = firstFree { searchPage = f } else { searchPage = max(searchPage, min(i, limit)) }
        return nil
    }

    /// Set or clear the in-use bits of pages [page, page+n). Heap lock held.
    func setPages(_ page: Int, _ n: Int, inUse: Bool) {
        var p = page
        let end = page + n
        while p < end {
            let b = p & 63
            let cnt = min(64 - b, end - p)
            let mask: UInt64 = cnt == 64 ? ~0 : ((1 << UInt64(cnt)) - 1) << UInt64(b)
            if inUse {
                if pageBits[p >> 6] & mask != 0 { goFatal("mheap: page allocated twice") }
                pageBits[p >> 6] |= mask
            } else {
                if pageBits[p >> 6] & mask != mask { goFatal("mheap: freeing free pages") }
                pageBits[p >> 6] &= ~mask
            }
            p += cnt
        }
    }

    /// mheap.go `grow` + mem_linux.go `sysMap`: commit enough whole arenas
    /// past mappedPages for a run of `npages`, counting a free run that
    /// already ends the mapped range. Heap lock held.
    private func grow(_ npages: Int) {
        // Free pages at the end of the mapped range join the new ones.
        var tailFree = 0
        while tailFree < mappedPages && tailFree < npages {
            let p = mappedPages - 1 - tailFree
            if pageBits[p >> 6] & (1 << UInt64(p & 63)) != 0 { break }
            tailFree += 1
        }
        let arenaPages = heapArenaBytes >> pageShift
        let need = npages - tailFree
        let add = (need + arenaPages - 1) / arenaPages * arenaPages
        if mappedPages + add > reservedPages {
            goFatal("runtime: out of memory: heap reservation of \(reservedPages >> 7) MiB exhausted")
        }
        let start = base + UInt(mappedPages << pageShift)
        let rc = cgort_malloc_commit(UnsafeMutableRawPointer(bitPattern: start), UInt64(add << pageShift))
        if rc != 0 { goFatal("runtime: cannot commit heap memory (errno \(-rc))") }
        if searchPage >= mappedPages { searchPage = mappedPages - tailFree }
        mappedPages += add
        mappedBytes.store(mappedPages << pageShift, ordering: .relaxed)
    }
}
