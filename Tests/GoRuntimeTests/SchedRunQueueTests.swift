// Stress tests of a P's local run queue (RunQueue.swift): an owner thread
// puts (with and without runnext, overflowing into the global queue) and
// gets, while two thieves steal half-queues and runnext into their own Ps
// and drain them. Every token must come out exactly once: a lost G, a G
// taken twice (a double hand-off through a stale slot read or a runnext
// race), or a torn slot (a pointer that is no token) fails the test.

import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
@testable import GoRuntime

final class StressFlag: Sendable { let v = Atomic<Int>(0) }

/// Runs the stress scenario and returns how often each token came out,
/// plus how many tokens were stolen.
func runQueueStress(tokens n: Int, thieves: Int) -> (counts: [Int], stolen: Int) {
    let s = schedp
    s.pointee.gomaxprocs = Int32(1 + thieves)
    let gs = (0..<n).map { G.makeTokenForTesting(id: $0) }
    let ps = (0...thieves).map { i -> PPtr in
        let p = PPtr.allocate(capacity: 1)
        p.initialize(to: P(id: Int32(i)))
        p.pointee.status = _Prunning
        return p
    }
    let outs = (0...thieves).map { _ in GoBox([Int]()) }
    let done = StressFlag()
    let stolen = (0...thieves).map { _ in GoBox(0) }
    do {
        nonisolated(unsafe) let gsU = gs, psU = ps
        let ts = (1...thieves).map { t in
            SyncTestThreads.spawn {
                let mine = psU[t], victim = psU[0]
                var k = 0
                while true {
                    let finished = done.v.load(ordering: .acquiring) != 0
                    if let gp = runqsteal(mine, victim, stealRunNextG: k % 4 == 3) {
                        outs[t].value.append(gp.pointee.goid)
                        stolen[t].value += 1
                    }
                    while let gp = runqget(mine).gp { outs[t].value.append(gp.pointee.goid) }
                    if finished { break }
                    k += 1
                }
            }
        }
        // The owner of P0.
        let p0 = psU[0]
        for i in 0..<n {
            runqput(p0, gsU[i], next: i % 3 == 0)
            if i % 2 == 1, let gp = runqget(p0).gp { outs[0].value.append(gp.pointee.goid) }
        }
        done.v.store(1, ordering: .releasing)
        ts.forEach(SyncTestThreads.join)
        while let gp = runqget(p0).gp { outs[0].value.append(gp.pointee.goid) }
        // What spilled to the global queue.
        s.lock.lock()
        while let gp = globrunqget(p0, 0) {
            outs[0].value.append(gp.pointee.goid)
            while let g2 = runqget(p0).gp { outs[0].value.append(g2.pointee.goid) }
        }
        s.lock.unlock()
    }
    var counts = [Int](repeating: 0, count: n)
    for o in outs { for id in o.value { counts[id] += 1 } }
    for p in ps { #expect(runqempty(p)); p.pointee.runq.deallocate(); p.deallocate() }
    for g in gs { g.deinitialize(count: 1); g.deallocate() }
    s.pointee.gomaxprocs = 0
    return (counts, stolen.reduce(0) { $0 + $1.value })
}

extension SyncTests {
@Suite("goroutine scheduler: run queue")
struct SchedRunQueue {
    @Test("put/get/steal under contention: no G lost or taken twice")
    func stress() {
        for _ in 0..<4 {
            let (counts, stolen) = runQueueStress(tokens: 100_000, thieves: 2)
            #expect(counts.allSatisfy { $0 == 1 },
                    "lost: \(counts.filter { $0 == 0 }.count), duplicated: \(counts.filter { $0 > 1 }.count)")
            #expect(stolen > 0 || Machine.ncpu == 1)
        }
    }

    @Test("one thread: FIFO order, runnext first, overflow spills half to the global queue")
    func sequential() {
        let s = schedp
        s.pointee.gomaxprocs = 1
        let p = PPtr.allocate(capacity: 1)
        p.initialize(to: P(id: 0))
        let gs = (0..<300).map { G.makeTokenForTesting(id: $0) }
        for g in gs.prefix(299) { runqput(p, g, next: false) }
        // 256 fit; the 257th spilled 128 + itself to the global queue.
        #expect(s.pointee.runqsize == 129)
        runqput(p, gs[299], next: true)
        #expect(runqget(p).gp == gs[299])
        // The ring now holds 128...255 then 257...298.
        #expect(runqget(p).gp == gs[128])
        var out: [Int] = []
        while let g = runqget(p).gp { out.append(g.pointee.goid) }
        #expect(out == Array(129...255) + Array(257...298))
        s.lock.lock()
        var global: [Int] = []
        while let g = globrunqget(p, 1) { global.append(g.pointee.goid) }
        s.lock.unlock()
        #expect(global == Array(0..<128) + [256])
        #expect(runqempty(p))
        p.pointee.runq.deallocate(); p.deallocate()
        for g in gs { g.deallocate() }
        s.pointee.gomaxprocs = 0
    }
}
}
