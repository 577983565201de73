// Tests of proc.go bookkeeping in the scheduler port: goroutine ids from
// per-P goidcache batches, the live-goroutine count summed over the Ps
// (no shared counter), and the end of a run, which checkdead now decides
// once every M is idle.

import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
@testable import GoRuntime

extension SyncTests.Sched {
    @Test("goroutine ids are unique and positive when goroutines are created on several Ps (goidcache batches of 16)")
    func goroutineIDsUnique() {
        let m = Mutex()
        let ids = GoBox([Int]())
        let spawners = 8, perSpawner = 200
        Go.run(maxprocs: 2) {
            ids.value.append(getg()!.pointee.goid)
            let wg = WaitGroup()
            wg.add(spawners * (perSpawner + 1))
            for _ in 0..<spawners {
                go {
                    let me = getg()!
                    m.lock()
                    ids.value.append(me.pointee.goid)
                    m.unlock()
                    for _ in 0..<perSpawner {
                        go {
                            let id = getg()!.pointee.goid
                            m.lock(); ids.value.append(id); m.unlock()
                            wg.done()
                        }
                        // Work between spawns, so that the other P's M
                        // wakes and steals spawners.
                        var x = 0
                        for k in 0..<200 { x &+= k }
                        blackHoleInt(x)
                    }
                    wg.done()
                }
            }
            wg.wait()
        }
        let all = ids.value
        #expect(all.count == 1 + spawners * (perSpawner + 1))
        #expect(Set(all).count == all.count, "duplicate goroutine ids")
        #expect(all.allSatisfy { $0 > 0 })
        #expect(Go.statistics.goroutinesCreated == all.count)
    }

    @Test("numGoroutine at maxprocs 2 counts goroutines that exit on either P")
    func numGoroutineTwoPs() {
        let seen = GoBox([Int]())
        let settled = GoBox(false)
        Go.run(maxprocs: 2) {
            let c = Channel<Int>()
            let wg = WaitGroup()
            wg.add(100)
            for _ in 0..<100 { go { _ = c.receive(); wg.done() } }
            // All 100 were created on this P and none has exited.
            seen.value.append(Go.numGoroutine)
            try! c.close()
            wg.wait()
            // done() comes just before each goroutine's exit: wait for the
            // exits themselves (counted on whichever P ran them).
            for _ in 0..<100_000 where Go.numGoroutine > 1 { Go.yield() }
            settled.value = Go.numGoroutine == 1
        }
        #expect(seen.value == [101])
        #expect(settled.value)
        #expect(Go.numGoroutine == 0)
        #expect(Go.statistics.goroutinesCreated == 101)
    }

    @Test("Go.run returns only after the last goroutine exits, also when main returns first", arguments: [1, 2])
    func runEndsAfterLastGoroutine(procs: Int) {
        for _ in 0..<20 {
            let finished = GoBox(0)
            let m = Mutex()
            Go.run(maxprocs: procs) {
                for _ in 0..<4 {
                    go {
                        var x = 0
                        for k in 0..<20_000 { x &+= k }
                        blackHoleInt(x)
                        Go.yield()
                        m.lock(); finished.value += 1; m.unlock()
                    }
                }
                // main returns at once.
            }
            #expect(finished.value == 4)
            #expect(Go.numGoroutine == 0)
        }
    }

    @Test("every M but M0 calls the thread hooks first and last; M0 calls neither")
    func threadHooksRunOnEveryStartedM() {
        hookBegins.store(0, ordering: .relaxed)
        hookEnds.store(0, ordering: .relaxed)
        hookOnM0.store(0, ordering: .relaxed)
        let m0 = pthread_self()
        hookM0.value = m0
        Go.setThreadHooks(begin: {
            hookBegins.add(1, ordering: .relaxed)
            if pthread_equal(pthread_self(), hookM0.value) != 0 { hookOnM0.add(1, ordering: .relaxed) }
        }, end: { hookEnds.add(1, ordering: .relaxed) })
        defer { Go.setThreadHooks(begin: nil, end: nil) }
        var threads = 0
        for _ in 0..<5 {
            Go.run(maxprocs: 2) {
                let wg = WaitGroup()
                wg.add(200)
                for _ in 0..<200 {
                    go { var x = 0; for k in 0..<2_000 { x &+= k }; blackHoleInt(x); wg.done() }
                }
                wg.wait()
            }
            threads += Go.statistics.threads
        }
        // Go.run joins its Ms before it returns, so every end has run.
        #expect(threads >= 1, "no second M started in 5 runs of 200 goroutines")
        #expect(hookBegins.load(ordering: .relaxed) == threads)
        #expect(hookEnds.load(ordering: .relaxed) == threads)
        #expect(hookOnM0.load(ordering: .relaxed) == 0)
    }
}

private let hookBegins = Atomic<Int>(0)
private let hookEnds = Atomic<Int>(0)
private let hookOnM0 = Atomic<Int>(0)
private let hookM0 = GoBox<pthread_t>(pthread_self())

@inline(never)
func blackHoleInt(_ x: Int) {
    if x == 42 { print("") }
}
