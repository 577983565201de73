// Stack memory: the allocator of Go 1.19's runtime/stack.go (stackalloc,
// stackfree, stackpoolalloc, stackpoolfree, stackcacherefill,
// stackcacherelease, stackcache_clear, freeStackSpans), over a small page
// heap standing in for mheap_.allocManual / freeManual.
//
// Design. Stacks are powers of two. Small stacks (2, 4, 8 and 16 KiB: orders
// 0-3, `fixedStack << order`) are carved out of 32 KiB spans
// (`stackCacheSize`); each order has a global pool of spans that still have a
// free stack, each span threads its free stacks through their first word
// (Go's `gclinkptr` manual free list) and counts how many are allocated. A
// span whose last stack comes back goes back to the heap at once (Go does so
// when no GC is running, which is always the case here).
//
// In front of the pools sits a per-thread cache, Go's `mcache.stackcache`
// (per P in Go; per OS thread here, in a `StackThread` block found through a
// pthread key, beside the M fields of Go 1.2's segmented stacks): per order a
// free list of stacks and its byte count. An empty list is refilled with half
// a cache's worth (16 KiB) under the order's lock; a free into a list already
// holding `stackCacheSize` bytes first releases it down to half. A thread that
// exits hands its cache back to the pools (Go's `stackcache_clear` when a P is
// destroyed).
//
// Large stacks (32 KiB and up) are whole heap allocations of `n >> pageShift`
// pages. Go keeps them in `stackLarge` only while a GC runs and otherwise
// frees them to the heap; the heap here keeps freed blocks in free lists by
// log2(pages), so a goroutine that grows again reuses the same memory as it
// would in Go's heap. `StackAllocator.freeStackSpans()` (Go: end of GC)
// returns all cached heap memory to the system.
//
// Invariants:
// - Every address handed out is `n`-aligned within its span (small) or
//   page aligned (large) and `n` is a power of two >= fixedStack.
// - A span is in its order's `nonFull` list iff its free list is non-empty;
//   its `allocCount` plus the length of its free list is
//   `stackCacheSize / elemSize`.
// - A per-thread cache list holds exactly `size / (fixedStack << order)`
//   stacks.
//
// Locking: each order's pool has its own mutex (Go: `stackpool[order].item.mu`);
// the heap has one (Go: `mheap_.lock`), always taken after a pool lock, never
// before. The per-thread cache is touched only by its thread, without locks.


#if canImport(Glibc)
import Glibc
#endif

/// One 32 KiB span of small stacks of a single order (Go: an `mspan` in
/// state `mSpanManual`). Guarded by its order's pool lock.
final class StackSpan {
    let base: UInt
    /// Free stacks, linked through their first word; 0 ends the list.
    var manualFreeList: UInt = 0
    var allocCount = 0
    /// Index in the order's `nonFull` array, or -1 when not in it.
    var listIndex = -1

    init(base: UInt) { self.base = base }
}

/// The span lists of one stack order. Access only with the pool's lock held.
struct StackPoolOrder {
    /// Spans with at least one free stack (Go's `stackpool[order].item.span`).
    var nonFull: [StackSpan] = []
    /// Every span of this order by base address: the lookup Go does with
    /// `spanOfUnchecked`.
    var spans: [UInt: StackSpan] = [:]

    mutating func insert(_ s: StackSpan) {
        s.listIndex = nonFull.count
        nonFull.append(s)
    }

    mutating func remove(_ s: StackSpan) {
        let i = s.listIndex
        let last = nonFull.removeLast()
        if last !== s {
            nonFull[i] = last
            last.listIndex = i
        }
        s.listIndex = -1
    }
}

/// The page heap under the stack pools: allocates page-aligned blocks of a
/// power-of-two number of pages and keeps freed ones for reuse (Go:
/// `mheap_.allocManual` / `freeManual`).
final class StackHeap: @unchecked Sendable {
    private struct State {
        /// Freed blocks by log2(pages).
        var free: [[UInt]] = Array(repeating: [], count: 48)
        /// Bytes obtained from the system and not yet returned.
        var mappedBytes = 0
    }
    private let lock = RuntimeLocked(State())

    /// `mappedBytes`, read under the lock.
    var mapped: Int { lock.withLock { $0.mappedBytes } }

    /// Allocates `npages` pages (a power of two), aligned to
    /// `min(bytes, stackCacheSize)` so that a span's base is found by masking.
    func allocManual(npages: Int) -> UInt {
        let log2 = stacklog2(npages)
        return lock.withLock { st in
            if let p = st.free[log2].popLast() { return p }
            let bytes = npages << StackLayout.pageShift
            var raw: UnsafeMutableRawPointer?
            let align = min(bytes, StackLayout.stackCacheSize)
            if posix_memalign(&raw, align, bytes) != 0 || raw == nil {
                goFatal("out of memory (stackalloc)")
            }
            st.mappedBytes += bytes
            return UInt(bitPattern: raw)
        }
    }

    func freeManual(_ base: UInt, npages: Int) {
        let log2 = stacklog2(npages)
        lock.withLock { $0.free[log2].append(base) }
    }

    /// Returns every cached block to the system.
    func releaseFree() {
        lock.withLock { st in
            for i in st.free.indices {
                for p in st.free[i] {
                    Glibc.free(UnsafeMutableRawPointer(bitPattern: p))
                    st.mappedBytes -= 1 << (i + StackLayout.pageShift)
                }
                st.free[i].removeAll()
            }
        }
    }
}

/// `stacklog2`: floor(log2(n)).
@inline(__always)
func stacklog2(_ n: Int) -> Int {
    n <= 1 ? 0 : (Int.bitWidth - 1 - n.leadingZeroBitCount)
}

/// One order's global pool with its lock (Go: `stackpool[order]`, padded to
/// a cache line in Go; a separate object here).
final class StackPool: @unchecked Sendable {
    let order: Int
    let elemSize: Int
    let mu = RuntimeLocked(StackPoolOrder())

    init(order: Int) {
        self.order = order
        self.elemSize = StackLayout.fixedStack << order
    }

    /// `stackpoolalloc`: one stack of this order. Must be called with `mu`
    /// held (`p` is the locked state).
    func poolAlloc(_ p: inout StackPoolOrder, heap: StackHeap) -> UInt {
        var s = p.nonFull.last
        if s == nil {
            // No free stacks: allocate another span worth.
            let base = heap.allocManual(npages: StackLayout.stackCacheSize >> StackLayout.pageShift)
            let span = StackSpan(base: base)
            var i = 0
            while i < StackLayout.stackCacheSize {
                let x = base + UInt(i)
                stackWord(x).pointee = span.manualFreeList
                span.manualFreeList = x
                i += elemSize
            }
            p.spans[base] = span
            p.insert(span)
            s = span
        }
        let span = s!
        let x = span.manualFreeList
        if x == 0 { goFatal("span has no free stacks") }
        span.manualFreeList = stackWord(x).pointee
        span.allocCount += 1
        if span.manualFreeList == 0 {
            // All stacks in the span are allocated.
            p.remove(span)
        }
        return x
    }

    /// `stackpoolfree`: returns stack `x` to its span. Must be called with
    /// `mu` held.
    func poolFree(_ p: inout StackPoolOrder, _ x: UInt, heap: StackHeap) {
        let base = x & ~UInt(StackLayout.stackCacheSize - 1)
        guard let span = p.spans[base] else { goFatal("freeing stack not in a stack span") }
        if span.manualFreeList == 0 {
            // The span will now have a free stack.
            p.insert(span)
        }
        stackWord(x).pointee = span.manualFreeList
        span.manualFreeList = x
        span.allocCount -= 1
        if span.allocCount == 0 {
            // Completely free: back to the heap at once (no GC is running).
            p.remove(span)
            p.spans[base] = nil
            heap.freeManual(base, npages: StackLayout.stackCacheSize >> StackLayout.pageShift)
        }
    }
}

/// The per-thread stack cache (Go: `mcache.stackcache`, one
/// `stackfreelist` per order).
struct StackCacheLists {
    var list: (UInt, UInt, UInt, UInt) = (0, 0, 0, 0)
    var size: (Int, Int, Int, Int) = (0, 0, 0, 0)
}

/// What a thread keeps for goroutine stacks: its stack cache and the M
/// fields of Go 1.2's split (Go 1.2 kept both in the M, which it reached
/// through TLS). Lives in malloc'd memory found through a pthread key; only
/// its own thread touches it.
struct StackThread {
    var cache = StackCacheLists()
    var m = SplitM()
}

@inlinable @inline(__always)
func stackWord(_ a: UInt) -> UnsafeMutablePointer<UInt> {
    UnsafeMutablePointer<UInt>(bitPattern: a).unsafelyUnwrapped
}

/// Counters of the allocator, all threads together.
public struct StackAllocatorStats: Sendable, Equatable {
    /// Bytes the heap holds from the system (in spans, large stacks and its
    /// free lists).
    public var heapBytes: Int
    /// Small-stack spans that exist, per order.
    public var spans: [Int]
    /// Spans with a free stack, per order.
    public var nonFullSpans: [Int]
    /// Stacks handed out from spans (in use or in some thread's cache), per
    /// order.
    public var allocatedFromSpans: [Int]
}

/// The stack allocator: `stackalloc` / `stackfree` and their pools.
public enum StackAllocator {
    static let heap = StackHeap()
    static let pools: [StackPool] = (0..<StackLayout.numStackOrders).map { StackPool(order: $0) }

    /// The pthread key of the per-thread cache; its destructor hands the
    /// cache back to the pools when a thread exits.
    static let cacheKey: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { raw in
            guard let raw else { return }
            let c = raw.assumingMemoryBound(to: StackThread.self)
            StackAllocator.stackcacheClear(c)
            c.deinitialize(count: 1)
            c.deallocate()
        }
        if rc != 0 { goFatal("pthread_key_create failed for the stack cache") }
        return key
    }()

    /// This thread's block: its cache (Go reaches it through
    /// `getg().m.p.ptr().mcache`) and its Go 1.2 M fields.
    @inline(__always)
    static func currentThread() -> UnsafeMutablePointer<StackThread> {
        currentThread(key: cacheKey)
    }

    /// `currentThread()` with the key already at hand (reading the lazily
    /// initialised `cacheKey` costs a swift_once call each time; Go 1.2
    /// found m with one TLS load).
    @inline(__always)
    static func currentThread(key: pthread_key_t) -> UnsafeMutablePointer<StackThread> {
        if let raw = pthread_getspecific(key) {
            return raw.assumingMemoryBound(to: StackThread.self)
        }
        return makeThread()
    }

    @inline(never)
    static func makeThread() -> UnsafeMutablePointer<StackThread> {
        let c = UnsafeMutablePointer<StackThread>.allocate(capacity: 1)
        c.initialize(to: StackThread())
        c.pointee.m.g0 = UInt(bitPattern: c)
        pthread_setspecific(cacheKey, c)
        return c
    }

    /// Order of a small stack of `n` bytes, or -1 for a large one.
    @inline(__always)
    static func order(of n: Int) -> Int {
        if n < StackLayout.fixedStack << StackLayout.numStackOrders && n < StackLayout.stackCacheSize {
            var order = 0
            var n2 = n
            while n2 > StackLayout.fixedStack { order += 1; n2 >>= 1 }
            return order
        }
        return -1
    }

    /// `stackalloc`: an `n`-byte stack (n a power of two); returns its low
    /// address. Small stacks come from this thread's cache.
    public static func stackalloc(_ n: Int) -> UInt {
        stackalloc(n, thread: currentThread())
    }

    /// `stackalloc` for a caller that has found its thread's block already.
    @inline(__always)
    static func stackalloc(_ n: Int, thread c: UnsafeMutablePointer<StackThread>) -> UInt {
        if n & (n - 1) != 0 || n < StackLayout.fixedStack { goFatal("stack size not a power of 2") }
        let order = order(of: n)
        if order >= 0 {
            var x = c.pointee.cache.head(order)
            if x == 0 {
                stackcacheRefill(c, order)
                x = c.pointee.cache.head(order)
            }
            c.pointee.cache.setHead(order, stackWord(x).pointee)
            c.pointee.cache.addSize(order, -n)
            return x
        }
        return heap.allocManual(npages: n >> StackLayout.pageShift)
    }

    /// `stackfree`: frees the `n`-byte stack at `lo`.
    public static func stackfree(_ lo: UInt, _ n: Int) {
        stackfree(lo, n, thread: currentThread())
    }

    /// `stackfree` for a caller that has found its thread's block already.
    @inline(__always)
    static func stackfree(_ lo: UInt, _ n: Int, thread c: UnsafeMutablePointer<StackThread>) {
        if n & (n - 1) != 0 { goFatal("stack not a power of 2") }
        let order = order(of: n)
        if order >= 0 {
            if c.pointee.cache.sizeOf(order) >= StackLayout.stackCacheSize {
                stackcacheRelease(c, order)
            }
            stackWord(lo).pointee = c.pointee.cache.head(order)
            c.pointee.cache.setHead(order, lo)
            c.pointee.cache.addSize(order, n)
            return
        }
        heap.freeManual(lo, npages: n >> StackLayout.pageShift)
    }

    /// `stackcacherefill`: grabs half a cache's worth of stacks from the
    /// global pool.
    @inline(never)
    static func stackcacheRefill(_ c: UnsafeMutablePointer<StackThread>, _ order: Int) {
        let pool = pools[order]
        var list: UInt = 0
        var size = 0
        pool.mu.withLock { p in
            while size < StackLayout.stackCacheSize / 2 {
                let x = pool.poolAlloc(&p, heap: heap)
                stackWord(x).pointee = list
                list = x
                size += pool.elemSize
            }
        }
        c.pointee.cache.setHead(order, list)
        c.pointee.cache.setSize(order, size)
    }

    /// `stackcacherelease`: gives stacks back to the global pool until the
    /// cache holds half its capacity.
    @inline(never)
    static func stackcacheRelease(_ c: UnsafeMutablePointer<StackThread>, _ order: Int) {
        let pool = pools[order]
        var x = c.pointee.cache.head(order)
        var size = c.pointee.cache.sizeOf(order)
        pool.mu.withLock { p in
            while size > StackLayout.stackCacheSize / 2 {
                let y = stackWord(x).pointee
                pool.poolFree(&p, x, heap: heap)
                x = y
                size -= pool.elemSize
            }
        }
        c.pointee.cache.setHead(order, x)
        c.pointee.cache.setSize(order, size)
    }

    /// `stackcache_clear`: empties a cache into the pools.
    static func stackcacheClear(_ c: UnsafeMutablePointer<StackThread>) {
        for order in 0..<StackLayout.numStackOrders {
            let pool = pools[order]
            pool.mu.withLock { p in
                var x = c.pointee.cache.head(order)
                while x != 0 {
                    let y = stackWord(x).pointee
                    pool.poolFree(&p, x, heap: heap)
                    x = y
                }
            }
            c.pointee.cache.setHead(order, 0)
            c.pointee.cache.setSize(order, 0)
        }
    }

    /// Empties the calling thread's cache into the global pools.
    public static func flushThreadCache() {
        stackcacheClear(currentThread())
    }

    /// `freeStackSpans` (end of GC in Go): returns all memory the heap keeps
    /// for reuse to the system. Spans still in use stay.
    public static func freeStackSpans() {
        heap.releaseFree()
    }

    /// Bytes of stacks in this thread's cache, per order.
    public static func threadCacheBytes() -> [Int] {
        let c = currentThread()
        return (0..<StackLayout.numStackOrders).map { c.pointee.cache.sizeOf($0) }
    }

    /// A snapshot of the pools (takes every pool lock in turn).
    public static func snapshot() -> StackAllocatorStats {
        var st = StackAllocatorStats(heapBytes: heap.mapped, spans: [], nonFullSpans: [], allocatedFromSpans: [])
        for pool in pools {
            pool.mu.withLock { p in
                st.spans.append(p.spans.count)
                st.nonFullSpans.append(p.nonFull.count)
                st.allocatedFromSpans.append(p.spans.values.reduce(0) { $0 + $1.allocCount })
            }
        }
        return st
    }

    /// Checks the pool invariants (span lists, free-list lengths) and this
    /// thread's cache; stops with a fatal error on a violation.
    public static func checkInvariants() {
        for pool in pools {
            let per = StackLayout.stackCacheSize / pool.elemSize
            pool.mu.withLock { p in
                for (i, s) in p.nonFull.enumerated() where s.listIndex != i {
                    goFatal("stack pool: bad list index")
                }
                for (base, s) in p.spans {
                    if s.base != base { goFatal("stack pool: span keyed wrongly") }
                    var nfree = 0
                    var x = s.manualFreeList
                    while x != 0 {
                        if x < base || x >= base + UInt(StackLayout.stackCacheSize) || (x - base) % UInt(pool.elemSize) != 0 {
                            goFatal("stack pool: free stack outside its span")
                        }
                        nfree += 1
                        x = stackWord(x).pointee
                    }
                    if nfree + s.allocCount != per { goFatal("stack pool: span count mismatch") }
                    if (nfree > 0) != (s.listIndex >= 0) { goFatal("stack pool: non-full list mismatch") }
                }
            }
        }
        let c = currentThread()
        for order in 0..<StackLayout.numStackOrders {
            var n = 0
            var x = c.pointee.cache.head(order)
            while x != 0 { n += 1; x = stackWord(x).pointee }
            if n * (StackLayout.fixedStack << order) != c.pointee.cache.sizeOf(order) {
                goFatal("stack cache: size does not match its list")
            }
        }
    }
}

extension StackCacheLists {
    @inline(__always) func head(_ o: Int) -> UInt {
        switch o { case 0: list.0; case 1: list.1; case 2: list.2; default: list.3 }
    }
    @inline(__always) mutating func setHead(_ o: Int, _ v: UInt) {
        switch o { case 0: list.0 = v; case 1: list.1 = v; case 2: list.2 = v; default: list.3 = v }
    }
    @inline(__always) func sizeOf(_ o: Int) -> Int {
        switch o { case 0: size.0; case 1: size.1; case 2: size.2; default: size.3 }
    }
    @inline(__always) mutating func setSize(_ o: Int, _ v: Int) {
        switch o { case 0: size.0 = v; case 1: size.1 = v; case 2: size.2 = v; default: size.3 = v }
    }
    @inline(__always) mutating func addSize(_ o: Int, _ d: Int) { setSize(o, sizeOf(o) + d) }
}
