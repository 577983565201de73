// mcentral: the shared pool of spans of one span class. Mirrors
// runtime/mcentral.go (cacheSpan, uncacheSpan, grow).
//
// Design. Go's mcentral keeps spans in partial and full sets, each split
// into swept and unswept halves by the sweep generation. Without a
// collector there is no sweep generation: a span is swept exactly when it
// comes back from an mcache (uncacheSpan), so there are two lists, partial
// (has free slots) and full. cacheSpan hands the first partial span to an
// mcache, or a fresh span from the heap (grow). Explicit frees of objects
// in spans that no mcache holds (freeRemote) move a full span to partial
// and give an empty span's pages back to the heap, which is where Go's
// sweeper frees empty spans (mspan.sweep -> mheap.freeSpan).
//
// Locking: `lock` guards both lists, the list links of their spans, the
// `cachedBy` word of every span of this class (stores only), the alloc
// state of uncached spans and the remote-free bitmap of cached ones.
// Lock order: mcentral, then mheap.
//
// Invariants (checked by Allocator.checkInvariants): every span on
// `partial` has 0 < allocCount < nelems, every span on `full` has
// allocCount == nelems, neither holds a cached span, counts match lists.

import Synchronization

final class MCentral {
    /// Go's mcentral lock (runtime.mutex).
    let lock: RuntimeLock
    let spanclass: Int
    let npages: Int
    unowned let heap: MHeap
    /// Heads of the two lists; guarded by lock.
    var partial: UnsafeMutablePointer<MSpan>?
    var full: UnsafeMutablePointer<MSpan>?
    var partialCount = 0
    var fullCount = 0

    init(spanclass: Int, heap: MHeap) {
        lock = RuntimeLock.allocate()
        self.spanclass = spanclass
        self.npages = Int(classToAllocNPages[spanclass >> 1])
        self.heap = heap
    }

    deinit { lock.deallocate() }

    // MARK: Lists (lock held)

    private func push(_ s: UnsafeMutablePointer<MSpan>, _ which: SpanList) {
        s.list = which
        s.prev = nil
        if which == .partial {
            s.next = partial
            partial?.prev = s
            partial = s
            partialCount += 1
        } else {
            s.next = full
            full?.prev = s
            full = s
            fullCount += 1
        }
    }

    private func remove(_ s: UnsafeMutablePointer<MSpan>) {
        if let p = s.prev { p.next = s.next }
        else if s.list == .partial { partial = s.next }
        else { full = s.next }
        s.next?.prev = s.prev
        if s.list == .partial { partialCount -= 1 } else { fullCount -= 1 }
        s.list = .none
        s.next = nil
        s.prev = nil
    }

    // MARK: mcache traffic

    /// mcentral.go `cacheSpan`: a span with at least one free slot, now
    /// held by `cache`, its free-slot search reset to slot 0. Takes the
    /// mcentral lock (and the heap lock when it has to grow).
    func cacheSpan(for cache: UnsafeMutablePointer<MCache>) -> UnsafeMutablePointer<MSpan> {
        lock.lock()
        var s = partial
        if let p = s {
            remove(p)
        } else {
            // mcentral.grow: the heap lock is taken inside; a fresh span is
            // invisible to other threads until its first object is handed
            // out, so publishing it under our lock below is enough.
            lock.unlock()
            let n = heap.allocSpan(npages: npages, spanclass: spanclass)
            lock.lock()
            s = n
        }
        let span = s!
        // From here on frees by other threads go to remoteFreedBits.
        span.cachedByAtomic.pointee.store(UInt(bitPattern: cache), ordering: .relaxed)
        lock.unlock()
        // Owner-private from now: start the search at slot 0.
        span.freeindex = 0
        span.refillAllocCache(0)
        return span
    }

    /// mcentral.go `uncacheSpan`: `cache` gives the span back. It is swept
    /// (frees folded into allocBits) and put on partial or full, or given
    /// back to the heap when no object in it is live. Takes the mcentral
    /// lock. Returns true if the span's pages went back to the heap.
    @discardableResult
    func uncacheSpan(_ s: UnsafeMutablePointer<MSpan>) -> Bool {
        lock.lock()
        if spanclass == tinySpanClass { foldRemoteTinyDeltasLocked(s) }
        let live = s.sweep()
        s.cachedByAtomic.pointee.store(0, ordering: .relaxed)
        if live == 0 {
            lock.unlock()
            heap.freeSpan(s)
            return true
        }
        push(s, live < s.nelems ? .partial : .full)
        lock.unlock()
        return false
    }

    /// Free slot `i` of span `s` from a thread whose mcache does not hold
    /// `s` (the replacement for sweeping the slot). Takes the mcentral lock.
    func freeRemote(_ s: UnsafeMutablePointer<MSpan>, _ i: Int) {
        lock.lock()
        if s.state != .inUse { goFatal("free of object in a freed span") }
        let emptied = s.cachedByAtomic.pointee.load(ordering: .relaxed) != 0
            ? recordRemoteFreeLocked(s, i) : freeUncachedLocked(s, i)
        lock.unlock()
        if emptied { heap.freeSpan(s) }
    }

    /// Lock held, `s` held by another mcache: record the free; the owner
    /// folds it in at uncacheSpan, under this lock. Returns false.
    private func recordRemoteFreeLocked(_ s: UnsafeMutablePointer<MSpan>, _ i: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(i & 63)
        if s.remoteFreedBits[i >> 6] & bit != 0 { goFatal("double free of object") }
        s.remoteFreedBits[i >> 6] |= bit
        s.remoteFreedCount += 1
        return false
    }

    /// Lock held, `s` held by no mcache (allocBits exact): free slot `i`,
    /// moving the span from full to partial. Returns true if the span
    /// emptied: it is then off every list and the caller must give it to
    /// mheap.freeSpan after unlocking.
    private func freeUncachedLocked(_ s: UnsafeMutablePointer<MSpan>, _ i: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(i & 63)
        if s.allocBits[i >> 6] & bit == 0 { goFatal("double free or free of unallocated object") }
        s.allocBits[i >> 6] &= ~bit
        s.allocCount -= 1
        if s.allocCount == 0 {
            remove(s)
            return true
        }
        if s.list == .full {
            remove(s)
            push(s, .partial)
        }
        return false
    }

    /// A thread whose mcache does not hold `s` changes the counter of slot
    /// `i` of the tiny span class by `delta` (-1: a member is freed;
    /// +members: a block is retired). With `regularAddr` set the slot may
    /// also be an ordinary 16-byte object (counter 0), freed as such.
    /// Takes the mcentral lock.
    ///
    /// While another mcache holds `s` its owner updates the counters with
    /// plain (relaxed atomic) loads and stores, so this thread may only
    /// read them (to tell tiny blocks from ordinary objects: a live block's
    /// counter is never 0) and records its change in remoteTinyDeltas.
    func tinyAdjustRemote(_ s: UnsafeMutablePointer<MSpan>, _ i: Int, delta: Int, regularAddr: UInt?) {
        lock.lock()
        if s.state != .inUse { goFatal("free of object in a freed span") }
        let ref = s.tinyRef(i)
        let v = ref.pointee.load(ordering: .relaxed)
        var emptied = false
        let owned = s.cachedByAtomic.pointee.load(ordering: .relaxed) != 0
        if v == 0 {
            guard let addr = regularAddr else { goFatal("tiny block counter lost") }
            if s.startAddr + UInt(i * s.elemsize) != addr { goFatal("free of interior pointer 0x\(String(addr, radix: 16))") }
            emptied = owned ? recordRemoteFreeLocked(s, i) : freeUncachedLocked(s, i)
        } else if owned {
            s.remoteTinyDeltas[i] = s.remoteTinyDeltas[i] &+ UInt8(truncatingIfNeeded: delta)
        } else {
            let nv = v &+ UInt8(truncatingIfNeeded: delta)
            if nv == tinyFlag {
                ref.pointee.store(0, ordering: .relaxed)
                emptied = freeUncachedLocked(s, i)
            } else {
                ref.pointee.store(nv, ordering: .relaxed)
            }
        }
        lock.unlock()
        if emptied { heap.freeSpan(s) }
    }

    /// Lock held, called by the owner before sweeping a tiny-class span:
    /// apply other threads' counter changes; blocks whose last member went
    /// become remote frees of their slot.
    private func foldRemoteTinyDeltasLocked(_ s: UnsafeMutablePointer<MSpan>) {
        let deltas = s.remoteTinyDeltas
        let words = UnsafeMutableRawPointer(deltas).assumingMemoryBound(to: UInt64.self)
        for w in 0..<(s.nelems / 8) where words[w] != 0 {
            for i in (w * 8)..<(w * 8 + 8) where deltas[i] != 0 {
                let ref = s.tinyRef(i)
                let nv = ref.pointee.load(ordering: .relaxed) &+ deltas[i]
                deltas[i] = 0
                if nv == tinyFlag {
                    ref.pointee.store(0, ordering: .relaxed)
                    _ = recordRemoteFreeLocked(s, i)
                } else {
                    ref.pointee.store(nv, ordering: .relaxed)
                }
            }
        }
    }

    /// Check the list invariants; returns the spans on both lists.
    /// Takes the lock.
    func checkInvariants() -> Int {
        lock.lock()
        defer { lock.unlock() }
        var n = 0
        for (head, which, count) in [(partial, SpanList.partial, partialCount), (full, .full, fullCount)] {
            var k = 0
            var s = head
            while let p = s {
                precondition(p.list == which, "span on the wrong list")
                precondition(Int(p.spanclass) == spanclass, "span of another class on list")
                precondition(p.cachedByAtomic.pointee.load(ordering: .relaxed) == 0, "cached span on a list")
                precondition(p.freeindex == 0, "unswept span on a list")
                var bits = 0
                for w in 0..<spanBitmapWords {
                    bits += p.allocBits[w].nonzeroBitCount
                    precondition(p.freedBits[w] == 0 && p.remoteFreedBits[w] == 0, "unswept frees")
                }
                precondition(bits == p.allocCount, "allocCount != alloc bits")
                if which == .partial {
                    precondition(bits > 0 && bits < p.nelems, "partial span empty or full")
                } else {
                    precondition(bits == p.nelems, "full span has free slots")
                }
                k += 1
                s = p.next
            }
            precondition(k == count, "list count mismatch")
            n += k
        }
        return n
    }
}
