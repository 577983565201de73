import Foundation
import Testing
@testable import GoRuntime

@Suite struct ChanSelectTests {
    @Test func defaultRunsWhenNothingIsReady() throws {
        let a = Channel<Int>(), b = Channel<Int>(capacity: 1)
        try b.send(9)    // b is full: a send on it would block
        var ran = ""
        for _ in 0..<100 {
            let i = try select {
                $0.receive(a) { _ in ran += "a" }
                $0.send(b, 1) { ran += "b" }
                $0.default { ran += "d" }
            }
            #expect(i == -1)
        }
        #expect(ran == String(repeating: "d", count: 100))
        // One case + default takes the non-blocking path.
        #expect(try select { $0.receive(a) { _ in }; $0.default {} } == -1)
        a.checkInvariants(); b.checkInvariants()
        #expect(a.waitingForTesting == (0, 0))
    }

    // MARK: One case (the compiler's lowering: selectnbrecv/selectnbsend,
    // chanrecv1/chansend1)

    /// Runs `select { receive(c); default }` and reports what ran.
    private func receiveOrDefault(_ c: Channel<Int>, defaultFirst: Bool = false)
        throws -> (index: Int, handled: [Int?], defaults: Int)
    {
        var handled: [Int?] = []
        var defaults = 0
        let i = try select { s in
            if defaultFirst { s.default { defaults += 1 } }
            s.receive(c) { handled.append($0) }
            if !defaultFirst { s.default { defaults += 1 } }
        }
        return (i, handled, defaults)
    }

    @Test(arguments: [false, true])
    func oneReceivePlusDefault(defaultFirst: Bool) throws {
        // Empty, unbuffered and buffered: default, once.
        for c in [Channel<Int>(), Channel<Int>(capacity: 2)] {
            let r = try receiveOrDefault(c, defaultFirst: defaultFirst)
            #expect(r.index == -1 && r.handled.isEmpty && r.defaults == 1)
            c.checkInvariants()
        }
        // Ready: the handler, once, with the value; FIFO.
        let b = Channel<Int>(capacity: 2)
        try b.send(4); try b.send(5)
        var r = try receiveOrDefault(b, defaultFirst: defaultFirst)
        #expect(r.index == 0 && r.handled == [4] && r.defaults == 0)
        b.checkInvariants()
        // Closed with a value left: the value, then nil for good.
        try b.close()
        r = try receiveOrDefault(b, defaultFirst: defaultFirst)
        #expect(r.index == 0 && r.handled == [5] && r.defaults == 0)
        for _ in 0..<2 {
            r = try receiveOrDefault(b, defaultFirst: defaultFirst)
            #expect(r.index == 0 && r.handled == [nil] && r.defaults == 0)
        }
        b.checkInvariants()
        // A parked sender: taken (unbuffered hand-off).
        let u = Channel<Int>()
        let join = spawnThreads(1) { _ in try! u.send(8) }
        #expect(waitUntil { u.waitingForTesting.senders == 1 })
        r = try receiveOrDefault(u, defaultFirst: defaultFirst)
        join()
        #expect(r.index == 0 && r.handled == [8] && r.defaults == 0)
        u.checkInvariants()
    }

    @Test(arguments: [false, true])
    func oneSendPlusDefault(defaultFirst: Bool) throws {
        var evaluated = 0
        func value(_ v: Int) -> Int { evaluated += 1; return v }
        func sendOrDefault(_ c: Channel<Int>, _ v: Int) throws -> (Int, sent: Int, defaults: Int) {
            var sent = 0, defaults = 0
            let i = try select { s in
                if defaultFirst { s.default { defaults += 1 } }
                s.send(c, value(v)) { sent += 1 }
                if !defaultFirst { s.default { defaults += 1 } }
            }
            return (i, sent, defaults)
        }
        // Unbuffered, nobody waiting: default.
        let u = Channel<Int>()
        #expect(try sendOrDefault(u, 1) == (-1, 0, 1))
        #expect(evaluated == 1)
        // Room: sent, once.
        let b = Channel<Int>(capacity: 1)
        #expect(try sendOrDefault(b, 2) == (0, 1, 0))
        #expect(evaluated == 2 && b.count == 1)
        // Full: default, the buffer untouched.
        #expect(try sendOrDefault(b, 3) == (-1, 0, 1))
        #expect(evaluated == 3 && b.receive() == 2 && b.count == 0)
        b.checkInvariants()
        // Closed: throws; neither the handler nor default runs.
        try b.close()
        var sent = 0, defaults = 0
        #expect(throws: ChannelError.sendOnClosedChannel) {
            try select { s in
                if defaultFirst { s.default { defaults += 1 } }
                s.send(b, value(4)) { sent += 1 }
                if !defaultFirst { s.default { defaults += 1 } }
            }
        }
        #expect(sent == 0 && defaults == 0 && evaluated == 4)
        b.checkInvariants()
    }

    /// One case and no default is a plain blocking operation.
    @Test func oneCaseAloneBlocksThenCompletes() throws {
        let c = Channel<String>()
        let join = spawnThreads(1) { _ in
            _ = waitUntil { c.waitingForTesting.receivers == 1 }
            try! c.send("late")
        }
        var got: [String?] = []
        #expect(try select { $0.receive(c) { got.append($0) } } == 0)
        join()
        #expect(got == ["late"])

        let received = Collected<String?>()
        let join2 = spawnThreads(1) { _ in
            _ = waitUntil { c.waitingForTesting.senders == 1 }
            received.append(c.receive())
        }
        var sent = 0
        #expect(try select { $0.send(c, "back") { sent += 1 } } == 0)
        join2()
        #expect(sent == 1 && received.all == ["back"])

        // Close wakes a blocked one-case receive with nil.
        let join3 = spawnThreads(1) { _ in
            _ = waitUntil { c.waitingForTesting.receivers == 1 }
            try! c.close()
        }
        got = []
        #expect(try select { $0.receive(c) { got.append($0) } } == 0)
        join3()
        #expect(got == [nil])
        #expect(c.waitingForTesting == (0, 0))
        c.checkInvariants()
    }

    @Test func defaultAloneRunsOnce() throws {
        var defaults = 0
        #expect(try select { $0.default { defaults += 1 } } == -1)
        #expect(defaults == 1)
    }

    /// Send values are evaluated exactly once per select, however many
    /// passes the body gets.
    @Test func sendValuesEvaluatedOnce() throws {
        let a = Channel<Int>(capacity: 1), b = Channel<Int>(capacity: 1)
        var evaluated = 0
        func value(_ v: Int) -> Int { evaluated += 1; return v }
        let i = try select { s in
            s.send(a, value(1))
            s.send(b, value(2))
        }
        #expect(evaluated == 2)
        #expect((i == 0 && a.receive() == 1) || (i == 1 && b.receive() == 2))
    }

    @Test func bodyDeclaringDifferentCasesIsFatal() async {
        await #expect(processExitsWith: .failure) {
            let a = Channel<Int>(capacity: 1), b = Channel<Int>(capacity: 1)
            var pass = 0
            _ = try? select { s in
                pass += 1
                s.receive(a) { _ in }
                if pass > 1 { s.receive(b) { _ in } }
                s.default {}
            }
        }
    }

    @Test func fairBetweenTwoReadyCases() throws {
        let a = Channel<Int>(capacity: 1), b = Channel<Int>(capacity: 1)
        var counts = [0, 0]
        let rounds = 4000
        for _ in 0..<rounds {
            if a.count == 0 { try a.send(1) }
            if b.count == 0 { try b.send(2) }
            let i = try select {
                $0.receive(a) { v in #expect(v == 1) }
                $0.receive(b) { v in #expect(v == 2) }
            }
            counts[i] += 1
        }
        // Binomial(4000, 0.5): sd ~32; 45%..55% is > 6 sd.
        #expect(counts[0] > rounds * 45 / 100 && counts[1] > rounds * 45 / 100, "\(counts)")
    }

    @Test func seededPollOrderRepeats() throws {
        func run() throws -> [Int] {
            Select.seedRandom(12345)
            let a = Channel<Int>(capacity: 64), b = Channel<Int>(capacity: 64)
            for i in 0..<32 { try a.send(i); try b.send(i) }
            return try (0..<32).map { _ in try select { $0.receive(a) { _ in }; $0.receive(b) { _ in } } }
        }
        #expect(try run() == run())
        Select.seedRandom(0)
    }

    @Test func blocksUntilOneCaseIsReadyAndCleansUpTheOthers() throws {
        let a = Channel<Int>(), b = Channel<String>(), c = Channel<Int>(capacity: 1)
        try c.send(0)   // full: the send case blocks
        let join = spawnThreads(1) { _ in
            _ = waitUntil { b.waitingForTesting.receivers == 1 }
            try! b.send("hello")
        }
        var got: String? = nil
        let i = try select {
            $0.receive(a) { _ in Issue.record("a") }
            $0.receive(b) { got = $0 }
            $0.send(c, 1) { Issue.record("c") }
        }
        join()
        #expect(i == 1 && got == "hello")
        // The sudogs on a and c were dequeued in pass 3.
        #expect(a.waitingForTesting == (0, 0) && c.waitingForTesting == (0, 0))
        a.checkInvariants(); b.checkInvariants(); c.checkInvariants()
    }

    /// Go's one exception to "one of sendq/recvq is empty": a select parked
    /// as both sender and receiver on one unbuffered channel.
    @Test func selectParkedOnBothQueuesOfOneChannel() throws {
        let c = Channel<Int>()
        let got = Collected<Int?>()
        let join = spawnThreads(1) { _ in
            _ = waitUntil { c.waitingForTesting == (1, 1) }
            c.checkInvariants()
            got.append(c.receive())
        }
        var sent = false
        let i = try select {
            $0.send(c, 5) { sent = true }
            $0.receive(c) { _ in Issue.record("received from itself") }
        }
        join()
        #expect(i == 0 && sent && got.all == [5])
        #expect(c.waitingForTesting == (0, 0))
        c.checkInvariants()
    }

    @Test func sendCaseHandsToParkedReceiver() throws {
        let a = Channel<Int>()
        let got = Collected<Int?>()
        let join = spawnThreads(1) { _ in got.append(a.receive()) }
        #expect(waitUntil { a.waitingForTesting.receivers == 1 })
        let i = try select { $0.send(a, 7); $0.default { Issue.record("default") } }
        join()
        #expect(i == 0 && got.all == [7])
    }

    @Test func closedChannels() throws {
        let a = Channel<Int>(), b = Channel<Int>()
        try a.close()
        var got: Int?? = .none
        #expect(try select { $0.receive(a) { got = $0 }; $0.receive(b) { _ in } } == 0)
        #expect(got == .some(nil))
        #expect(throws: ChannelError.sendOnClosedChannel) {
            try select { $0.send(a, 1); $0.receive(b) { _ in } }
        }
        // A parked select is woken by close.
        let join = spawnThreads(1) { _ in
            _ = waitUntil { b.waitingForTesting.receivers == 1 }
            try! b.close()
        }
        let c = Channel<Int>()
        var closedSeen = false
        #expect(try select { $0.receive(c) { _ in }; $0.receive(b) { closedSeen = $0 == nil } } == 1)
        join()
        #expect(closedSeen)
        #expect(c.waitingForTesting == (0, 0))
    }

    @Test func manyCases() throws {
        let chans = (0..<40).map { _ in Channel<[Int]>(capacity: 1) }
        try chans[33].send([33])
        var got: [Int]? = nil
        let i = try select { s in
            for c in chans { s.receive(c) { if let v = $0 { got = v } } }
        }
        #expect(i == 33 && got == [33])
    }

    /// Threads select between sending and receiving on shared channels;
    /// every value sent is received exactly once.
    @Test func concurrentSelectsLoseNothing() throws {
        let a = Channel<Int>(), b = Channel<Int>(capacity: 2)
        let per = 1500, senders = 2
        let received = Collected<Int>()
        let joinReceivers = spawnThreads(2) { _ in
            var mine: [Int] = []
            // Stop at the first close seen; the main thread drains the rest.
            while true {
                var done = false
                try! select {
                    $0.receive(a) { v in if let v { mine.append(v) } else { done = true } }
                    $0.receive(b) { v in if let v { mine.append(v) } else { done = true } }
                }
                if done { break }
            }
            received.append(contentsOf: mine)
        }
        let joinSenders = spawnThreads(senders) { p in
            for i in 0..<per {
                let v = p * 100_000 + i
                try! select { $0.send(a, v); $0.send(b, v) }
            }
        }
        joinSenders()
        // Drain what is left after the receivers may have stopped early.
        try a.close(); try b.close()
        joinReceivers()
        var rest: [Int] = []
        while let v = a.receive() { rest.append(v) }
        while let v = b.receive() { rest.append(v) }
        let all = (received.all + rest).sorted()
        #expect(all == (0..<senders).flatMap { p in (0..<per).map { p * 100_000 + $0 } })
        a.checkInvariants(); b.checkInvariants()
    }
}
