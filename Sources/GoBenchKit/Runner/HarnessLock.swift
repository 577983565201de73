// The harness's one lock kind, for its own bookkeeping (collected probes,
// warnings printed once, dump lists): Synchronization's Mutex, a futex word
// owned by the value itself. It replaces a pthread_mutex_t stored in a
// class and passed by address (Swift does not promise a stored property a
// stable address) and Foundation's NSLock. Never on a measured path: the
// ports have their own locks (GoRuntime's RuntimeLock).

import Synchronization

public final class HarnessLock: Sendable {
    private let mutex = Mutex<Void>(())

    public init() {}

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}
