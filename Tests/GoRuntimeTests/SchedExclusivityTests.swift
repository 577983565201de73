// The exclusivity decision (CGoRuntimeSched.h, Sched.c): Swift's dynamic
// exclusivity checker keeps a per-thread list of in-progress accesses, and a
// goroutine can switch away in the middle of one (a park or a yield inside
// a `modify` of a class property). Every switch therefore moves the
// goroutine's accesses off the thread's list and back onto the list of the
// thread it resumes on, with the Swift runtime's own task hooks
// (swift_task_exitThreadLocalContext / enterThreadLocalContext).
//
// These tests are built in debug, where every class property access below
// is checked dynamically. The first shows the hand-over working: a second
// goroutine on the same thread reads the property while the first is
// suspended inside its modify access. The exit test turns the hand-over off
// and shows the same program killed by a false "simultaneous accesses"
// report, so the first test could fail. The third parks inside accesses on
// two Ps, so that goroutines end accesses on other threads than the one
// they began them on.

import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import GoRuntime

final class ExclusivityBox: @unchecked Sendable {
    var x = 0
    var y = 0
}

/// Holds a modify access to `x` for the duration of `during`.
@inline(never)
func holdingModify(_ x: inout Int, _ during: () -> Void) {
    during()
    x += 1
}

/// Goroutine A parks inside a modify access of box.x; goroutine B, on the
/// same thread, reads box.x meanwhile. Returns what B read.
func suspendedAccessScenario() -> Int {
    let box = ExclusivityBox()
    let seen = GoBox(-1)
    let c = Channel<Int>()
    Go.run(maxprocs: 1) {
        go {
            // B: runs while A is parked inside its access.
            seen.value = box.x
            try! c.send(1)
        }
        holdingModify(&box.x) {
            _ = c.receive()   // A: park in the middle of the access; B runs
        }
    }
    return seen.value
}

extension SyncTests {
@Suite("goroutine scheduler: exclusivity")
struct SchedExclusivity {
    @Test("a goroutine suspended inside a modify access does not conflict with another on the same thread")
    func handoverPreventsFalseConflict() {
        #expect(suspendedAccessScenario() == 0)
    }

    @Test("without the hand-over the same program dies of a false exclusivity conflict")
    func withoutHandoverItTraps() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            schedSetExclusivityHandover(false)
            _ = suspendedAccessScenario()
        }
        #expect(stderrText(r).contains("Simultaneous accesses"))
    }

    @Test("accesses that span a park end cleanly on whichever thread the goroutine resumes on")
    func accessesSurviveMigration() {
        let boxes = (0..<8).map { _ in ExclusivityBox() }
        let c = Channel<Int>()
        let migrated = GoBox(0)
        let lock = Mutex()
        Go.run(maxprocs: 2) {
            let wg = WaitGroup()
            for b in boxes {
                wg.add(1)
                go {
                    for _ in 0..<200 {
                        holdingModify(&b.x) {
                            let before = pthread_self()
                            _ = c.receive()        // park inside the access
                            holdingModify(&b.y) { Go.yield() }
                            if pthread_self() != before { lock.lock(); migrated.value += 1; lock.unlock() }
                        }
                    }
                    wg.done()
                }
            }
            for i in 0..<(8 * 200) {
                try! c.send(i)
                // Stay busy for a while, so that the goroutine just readied
                // into our runnext is stolen by the other P's spinning M.
                let t0 = cgoNanotime()
                while cgoNanotime() - t0 < 20_000 {}
            }
            wg.wait()
        }
        #expect(boxes.allSatisfy { $0.x == 200 && $0.y == 200 })
        // Migration is up to the scheduler and the host; report it.
        #expect(migrated.value > 0 || Machine.ncpu == 1, "no goroutine resumed on another thread")
        print("exclusivity migration test: \(migrated.value) of 1600 parks resumed on another thread")
    }
}
}

func cgoNanotime() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
