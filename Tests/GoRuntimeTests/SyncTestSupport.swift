// Helpers for the sync tests: raw threads (the ports block OS threads, so
// tests use pthreads rather than Swift concurrency) and a polling wait.

@testable import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A value shared between test threads; access is guarded by whatever lock
/// the test is exercising (or happens before/after the threads run).
final class SyncBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

private final class SyncThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

enum SyncTestThreads {
    /// Starts a thread running `body`.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(SyncThreadBody(body))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            Unmanaged<SyncThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed")
        return tid
    }

    static func join(_ t: pthread_t) { pthread_join(t, nil) }

    /// Runs `body(i)` on `count` threads and waits for all of them.
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let threads = (0..<count).map { i in spawn { body(i) } }
        threads.forEach(join)
    }

    /// Polls `condition` every 50 us; false if it stayed false for `seconds`.
    static func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let deadline = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + seconds
        while !condition() {
            clock_gettime(CLOCK_MONOTONIC, &ts)
            if Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 > deadline { return false }
            usleep(50)
        }
        return true
    }

    static func sleepMs(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

    static func allowedCPUs() -> [Int] { SyncAffinity.allowedCPUs() }
    static func pin(to cpu: Int) { SyncAffinity.pinCurrentThread(to: cpu) }
}
