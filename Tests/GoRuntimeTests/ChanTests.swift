import Foundation
import Testing
@testable import GoRuntime

/// Runs `body(i)` on `n` new threads; returns a join function.
func spawnThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) -> () -> Void {
    let done = DispatchSemaphore(value: 0)
    for i in 0..<n {
        let t = Thread { body(i); done.signal() }
        t.stackSize = 1 << 20
        t.start()
    }
    return { for _ in 0..<n { done.wait() } }
}

/// Polls `cond` (up to 10 s) so a test can wait until threads have parked.
func waitUntil(_ cond: () -> Bool) -> Bool {
    let deadline = Machine.nanotime() + 10_000_000_000
    while !cond() {
        if Machine.nanotime() > deadline { return false }
        usleep(200)
    }
    return true
}

/// Thread-safe collector for test results.
final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ x: T) { lock.lock(); items.append(x); lock.unlock() }
    func append(contentsOf xs: [T]) { lock.lock(); items.append(contentsOf: xs); lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct ChanBasicTests {
    @Test func countCapacityAndFIFO() throws {
        let c = Channel<Int>(capacity: 3)
        #expect(c.capacity == 3 && c.count == 0)
        try c.send(1); c.checkInvariants()
        try c.send(2); c.checkInvariants()
        #expect(c.count == 2)
        #expect(c.receive() == 1); c.checkInvariants()
        try c.send(3); try c.send(4); c.checkInvariants()   // wraps around
        #expect(c.count == 3)
        #expect(try c.trySend(5) == false)
        #expect(c.receive() == 2)
        #expect(c.receive() == 3)
        #expect(c.receive() == 4)
        #expect(c.count == 0)
        #expect(c.tryReceive() == .wouldBlock)
        c.checkInvariants()
        let u = Channel<String>()
        #expect(u.capacity == 0 && u.count == 0)
        #expect(try u.trySend("x") == false)
        #expect(u.tryReceive() == .wouldBlock)
        u.checkInvariants()
    }

    @Test func closeDrainsThenReportsClosed() throws {
        let c = Channel<String>(capacity: 4)
        try c.send("a"); try c.send("b")
        try c.close()
        c.checkInvariants()
        #expect(c.isClosed)
        #expect(throws: ChannelError.sendOnClosedChannel) { try c.send("c") }
        #expect(throws: ChannelError.sendOnClosedChannel) { try c.trySend("c") }
        #expect(throws: ChannelError.closeOfClosedChannel) { try c.close() }
        #expect(c.tryReceive() == .value("a"))
        #expect(c.receive() == "b")
        #expect(c.receive() == nil)
        #expect(c.tryReceive() == .closed)
        c.checkInvariants()
    }

    @Test func iterationEndsAtCloseAndDrain() throws {
        let c = Channel<Int>(capacity: 10)
        for i in 0..<10 { try c.send(i) }
        try c.close()
        #expect(Array(c) == Array(0..<10))
    }

    @Test func bufferedElementsAreReleased() throws {
        final class Token { static let live = Atomic_(0); init() { Token.live.add(1) }; deinit { Token.live.add(-1) } }
        do {
            let c = Channel<Token>(capacity: 4)
            try c.send(Token()); try c.send(Token()); try c.send(Token())
            _ = c.receive()
            #expect(Token.live.value == 2)
        }
        #expect(Token.live.value == 0)
    }

    @Test func unbufferedHandOffAcrossThreads() throws {
        let c = Channel<Int>()
        let join = spawnThreads(1) { _ in for i in 0..<500 { try! c.send(i) } }
        for i in 0..<500 { #expect(c.receive() == i) }
        join()
        c.checkInvariants()
        #expect(c.waitingForTesting == (0, 0))
    }

    @Test func fullBufferReceiveTakesHeadAndSenderGoesToTail() throws {
        let c = Channel<Int>(capacity: 2)
        try c.send(1); try c.send(2)
        let join = spawnThreads(1) { _ in try! c.send(3) }
        #expect(waitUntil { c.waitingForTesting.senders == 1 })
        c.checkInvariants()
        let before = ChannelEvents.snapshot()
        #expect(c.receive() == 1)
        #expect((ChannelEvents.snapshot() - before).handoffs >= 1)
        join()
        #expect(c.count == 2)
        c.checkInvariants()
        #expect(c.receive() == 2)
        #expect(c.receive() == 3)
    }

    @Test func sendHandsStraightToParkedReceiver() throws {
        let c = Channel<Int>(capacity: 4)
        let got = Collected<Int?>()
        let join = spawnThreads(1) { _ in got.append(c.receive()) }
        #expect(waitUntil { c.waitingForTesting.receivers == 1 })
        try c.send(42)
        join()
        #expect(got.all == [42])
        #expect(c.count == 0)   // never went through the buffer
        c.checkInvariants()
    }
}

/// Tiny atomic counter for the tests (avoids importing Synchronization here).
final class Atomic_: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int
    init(_ v: Int) { self.v = v }
    func add(_ d: Int) { lock.lock(); v += d; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return v }
}

@Suite struct ChanCloseTests {
    @Test func closeWakesAllParkedReceivers() throws {
        let c = Channel<Int>()
        let got = Collected<Int?>()
        let join = spawnThreads(4) { _ in got.append(c.receive()) }
        #expect(waitUntil { c.waitingForTesting.receivers == 4 })
        c.checkInvariants()
        try c.close()
        join()
        #expect(got.all.count == 4 && got.all.allSatisfy { $0 == nil })
        c.checkInvariants()
    }

    @Test func closeWakesAllParkedSendersWithAnError() throws {
        let c = Channel<Int>(capacity: 1)
        try c.send(0)
        let errors = Collected<ChannelError?>()
        let join = spawnThreads(3) { i in
            do { try c.send(i + 1); errors.append(nil) } catch { errors.append(error as? ChannelError) }
        }
        #expect(waitUntil { c.waitingForTesting.senders == 3 })
        c.checkInvariants()
        try c.close()
        join()
        #expect(errors.all.count == 3 && errors.all.allSatisfy { $0 == .sendOnClosedChannel })
        #expect(c.receive() == 0)
        #expect(c.receive() == nil)
    }

    @Test func runtimeLockUnlockOfUnlockedIsFatal() async {
        await #expect(processExitsWith: .failure) {
            let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
            w.pointee = 0
            RuntimeLock(w).unlock()
        }
    }

    @Test func runtimeLockExcludes() {
        let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        w.pointee = 0
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.pointee = 0
        nonisolated(unsafe) let (uw, uc) = (w, counter)
        let join = spawnThreads(3) { _ in
            for _ in 0..<20_000 { RuntimeLock(uw).lock(); uc.pointee += 1; RuntimeLock(uw).unlock() }
        }
        join()
        #expect(counter.pointee == 60_000)
        #expect(w.pointee == runtimeMutexUnlocked)
    }
}

@Suite struct ChanStressTests {
    /// Several producers and consumers: nothing lost or duplicated, and
    /// each consumer sees each producer's values in order.
    @Test(arguments: [0, 1, 16])
    func manyProducersManyConsumers(capacity: Int) throws {
        let producers = 3, consumers = 3, perProducer = 3000
        let c = Channel<Int>(capacity: capacity)
        let seen = Collected<[Int]>()
        let joinConsumers = spawnThreads(consumers) { _ in
            var mine: [Int] = []
            for v in c { mine.append(v) }
            seen.append(mine)
        }
        let joinProducers = spawnThreads(producers) { p in
            for i in 0..<perProducer { try! c.send(p * 1_000_000 + i) }
        }
        joinProducers()
        try c.close()
        joinConsumers()
        c.checkInvariants()
        let all = seen.all
        #expect(all.flatMap { $0 }.sorted() == (0..<producers).flatMap { p in (0..<perProducer).map { p * 1_000_000 + $0 } })
        for mine in all {
            var last = [Int](repeating: -1, count: producers)
            for v in mine {
                let p = v / 1_000_000, i = v % 1_000_000
                #expect(i > last[p], "producer \(p) out of order")
                last[p] = i
            }
        }
    }
}
