// Port of runtime/lock_futex.go: the Go runtime's own internal lock
// (`lock`/`unlock` on a `mutex`), used here to guard each semaphore root as
// Go guards `semaRoot.lock`.
//
// The key is a 32-bit futex word with three states:
//   mutexUnlocked (0)  free
//   mutexLocked   (1)  held, no sleeper
//   mutexSleeping (2)  held, and some thread may be asleep in futexsleep
// `lock` swaps in `mutexLocked` and, if that failed, spins `activeSpin`
// rounds of `procyield(activeSpinCount)`, then `passiveSpin` rounds of
// `osyield`, then swaps in `mutexSleeping` and sleeps. A thread that ever
// slept keeps acquiring with `mutexSleeping`, so that the unlock that
// follows wakes the next sleeper. `unlock` swaps in `mutexUnlocked` and
// wakes one sleeper if the old value was `mutexSleeping`.
//
// Invariant: a thread sleeps only when the key was `mutexSleeping`, and
// whoever releases a `mutexSleeping` key issues one futex wake.

import Synchronization

/// lock_futex.go `mutex_unlocked`.
@usableFromInline let runtimeMutexUnlocked: UInt32 = 0
/// lock_futex.go `mutex_locked`.
@usableFromInline let runtimeMutexLocked: UInt32 = 1
/// lock_futex.go `mutex_sleeping`.
@usableFromInline let runtimeMutexSleeping: UInt32 = 2

/// A runtime lock over a futex word at a stable address (not owned).
@usableFromInline
struct RuntimeLock {
    @usableFromInline let key: UnsafeMutablePointer<UInt32>

    @inlinable init(key: UnsafeMutablePointer<UInt32>) { self.key = key }

    @inline(__always)
    private var atomic: UnsafeAtomic32 { UnsafeAtomic32(key) }

    /// lock2: acquire; the fast path is one exchange.
    @inline(__always) @usableFromInline
    func lock() {
        let v = atomic.exchange(runtimeMutexLocked)
        if v == runtimeMutexUnlocked { return }
        lockSlow(wait: v)
    }

    @inline(never)
    private func lockSlow(wait initial: UInt32) {
        // wait is mutexLocked or mutexSleeping: the value to store when we
        // take the lock, so that a sleeper is never forgotten.
        var wait = initial
        let spin = Machine.ncpu > 1 ? activeSpin : 0
        while true {
            // Try for the lock, spinning.
            for _ in 0..<spin {
                while atomic.load() == runtimeMutexUnlocked {
                    if atomic.compareExchange(expected: runtimeMutexUnlocked, desired: wait) { return }
                }
                Machine.procyield(activeSpinCount)
            }
            // Try for the lock, rescheduling.
            for _ in 0..<passiveSpin {
                while atomic.load() == runtimeMutexUnlocked {
                    if atomic.compareExchange(expected: runtimeMutexUnlocked, desired: wait) { return }
                }
                Machine.osyield()
            }
            // Sleep.
            let v = atomic.exchange(runtimeMutexSleeping)
            if v == runtimeMutexUnlocked { return }
            wait = runtimeMutexSleeping
            countSyncEvent(.runtimeLockSleeps)
            FutexOps.wait(key, ifEquals: runtimeMutexSleeping)
        }
    }

    /// unlock2: release; wakes one sleeper if any may sleep.
    @inline(__always) @usableFromInline
    func unlock() {
        let v = atomic.exchange(runtimeMutexUnlocked)
        if v == runtimeMutexUnlocked { goFatal("unlock of unlocked lock") }
        if v == runtimeMutexSleeping { FutexOps.wake(key, 1) }
    }
}
