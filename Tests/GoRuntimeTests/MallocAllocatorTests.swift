// The allocator: alignment, tiny packing, large objects, memory going back
// to the heap, statistics, misuse, and a two-thread randomized stress.

import Testing
import Synchronization
@testable import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex, shareable with escaping closures.
/// (Synchronization.Mutex's futex lock is invisible to ThreadSanitizer,
/// which then reports the guarded value as raced; pthread_mutex is not.)
final class MallocLocked<T>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: T
    init(_ value: T) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}

/// A shareable counter.
final class MallocCounter: @unchecked Sendable {
    let value = Atomic<Int>(0)
}

/// Largest power of two dividing `n`, capped at 8192.
func mallocAlignment(_ n: Int) -> Int { min(n & -n, 8192) }

@Suite("Malloc allocator")
struct MallocAllocatorTests {
    @Test func everyClassIsAlignedAndDisjoint() {
        let a = Allocator()
        for c in 1..<68 {
            let size = Allocator.classSizes[c]
            for noscan in [false, true] where !(noscan && size < 16) {
                // Request the smallest size of the class: still gets class c.
                let request = Allocator.classSizes[c - 1] + 1
                var ptrs: [UInt] = []
                let count = max(3, 2 * 8192 * Allocator.classPages[c] / size + 1)  // crosses a span
                for _ in 0..<count {
                    let p = a.allocate(size: request, noscan: noscan)
                    let addr = UInt(bitPattern: p)
                    #expect(addr % UInt(mallocAlignment(size)) == 0, "class \(c) misaligned")
                    memset(p, Int32(c), request)
                    ptrs.append(addr)
                }
                ptrs.sort()
                for (x, y) in zip(ptrs, ptrs.dropFirst()) where y - x < UInt(size) {
                    Issue.record("class \(c): objects \(x) and \(y) overlap")
                }
                for p in ptrs { a.free(UnsafeMutableRawPointer(bitPattern: p)!) }
                a.checkInvariants()
            }
        }
        a.flushCurrentThreadCache()
        a.checkInvariants()
        #expect(a.statistics().spansInUse == 0)
        #expect(a.statistics().pagesInUse == 0)
    }

    @Test func tinyObjectsArePackedWithGoAlignment() {
        let a = Allocator()
        let p4 = UInt(bitPattern: a.allocate(size: 4))
        let p1 = UInt(bitPattern: a.allocate(size: 1))
        let p2 = UInt(bitPattern: a.allocate(size: 2))   // aligned to 2
        let p8 = UInt(bitPattern: a.allocate(size: 8))   // aligned to 8
        #expect(p4 % 16 == 0)
        #expect(p1 == p4 + 4)
        #expect(p2 == p4 + 6)
        #expect(p8 == p4 + 8)
        // The block is full: a new one starts.
        let q = UInt(bitPattern: a.allocate(size: 12))
        #expect(q % 16 == 0 && q != p4)
        let q2 = UInt(bitPattern: a.allocate(size: 3))
        #expect(q2 == q + 12)
        // A request that does not fit the current block's rest (4 bytes
        // used... 15 > 1 left) gets a block of its own; the current block
        // stays, since the new one would have less room left.
        let r = UInt(bitPattern: a.allocate(size: 15))
        #expect(r % 16 == 0 && r != q)
        let q3 = UInt(bitPattern: a.allocate(size: 1))
        #expect(q3 == q + 15)
        var s = a.statistics()
        #expect(s.tinyBlocks == 3)
        #expect(s.bytesRequested == 4 + 1 + 2 + 8 + 12 + 3 + 15 + 1)
        // Free every member: all blocks go back once retired.
        for p in [p4, p1, p2, p8, q, q2, r, q3] { a.free(UnsafeMutableRawPointer(bitPattern: p)!) }
        a.flushCurrentThreadCache()
        a.checkInvariants()
        s = a.statistics()
        #expect(s.spansInUse == 0)
        #expect(s.bytesHandedOut == 3 * 16)
    }

    @Test func tinyBlockOutlivesCurrencyUntilLastMemberFreed() {
        let a = Allocator()
        let x = a.allocate(size: 8)
        let y = a.allocate(size: 8)
        a.free(x)
        a.flushCurrentThreadCache()   // block retired with one member live
        #expect(a.statistics().spansInUse == 1)
        a.checkInvariants()
        a.free(y)                     // last member: block freed, span empties
        #expect(a.statistics().spansInUse == 0)
        a.checkInvariants()
    }

    @Test func tinyMembersAndOrdinaryObjectsFreedByAnotherThread() {
        let a = Allocator()
        let x = UInt(bitPattern: a.allocate(size: 4))
        let y = a.allocate(size: 4)                      // same block as x
        let z = UInt(bitPattern: a.allocate(size: 16))   // ordinary object, same span class
        #expect(UInt(bitPattern: y) == x + 4)
        // Another thread frees x and z while this thread's mcache holds
        // the span: both are recorded for the owner.
        SyncTestThreads.run(1) { _ in
            a.free(UnsafeMutableRawPointer(bitPattern: x)!)
            a.free(UnsafeMutableRawPointer(bitPattern: z)!)
        }
        #expect(a.statistics().spansInUse == 1)
        a.free(y)
        a.flushCurrentThreadCache()   // retire the block, fold the remote changes, sweep
        a.checkInvariants()
        #expect(a.statistics().spansInUse == 0)
        // And with the span held by nobody: the remote free applies directly.
        let p = UInt(bitPattern: a.allocate(size: 8))
        _ = a.allocate(size: 8)  // keeps the block alive below
        a.flushCurrentThreadCache()
        SyncTestThreads.run(1) { _ in a.free(UnsafeMutableRawPointer(bitPattern: p)!) }
        #expect(a.statistics().spansInUse == 1)
        a.free(UnsafeMutableRawPointer(bitPattern: p + 8)!)
        #expect(a.statistics().spansInUse == 0)
        a.checkInvariants()
    }

    @Test func largeObjectsGetTheirOwnPages() {
        let a = Allocator()
        let sizes = [32769, 65536, 100_000, 1 << 20, 70 << 20]  // the last spans two arenas
        var ptrs: [UnsafeMutableRawPointer] = []
        for size in sizes {
            let p = a.allocate(size: size)
            #expect(UInt(bitPattern: p) % 8192 == 0)
            memset(p, 0x5a, size)
            ptrs.append(p)
        }
        var s = a.statistics()
        #expect(s.largeAllocations == sizes.count)
        #expect(s.pagesInUse == sizes.map { ($0 + 8191) / 8192 }.reduce(0, +))
        #expect(s.bytesHandedOut - s.bytesRequested == sizes.map { ($0 + 8191) / 8192 * 8192 - $0 }.reduce(0, +))
        a.checkInvariants()
        for p in ptrs { a.free(p) }
        s = a.statistics()
        #expect(s.spansInUse == 0 && s.pagesInUse == 0)
        // Freed pages are reused: the same request lands at the same address.
        let again = a.allocate(size: 65536)
        #expect(again == ptrs[0])
        a.free(again)
        a.checkInvariants()
    }

    @Test func emptySpansGoBackToTheHeap() {
        let a = Allocator()
        var ptrs: [UnsafeMutableRawPointer] = []
        for _ in 0..<(128 * 10) { ptrs.append(a.allocate(size: 64, noscan: false)) }  // 10 spans of 128
        var s = a.statistics()
        #expect(s.spansInUse == 10)
        #expect(s.mcacheRefills == 10)
        #expect(s.bytesRequested == 64 * 1280 && s.internalWaste == 0)
        // Free all but one object of the first span.
        for p in ptrs.dropFirst() { a.free(p) }
        a.checkInvariants()
        a.flushCurrentThreadCache()
        s = a.statistics()
        #expect(s.spansInUse == 1)
        a.checkInvariants()
        a.free(ptrs[0])   // uncached now: goes through mcentral, span freed
        s = a.statistics()
        #expect(s.spansInUse == 0 && s.pagesInUse == 0)
        a.checkInvariants()
    }

    @Test func freedSlotsAreReusedAfterSweep() {
        let a = Allocator()
        let n = 8192 / 48   // one span of class 5 (48 bytes): 170 objects
        var first: [UInt] = []
        for _ in 0..<n { first.append(UInt(bitPattern: a.allocate(size: 40, noscan: false))) }
        for p in first { a.free(UnsafeMutableRawPointer(bitPattern: p)!) }
        // The span is exhausted: the next allocation refills, which sweeps
        // the span and hands the same slots out again.
        var second: [UInt] = []
        for _ in 0..<n { second.append(UInt(bitPattern: a.allocate(size: 40, noscan: false))) }
        #expect(Set(first) == Set(second))
        #expect(a.statistics().spansInUse == 1)
        a.checkInvariants()
    }

    @Test func internalWasteIsClassSizeMinusRequest() {
        let a = Allocator()
        for size in [17, 33, 100, 1000, 1025, 20000] {
            a.free(a.allocate(size: size, noscan: false))
        }
        let s = a.statistics()
        let expected = [17, 33, 100, 1000, 1025, 20000].map { Allocator.classSizes[Allocator.sizeClass(forSize: $0)] - $0 }
        #expect(s.internalWaste == expected.reduce(0, +))
    }

    @Test func threadExitFlushesItsCache() {
        let a = Allocator()
        let box = MallocLocked<[UInt]>([])
        SyncTestThreads.run(1) { _ in
            var mine: [UInt] = []
            for _ in 0..<100 { mine.append(UInt(bitPattern: a.allocate(size: 32, noscan: false))) }
            box.withLock { $0 = mine }
        }
        // The thread is gone: its span went back to mcentral (full list
        // is not possible, 100 < 256: partial), and its counters arrived.
        let s = a.statistics()
        #expect(s.spansInUse == 1)
        #expect(s.bytesRequested == 3200)
        a.checkInvariants()
        for p in box.withLock({ $0 }) { a.free(UnsafeMutableRawPointer(bitPattern: p)!) }
        #expect(a.statistics().spansInUse == 0)
        a.checkInvariants()
    }

    @Test func doubleFreeIsFatal() async {
        await #expect(processExitsWith: .failure) {
            let a = Allocator()
            let p = a.allocate(size: 64, noscan: false)
            a.free(p)
            a.free(p)
        }
    }

    @Test func foreignPointerIsFatal() async {
        await #expect(processExitsWith: .failure) {
            let a = Allocator()
            var x = 0
            withUnsafeMutablePointer(to: &x) { a.free(UnsafeMutableRawPointer($0)) }
        }
    }
}

// MARK: - Stress

/// A live block in the stress test.
struct MallocBlock: Sendable {
    var addr: UInt
    var size: Int
    var fill: UInt8
}

/// Writes `fill` over the block.
func mallocPaint(_ b: MallocBlock) {
    memset(UnsafeMutableRawPointer(bitPattern: b.addr)!, Int32(b.fill), b.size)
}

/// True if the block still holds its pattern.
func mallocPatternIntact(_ b: MallocBlock, _ reference: UnsafeRawPointer) -> Bool {
    memcmp(UnsafeRawPointer(bitPattern: b.addr)!, reference + Int(b.fill) * mallocMaxStressSize, b.size) == 0
}

let mallocMaxStressSize = 40_000

@Suite("Malloc stress")
struct MallocStressTests {
    /// Two threads allocate and free at random (tiny, small, large, scan
    /// and noscan), paint every block, hand some blocks to the other thread
    /// to free, and check every pattern before freeing; between rounds the
    /// threads exit and all live blocks are checked for overlap.
    @Test func twoThreadsRandomAllocateFree() {
        let a = Allocator()
        // reference[v * max ..< (v+1) * max] is filled with byte v.
        let reference = UnsafeMutableRawPointer.allocate(byteCount: 256 * mallocMaxStressSize, alignment: 16)
        defer { reference.deallocate() }
        for v in 0..<256 { memset(reference + v * mallocMaxStressSize, Int32(v), mallocMaxStressSize) }
        let refBits = UInt(bitPattern: reference)

        let rounds = 4
        let opsPerThreadPerRound = 150_000
        // Blocks passed between the threads, per receiver.
        let mailboxes = [MallocLocked<[MallocBlock]>([]), MallocLocked<[MallocBlock]>([])]
        let live = [MallocLocked<[MallocBlock]>([]), MallocLocked<[MallocBlock]>([])]
        let failures = MallocCounter()
        let totalOps = MallocCounter()

        for round in 0..<rounds {
            SyncTestThreads.run(2) { t in
                var rng = SplitMix64(state: UInt64(round * 2 + t + 1))
                var mine = live[t].withLock { $0 }
                var ops = 0
                func release(_ b: MallocBlock) {
                    if !mallocPatternIntact(b, UnsafeRawPointer(bitPattern: refBits)!) { failures.value.add(1, ordering: .relaxed) }
                    a.free(UnsafeMutableRawPointer(bitPattern: b.addr)!)
                    ops += 1
                }
                for k in 0..<opsPerThreadPerRound {
                    let r = rng.next()
                    if mine.count < 3000 && (r & 3 != 0 || mine.count < 50) {
                        // Size mix: mostly small, some tiny, rare large.
                        let pick = (r >> 8) % 100
                        let size: Int
                        if pick < 30 { size = 1 + Int((r >> 16) % 15) }
                        else if pick < 85 { size = 1 + Int((r >> 16) % 512) }
                        else if pick < 99 { size = 513 + Int((r >> 16) % 32256) }
                        else { size = 32769 + Int((r >> 16) % 7000) }
                        let noscan = (r >> 40) & 1 == 0
                        let p = a.allocate(size: size, noscan: noscan)
                        let b = MallocBlock(addr: UInt(bitPattern: p), size: size, fill: UInt8(truncatingIfNeeded: r >> 48))
                        mallocPaint(b)
                        mine.append(b)
                        ops += 1
                    } else if !mine.isEmpty {
                        let j = Int((r >> 8) % UInt64(mine.count))
                        let b = mine[j]
                        mine[j] = mine[mine.count - 1]
                        mine.removeLast()
                        if (r >> 32) % 4 == 0 {
                            mailboxes[1 - t].withLock { $0.append(b) }  // the other thread frees it
                        } else {
                            release(b)
                        }
                    }
                    if k % 256 == 0 {
                        for b in mailboxes[t].withLock({ box in defer { box.removeAll() }; return box }) { release(b) }
                    }
                }
                live[t].withLock { $0 = mine }
                totalOps.value.add(ops, ordering: .relaxed)
            }
            // Quiescent: both threads exited and flushed their mcaches.
            var all: [MallocBlock] = []
            for box in live + mailboxes { all += box.withLock { $0 } }
            all.sort { $0.addr < $1.addr }
            for (x, y) in zip(all, all.dropFirst()) where x.addr + UInt(x.size) > y.addr {
                Issue.record("live blocks overlap: \(x) \(y)")
                break
            }
            for b in all where !mallocPatternIntact(b, UnsafeRawPointer(bitPattern: refBits)!) {
                Issue.record("pattern disturbed: \(b)")
                break
            }
            a.checkInvariants()
        }
        #expect(failures.value.load(ordering: .relaxed) == 0)
        #expect(totalOps.value.load(ordering: .relaxed) > 1_000_000)
        // Free everything; the heap must be empty again.
        var rest: [MallocBlock] = []
        for box in live + mailboxes { rest += box.withLock { $0 } }
        for b in rest { a.free(UnsafeMutableRawPointer(bitPattern: b.addr)!) }
        a.flushCurrentThreadCache()
        a.checkInvariants()
        #expect(a.statistics().spansInUse == 0)
    }
}
