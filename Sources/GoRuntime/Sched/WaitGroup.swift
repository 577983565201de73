// Port of sync/waitgroup.go (Go 1.19): a counter of outstanding tasks and a
// semaphore that waiters sleep on until the counter reaches zero.
//
// The state is one 64-bit word: the counter in the high 32 bits, the number
// of waiters in the low 32 (Go's state1). Add adds delta << 32 atomically;
// the Add that brings the counter to zero with waiters present owns the
// state at that moment (no Add or Wait may legally race with it: a Wait
// that increments the waiter count must happen before, an Add of a new
// round after), resets it to 0 and releases the semaphore once per waiter.
// Wait returns at once on a zero counter; otherwise it CASes the waiter
// count up and sleeps in semacquire, which parks the goroutine when it is
// called on one (Sema.swift) and the thread otherwise.
//
// Misuse is fatal, with Go's messages: a negative counter, Add racing with
// Wait, reuse before the previous Wait returned.
//
// Not ported: the race detector annotations.

import Synchronization

public final class WaitGroup: @unchecked Sendable {
    /// [0, 8): state (counter << 32 | waiters); [8, 12): sema. C-allocated
    /// so that the semaphore's address never moves.
    @usableFromInline let words: UnsafeMutableRawPointer

    public init() {
        words = syncAllocAligned(16)
    }

    deinit {
        syncFreeAligned(words)
    }

    @inline(__always) @usableFromInline
    var state: UnsafeMutablePointer<Atomic<UInt64>> { words.assumingMemoryBound(to: Atomic<UInt64>.self) }

    @inline(__always) @usableFromInline
    var sema: UnsafeMutablePointer<UInt32> { (words + 8).assumingMemoryBound(to: UInt32.self) }

    /// Add adds delta, which may be negative, to the counter. If it becomes
    /// zero, all goroutines (or threads) blocked on Wait are released. A
    /// negative counter panics.
    public func add(_ delta: Int) {
        let d = UInt64(bitPattern: Int64(delta) << 32)
        let st = state.pointee.wrappingAdd(d, ordering: .sequentiallyConsistent).newValue
        let v = Int32(truncatingIfNeeded: st >> 32)
        let w = UInt32(truncatingIfNeeded: st)
        if v < 0 { goPanic("sync: negative WaitGroup counter") }
        if w != 0 && delta > 0 && Int(v) == delta {
            goPanic("sync: WaitGroup misuse: Add called concurrently with Wait")
        }
        if v > 0 || w == 0 { return }
        addWake(st, w)
    }

    /// The counter reached 0 with waiters: reset the state and wake them.
    @inline(never)
    func addWake(_ st: UInt64, _ w0: UInt32) {
        // This goroutine has set counter to 0 when waiters > 0. Now there
        // can't be concurrent mutations of state: Adds must not happen
        // concurrently with Wait, and Wait does not increment waiters if it
        // sees counter == 0. Still do a cheap sanity check to detect
        // WaitGroup misuse.
        if state.pointee.load(ordering: .sequentiallyConsistent) != st {
            goPanic("sync: WaitGroup misuse: Add called concurrently with Wait")
        }
        // Reset waiters count to 0.
        state.pointee.store(0, ordering: .sequentiallyConsistent)
        var w = w0
        while w != 0 {
            semrelease(sema, handoff: false)
            w -= 1
        }
    }

    /// Done decrements the counter by one.
    public func done() { add(-1) }

    /// Wait blocks until the counter is zero.
    public func wait() {
        while true {
            let st = state.pointee.load(ordering: .sequentiallyConsistent)
            let v = Int32(truncatingIfNeeded: st >> 32)
            if v == 0 { return } // counter is 0, no need to wait
            // Increment waiters count.
            if state.pointee.compareExchange(expected: st, desired: st &+ 1,
                                             ordering: .sequentiallyConsistent).exchanged {
                semacquire(sema, lifo: false)
                if state.pointee.load(ordering: .sequentiallyConsistent) != 0 {
                    goPanic("sync: WaitGroup is reused before previous Wait has returned")
                }
                return
            }
        }
    }
}
