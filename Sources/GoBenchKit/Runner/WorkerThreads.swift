// Runs one closure per worker on fresh pthreads and joins them. A start
// barrier releases all workers together so that their timed regions overlap.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A one-shot barrier for `parties` threads. Arrivals spin briefly (the
/// others are usually a few microseconds away) and then yield, so that more
/// workers than CPUs still make progress.
final class StartBarrier: Sendable {
    private let parties: Int
    private let arrived = Atomic<Int>(0)

    init(parties: Int) { self.parties = parties }

    func arriveAndWait() {
        arrived.add(1, ordering: .acquiringAndReleasing)
        var spins = 0
        while arrived.load(ordering: .acquiring) < parties {
            spins += 1
            if spins > 1000 { sched_yield() }
        }
    }
}

private final class ThreadBox {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts `count` threads running `body(i)` and waits for all of them.
/// Thread 0 is a new thread too: every worker has the same kind of stack
/// and thread-local state, and instruments can treat them alike.
func runOnThreads(_ count: Int, _ body: @escaping (Int) -> Void) {
    var threads: [pthread_t] = []
    threads.reserveCapacity(count)
    for i in 0..<count {
        let box = Unmanaged.passRetained(ThreadBox { body(i) })
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 16 << 20)
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { raw in
            let box = Unmanaged<ThreadBox>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attr)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        threads.append(tid)
    }
    for t in threads { pthread_join(t, nil) }
}
