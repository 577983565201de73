// Statistics and invariant checks of the allocator. Mirrors the parts of
// runtime/mstats.go this allocator can measure: spans and pages in use,
// heap mapped, mcache refills, bytes requested against bytes handed out
// (the internal fragmentation that size classes trade for speed).

import Synchronization

/// A snapshot of an Allocator's counters.
public struct AllocatorStatistics: Sendable, Equatable {
    /// Spans holding objects or cached by an mcache (small and large).
    public var spansInUse: Int
    /// 8 KiB pages belonging to those spans.
    public var pagesInUse: Int
    /// Bytes of the reservation committed so far (whole 64 MiB arenas).
    public var heapMappedBytes: Int
    /// Times an mcache exchanged a span with an mcentral (mcache.refill).
    public var mcacheRefills: Int
    /// Sum of the sizes passed to `allocate`.
    public var bytesRequested: Int
    /// Sum of the sizes actually reserved for those requests: the class
    /// size for small objects, whole pages for large ones, 16-byte blocks
    /// for tiny ones (counted as they fill).
    public var bytesHandedOut: Int
    /// 16-byte blocks the tiny allocator started.
    public var tinyBlocks: Int
    /// Objects over 32 KiB.
    public var largeAllocations: Int

    /// Bytes handed out beyond what was asked for.
    public var internalWaste: Int { bytesHandedOut - bytesRequested }
}

extension Allocator {
    /// Current counters. Publishes the calling thread's mcache counters
    /// first; other threads' counters are included up to their last refill
    /// or release (all of them once those threads have exited).
    public func statistics() -> AllocatorStatistics {
        publishStatistics(currentCache())
        return AllocatorStatistics(
            spansInUse: heap.spansInUse.load(ordering: .relaxed),
            pagesInUse: heap.pagesInUse.load(ordering: .relaxed),
            heapMappedBytes: heap.mappedBytes.load(ordering: .relaxed),
            mcacheRefills: stats.refills.load(ordering: .relaxed),
            bytesRequested: stats.bytesRequested.load(ordering: .relaxed),
            bytesHandedOut: stats.bytesHandedOut.load(ordering: .relaxed),
            tinyBlocks: stats.tinyBlocks.load(ordering: .relaxed),
            largeAllocations: stats.largeAllocs.load(ordering: .relaxed))
    }

    /// Verify the heap's, mcentrals' and mcaches' invariants; a failure is
    /// a precondition failure. No other thread may allocate or free while
    /// this runs. Returns the number of spans in use.
    @discardableResult
    public func checkInvariants() -> Int {
        // Spans held by mcaches.
        var cached = Set<UInt>()
        registryLock.lock()
        var c = caches
        while let p = c {
            for spc in 0..<numSpanClasses {
                let s = p.alloc[spc]
                if s == emptySpan { continue }
                precondition(Int(s.spanclass) == spc, "mcache holds a span of another class")
                precondition(s.cachedByAtomic.pointee.load(ordering: .relaxed) == UInt(bitPattern: p),
                             "cached span does not name its mcache")
                precondition(s.list == .none, "cached span on an mcentral list")
                precondition(s.freeindex <= s.nelems, "freeindex past nelems")
                precondition(cached.insert(UInt(bitPattern: s)).inserted, "span cached twice")
            }
            c = p.registryNext
        }
        registryLock.unlock()

        var listed = 0
        for m in central { listed += m.checkInvariants() }

        // Walk the page table.
        heap.lock.lock()
        defer { heap.lock.unlock() }
        var spans = 0, pages = 0, large = 0
        var p = 0
        while p < heap.mappedPages {
            let inUse = heap.pageBits[p >> 6] & (1 << UInt64(p & 63)) != 0
            guard let s = heap.spans[p] else {
                precondition(!inUse, "page in use without a span")
                p += 1
                continue
            }
            precondition(inUse, "span on a free page")
            precondition(s.state == .inUse, "dead span in the page table")
            precondition(s.startAddr == heap.base + UInt(p << pageShift), "page table points into a span's middle")
            let n = s.npages
            for q in p..<(p + n) { precondition(heap.spans[q] == s, "span pages not contiguous in the table") }
            precondition(s.nelems * s.elemsize <= n << pageShift, "objects overflow span")
            if s.spanclass >> 1 == 0 {
                large += 1
                precondition(s.allocCount == 1, "large span without its object")
            } else if !cached.contains(UInt(bitPattern: s)) {
                precondition(s.list != .none, "uncached small span on no list")
            }
            spans += 1
            pages += n
            p += n
        }
        precondition(spans == heap.spansInUse.load(ordering: .relaxed), "spansInUse counter wrong")
        precondition(pages == heap.pagesInUse.load(ordering: .relaxed), "pagesInUse counter wrong")
        precondition(spans == listed + cached.count + large, "span neither listed, cached nor large")
        precondition(heap.searchPage <= heap.mappedPages, "searchPage past the heap")
        for q in 0..<min(heap.searchPage, heap.mappedPages) {
            precondition(heap.pageBits[q >> 6] & (1 << UInt64(q & 63)) != 0, "free page below searchPage")
        }
        return spans
    }
}
