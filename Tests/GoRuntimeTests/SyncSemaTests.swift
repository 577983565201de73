// Tests of the runtime/sema.go port: counting, FIFO wake order, LIFO
// re-queueing, hand-off, and the treap with several addresses per root.

import Testing
@testable import GoRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Semaphore words at stable addresses, `count` of them 8 bytes apart.
final class SemaWords: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt32>
    let stride: Int
    init(count: Int, strideBytes: Int = 8) {
        stride = strideBytes / 4
        base = syncAllocAligned(count * strideBytes).assumingMemoryBound(to: UInt32.self)
    }
    deinit { syncFreeAligned(UnsafeMutableRawPointer(base)) }
    subscript(_ i: Int) -> UnsafeMutablePointer<UInt32> { base + i * stride }
    func value(_ i: Int) -> UInt32 { UnsafeAtomic32(self[i]).load() }
}

extension SyncTests {
@Suite("runtime semaphore port")
struct SemaPort {
    @Test("acquire takes units; release with no waiters just counts")
    func counting() {
        let w = SemaWords(count: 1)
        semrelease(w[0], handoff: false)
        semrelease(w[0], handoff: false)
        #expect(w.value(0) == 2)
        semacquire(w[0], lifo: false)
        semacquire(w[0], lifo: false)
        #expect(w.value(0) == 0)
        #expect(!cansemacquire(w[0]))
    }

    /// Queues `n` threads on `addr` one by one (each really queued before
    /// the next starts); each appends its index to `order` when it returns.
    private func queueWaiters(_ addr: UnsafeMutablePointer<UInt32>, _ n: Int, lifo: Bool,
                              order: SyncBox<[Int]>, orderLock: Mutex) -> [pthread_t] {
        nonisolated(unsafe) let addr = addr
        var threads: [pthread_t] = []
        for i in 0..<n {
            threads.append(SyncTestThreads.spawn {
                semacquire(addr, lifo: lifo)
                orderLock.lock(); order.value.append(i); orderLock.unlock()
            })
            #expect(SyncTestThreads.waitUntil { semaQueuedWaiters(addr) == i + 1 })
        }
        return threads
    }

    @Test("waiters are released in FIFO order")
    func fifo() {
        let w = SemaWords(count: 1)
        let order = SyncBox([Int]()), lock = Mutex()
        let threads = queueWaiters(w[0], 4, lifo: false, order: order, orderLock: lock)
        for k in 1...4 {
            semrelease(w[0], handoff: false)
            #expect(SyncTestThreads.waitUntil { lock.lock(); defer { lock.unlock() }; return order.value.count == k })
        }
        threads.forEach(SyncTestThreads.join)
        #expect(order.value == [0, 1, 2, 3])
        #expect(w.value(0) == 0)
        #expect(semaQueuedWaiters(w[0]) == 0)
        SemaTable.checkInvariants()
    }

    @Test("lifo waiters go to the head of the queue")
    func lifo() {
        let w = SemaWords(count: 1)
        let order = SyncBox([Int]()), lock = Mutex()
        // 0 and 1 queue FIFO, then 2 queues LIFO: expected order 2, 0, 1.
        var threads = queueWaiters(w[0], 2, lifo: false, order: order, orderLock: lock)
        threads.append(SyncTestThreads.spawn {
            semacquire(w[0], lifo: true)
            lock.lock(); order.value.append(2); lock.unlock()
        })
        #expect(SyncTestThreads.waitUntil { semaQueuedWaiters(w[0]) == 3 })
        SemaTable.checkInvariants()
        for k in 1...3 {
            semrelease(w[0], handoff: false)
            #expect(SyncTestThreads.waitUntil { lock.lock(); defer { lock.unlock() }; return order.value.count == k })
        }
        threads.forEach(SyncTestThreads.join)
        #expect(order.value == [2, 0, 1])
        #expect(semaQueuedWaiters(w[0]) == 0)
        SemaTable.checkInvariants()
    }

    @Test("hand-off gives the released unit to the dequeued waiter")
    func handoff() {
        let w = SemaWords(count: 1)
        let before = SyncEvents.snapshot()
        let order = SyncBox([Int]()), lock = Mutex()
        let threads = queueWaiters(w[0], 1, lifo: false, order: order, orderLock: lock)
        semrelease(w[0], handoff: true)
        // The releaser took the unit back out for the waiter: the counter
        // stays 0 even before the waiter runs.
        #expect(w.value(0) == 0)
        threads.forEach(SyncTestThreads.join)
        #expect(order.value == [0])
        let d = SyncEvents.snapshot() - before
        #expect(d[.handoffs] >= 1)
        #expect(d[.semaReadies] >= 1)
    }

    @Test("many addresses in one root: treap stays ordered and heap-ordered")
    func treapManyAddresses() {
        // Words semTabSize * 8 bytes apart all map to the same root.
        let n = 12
        let w = SemaWords(count: n, strideBytes: semTabSize * 8)
        let roots = Set((0..<n).map { (UInt(bitPattern: w[$0]) >> 3) % UInt(semTabSize) })
        #expect(roots.count == 1)
        let done = SyncBox(0), lock = Mutex()
        func queued() -> Int { (0..<n).reduce(0) { $0 + semaQueuedWaiters(w[$1]) } }
        var threads: [pthread_t] = []
        // Two waiters per address, addresses in a shuffled order.
        let addrs = (0..<n).map { ($0 * 7) % n } + (0..<n).map { ($0 * 5) % n }
        for (k, a) in addrs.enumerated() {
            threads.append(SyncTestThreads.spawn {
                semacquire(w[a], lifo: false)
                lock.lock(); done.value += 1; lock.unlock()
            })
            #expect(SyncTestThreads.waitUntil { SemaTable.checkInvariants(); return queued() == k + 1 })
        }
        for (k, a) in addrs.reversed().enumerated() {
            semrelease(w[a], handoff: false)
            #expect(SyncTestThreads.waitUntil { lock.lock(); defer { lock.unlock() }; return done.value == k + 1 })
            SemaTable.checkInvariants()
            #expect(queued() == addrs.count - k - 1)
        }
        threads.forEach(SyncTestThreads.join)
        #expect((0..<n).allSatisfy { w.value($0) == 0 })
    }

    @Test("runtime lock: mutual exclusion under contention")
    func runtimeLock() {
        let key = syncAllocAligned(8).assumingMemoryBound(to: UInt32.self)
        defer { syncFreeAligned(UnsafeMutableRawPointer(key)) }
        let l = RuntimeLock(key)
        let counter = SyncBox(0)
        nonisolated(unsafe) let k = key
        SyncTestThreads.run(4) { _ in
            let l = RuntimeLock(k)
            for _ in 0..<10_000 { l.lock(); counter.value += 1; l.unlock() }
        }
        #expect(counter.value == 40_000)
        #expect(UnsafeAtomic32(key).load() == runtimeMutexUnlocked)
        l.lock(); l.unlock()
    }
}
}
