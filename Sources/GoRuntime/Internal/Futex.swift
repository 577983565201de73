// A 32-bit futex word in memory that never moves, and the two futex calls
// the Go runtime makes on Linux (runtime/os_linux.go futexsleep/futexwakeup).

import CGoRuntime
import Synchronization

/// A futex word allocated outside Swift's object layout so that its address
/// is stable and 32-bit aligned, plus atomic access to it.
///
/// The word is read and written with `Atomic<UInt32>` semantics through a
/// raw pointer: the kernel compares it as a plain 32-bit value in
/// `FUTEX_WAIT`, so it must not live inside a Swift `Atomic` whose layout is
/// private.
public final class FutexWord: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<UInt32>

    public init(_ initial: UInt32 = 0) {
        pointer = cgort_alloc_aligned(64).bindMemory(to: UInt32.self, capacity: 1)
        pointer.pointee = initial
    }

    deinit { cgort_free_aligned(pointer) }

    @inline(__always)
    private var atomic: UnsafeAtomic32 { UnsafeAtomic32(pointer) }

    @inline(__always)
    public func load() -> UInt32 { atomic.load() }

    @inline(__always)
    public func store(_ v: UInt32) { atomic.store(v) }

    @inline(__always)
    public func exchange(_ v: UInt32) -> UInt32 { atomic.exchange(v) }

    @inline(__always)
    public func compareExchange(expected: UInt32, desired: UInt32) -> Bool {
        atomic.compareExchange(expected: expected, desired: desired)
    }

    /// futexsleep: sleep while the word equals `value`; wakes on
    /// `wake`, a signal, a spurious wake-up or after `timeoutNs` (negative:
    /// no limit). Callers re-check their condition in a loop.
    @inline(__always)
    public func wait(ifEquals value: UInt32, timeoutNs: Int64 = -1) {
        _ = cgort_futex_wait(pointer, value, timeoutNs)
    }

    /// futexwakeup: wake up to `count` sleepers. Returns how many woke.
    @inline(__always)
    @discardableResult
    public func wake(_ count: Int32 = 1) -> Int32 {
        Int32(cgort_futex_wake(pointer, count))
    }
}

/// Sequentially consistent atomic operations on a raw 32-bit word, built on
/// `Synchronization.Atomic` through a pointer cast. Used for futex words,
/// whose storage must be a plain `uint32_t` the kernel can read.
@usableFromInline
struct UnsafeAtomic32 {
    @usableFromInline let p: UnsafeMutablePointer<UInt32>
    @inlinable init(_ p: UnsafeMutablePointer<UInt32>) { self.p = p }

    @inlinable var a: UnsafeMutablePointer<Atomic<UInt32>> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self)
    }
    @inlinable func load() -> UInt32 { a.pointee.load(ordering: .sequentiallyConsistent) }
    @inlinable func store(_ v: UInt32) { a.pointee.store(v, ordering: .sequentiallyConsistent) }
    @inlinable func exchange(_ v: UInt32) -> UInt32 {
        a.pointee.exchange(v, ordering: .sequentiallyConsistent)
    }
    @inlinable func compareExchange(expected: UInt32, desired: UInt32) -> Bool {
        a.pointee.compareExchange(expected: expected, desired: desired,
                                  ordering: .sequentiallyConsistent).exchanged
    }
}
