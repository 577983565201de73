// Tests of the sync.RWMutex port: reader/writer exclusion, writer preference
// (a pending writer blocks new readers), try variants, a mixed stress run,
// and the fatal misuse paths.

import Testing
@testable import GoRuntime

extension SyncTests {
@Suite("sync.RWMutex port")
struct RWMutexPort {
    @Test("readers share; a writer excludes readers and writers")
    func exclusion() {
        let rw = RWMutex()
        rw.rLock()
        let r = SyncBox((false, false))
        SyncTestThreads.run(1) { _ in
            let gotRead = rw.tryRLock()
            if gotRead { rw.rUnlock() }
            r.value = (gotRead, rw.tryLock())
        }
        #expect(r.value == (true, false), "second reader gets in; a writer does not")
        rw.rUnlock()
        #expect(rw.checkQuiescentInvariants() == 0)

        rw.lock()
        SyncTestThreads.run(1) { _ in r.value = (rw.tryRLock(), rw.tryLock()) }
        #expect(r.value == (false, false), "nobody gets in while a writer holds it")
        rw.unlock()
        #expect(rw.tryLock())
        rw.unlock()
        #expect(rw.checkQuiescentInvariants() == 0)
    }

    @Test("a pending writer blocks new readers and goes before them")
    func writerPreference() {
        let rw = RWMutex()
        let events = SyncBox([String]())
        let eventsLock = Mutex()
        @Sendable func log(_ s: String) { eventsLock.lock(); events.value.append(s); eventsLock.unlock() }

        rw.rLock()                                  // an active reader
        let writer = SyncTestThreads.spawn { rw.lock(); log("writer"); rw.unlock() }
        // The writer announced itself (readerCount biased negative) and
        // waits for the active reader on writerSem.
        #expect(SyncTestThreads.waitUntil { rw.readerCount.load(ordering: .relaxed) < 0 })
        #expect(SyncTestThreads.waitUntil { semaQueuedWaiters(rw.writerSem) == 1 })
        #expect(!rw.tryRLock(), "new readers must not pass a pending writer")
        let reader = SyncTestThreads.spawn { rw.rLock(); log("reader"); rw.rUnlock() }
        #expect(SyncTestThreads.waitUntil { semaQueuedWaiters(rw.readerSem) == 1 })
        log("first reader leaves")
        rw.rUnlock()                                // last active reader releases the writer
        SyncTestThreads.join(writer)
        SyncTestThreads.join(reader)
        #expect(events.value == ["first reader leaves", "writer", "reader"])
        #expect(rw.checkQuiescentInvariants() == 0)
        #expect(semaQueuedWaiters(rw.readerSem) == 0 && semaQueuedWaiters(rw.writerSem) == 0)
        SemaTable.checkInvariants()
    }

    @Test("stress: 4 threads, 1 write in 8; writers keep a == b, readers check it")
    func stress() {
        let rw = RWMutex()
        let data = SyncBox((a: 0, b: 0))
        let torn = SyncBox(0)
        let tornLock = Mutex()
        let perThread = 8_000
        SyncTestThreads.run(4) { t in
            var localTorn = 0
            for i in 0..<perThread {
                if (i + t) % 8 == 0 {
                    rw.lock()
                    data.value.a += 1
                    data.value.b += 1
                    rw.unlock()
                } else {
                    rw.rLock()
                    if data.value.a != data.value.b { localTorn += 1 }
                    rw.rUnlock()
                }
            }
            tornLock.lock(); torn.value += localTorn; tornLock.unlock()
        }
        #expect(torn.value == 0)
        #expect(data.value.a == 4 * perThread / 8)
        #expect(data.value.a == data.value.b)
        #expect(rw.checkQuiescentInvariants() == 0)
    }

    @Test("RUnlock of an unlocked RWMutex is fatal, with Go's message")
    func rUnlockOfUnlockedIsFatal() async {
        let result = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            RWMutex().rUnlock()
        }
        expectStderr(of: result, contains: "fatal error: sync: RUnlock of unlocked RWMutex")
    }

    @Test("RUnlock while write-locked is fatal")
    func rUnlockWhileWriteLockedIsFatal() async {
        await #expect(processExitsWith: .exitCode(2)) {
            let rw = RWMutex()
            rw.lock()
            rw.rUnlock()
        }
    }

    @Test("Unlock of an unlocked RWMutex is fatal, with Go's message")
    func unlockOfUnlockedIsFatal() async {
        let result = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            RWMutex().unlock()
        }
        expectStderr(of: result, contains: "fatal error: sync: Unlock of unlocked RWMutex")
    }
}
}
