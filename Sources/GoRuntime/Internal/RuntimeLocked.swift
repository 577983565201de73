// State guarded by a Go runtime lock: what Go writes as a struct with a
// `mu mutex` field and `lock(&x.mu); ...; unlock(&x.mu)` around its other
// fields (the stack pools in runtime/stack.go, the heap's lock in mheap.go).
//
// Why not Synchronization.Mutex: on Linux its contended path acquires the
// lock inside libswiftSynchronization, which is not built with the thread
// sanitizer, so TSan misses that happens-before edge and reports races
// between two critical sections of the same lock. RuntimeLock's atomics are
// all in code compiled with the sanitizer; it is also the lock Go uses here.

/// A value and the runtime lock (lock_futex.go) that guards it.
final class RuntimeLocked<State>: @unchecked Sendable {
    /// The lock; its word is at a stable address for the futex.
    private let lock = RuntimeLock.allocate()
    /// Guarded by the lock.
    private var state: State

    init(_ initial: State) { state = initial }

    deinit { lock.deallocate() }

    /// Runs `body` with the lock held and the state borrowed mutably.
    @inline(__always)
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
