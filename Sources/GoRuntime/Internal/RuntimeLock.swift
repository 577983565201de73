// The Go runtime's internal mutex on Linux: runtime/lock_futex.go lock2 and
// unlock2. hchan's `lock` field is one of these.
//
// Design. The lock is one 32-bit futex word with three states:
//
//   runtimeMutexUnlocked  nobody holds it
//   runtimeMutexLocked    held, and no thread is (presumably) asleep on the word
//   runtimeMutexSleeping  held, and at least one thread may be asleep on the word
//
// lock2 first swaps in runtimeMutexLocked. If the word was unlocked it is ours; if
// not, the old value says whether sleepers may exist ("wait"), and from then
// on every successful acquisition must write back at least that value, so a
// sleeper's pending wake-up is never lost. The slow path spins (only with
// more than one CPU) activeSpin times, each a burst of activeSpinCount
// PAUSEs, then passiveSpin times yields the CPU, then swaps in
// runtimeMutexSleeping and sleeps on the futex; it loops until a swap or CAS
// finds the word unlocked. unlock2 swaps in runtimeMutexUnlocked and, if the old
// value was runtimeMutexSleeping, wakes one sleeper.
//
// Invariants:
//   - the word only ever holds one of the three constants;
//   - a thread that has slept (or saw runtimeMutexSleeping) acquires the lock by
//     writing runtimeMutexSleeping, never runtimeMutexLocked, so the wake-up obligation
//     survives until an unlock2 that sees it;
//   - unlock of an unlocked lock is fatal ("unlock of unlocked lock").
//
// Differences from Go: Go also counts m.locks (held runtime locks, which
// disable preemption); threads here are not preempted by a Go scheduler, so
// there is nothing to count.
//
// This is the only runtime lock of the ports: hchan and the semaphore roots
// embed its word, the stack pools and the map's scratch slot hold it through
// RuntimeLocked, and the allocator (mheap_.lock, mcentral.lock, the mcache
// registry) keeps one from `RuntimeLock.allocate()` as a field.
//
// ThreadSanitizer: every acquisition is a sequentially consistent exchange
// or compare-exchange on the word that reads runtimeMutexUnlocked, and every
// release is a sequentially consistent exchange that writes it, all inlined
// into code built with the sanitizer; so TSan sees the release -> acquire
// edge from one critical section to the next without knowing that this is a
// lock. The futex calls only sleep and wake, they order nothing. (What TSan
// does not do for it is lock-order-inversion reporting, which it does only
// for pthread mutexes; the lock orders are documented where the locks live.)

import CGoRuntime

/// lock_futex.go: the word is free.
@usableFromInline let runtimeMutexUnlocked: UInt32 = 0
/// lock_futex.go: held; nobody is known to sleep on the word.
@usableFromInline let runtimeMutexLocked: UInt32 = 1
/// lock_futex.go: held; at least one thread may be asleep in futex_wait.
@usableFromInline let runtimeMutexSleeping: UInt32 = 2
/// lock_futex.go `active_spin`: spin bursts before yielding (multi-CPU only).
let lockActiveSpin = 4
/// lock_futex.go `active_spin_cnt`: PAUSEs per spin burst (procyield(30)).
let lockActiveSpinCount: UInt32 = 30
/// lock_futex.go `passive_spin`: sched_yield rounds before sleeping.
let lockPassiveSpin = 1

/// Go's runtime `mutex` (lock_futex.go): lock2/unlock2 over a 32-bit word
/// the caller keeps at a stable address (hchan embeds it). The struct is a
/// view of that word; copying the view does not copy the lock.
@usableFromInline
struct RuntimeLock {
    @usableFromInline let key: UnsafeMutablePointer<UInt32>

    @inlinable @inline(__always)
    init(_ key: UnsafeMutablePointer<UInt32>) { self.key = key }

    /// A new, unlocked lock whose word has a 64-byte line to itself, for an
    /// object that keeps its lock as a field (Go's `lock mutex` in mheap and
    /// mcentral). The owner calls `deallocate()` when no thread can touch
    /// the lock any more.
    static func allocate() -> RuntimeLock {
        // cgort_alloc_aligned zeroes the block: the word starts unlocked.
        RuntimeLock(cgort_alloc_aligned(64).bindMemory(to: UInt32.self, capacity: 1))
    }

    /// Frees a word made by `allocate()`. The lock must be unlocked.
    func deallocate() { cgort_free_aligned(key) }

    /// lock; body; unlock.
    @inlinable @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// lock2: one exchange when the lock is free; otherwise `lockSlow`.
    @inlinable @inline(__always)
    func lock() {
        let v = UnsafeAtomic32(key).exchange(runtimeMutexLocked)
        if v == runtimeMutexUnlocked { return }
        lockSlow(v)
    }

    /// lock2 after a failed speculative grab; `v` is the value swapped out.
    @usableFromInline @inline(never)
    func lockSlow(_ v0: UInt32) {
        let word = UnsafeAtomic32(key)
        // `wait` is the value any acquisition must leave behind: runtimeMutexLocked
        // until we have seen or caused runtimeMutexSleeping.
        var wait = v0
        // On uniprocessors, no point spinning.
        let spin = Machine.ncpu > 1 ? lockActiveSpin : 0
        // Takes the lock if it is free, writing `wait`. The load is an
        // atomic load that only decides whether a CAS is worth trying.
        @inline(__always) func tryAcquire() -> Bool {
            while word.load() == runtimeMutexUnlocked {
                if word.compareExchange(expected: runtimeMutexUnlocked, desired: wait) { return true }
            }
            return false
        }
        while true {
            // Try for the lock, spinning.
            for _ in 0..<spin {
                if tryAcquire() { return }
                Machine.procyield(lockActiveSpinCount)
            }
            // Try for the lock, rescheduling.
            for _ in 0..<lockPassiveSpin {
                if tryAcquire() { return }
                Machine.osyield()
            }
            // Sleep. Swapping in runtimeMutexSleeping both announces us and, if the
            // lock was released meanwhile, acquires it (leaving "sleeping",
            // which is conservative: one unlock may wake nobody).
            let v = word.exchange(runtimeMutexSleeping)
            if v == runtimeMutexUnlocked { return }
            wait = runtimeMutexSleeping
            _ = cgort_futex_wait(key, runtimeMutexSleeping, -1)
        }
    }

    /// unlock2: swap in runtimeMutexUnlocked; wake one sleeper if the word said
    /// there might be one.
    @inlinable @inline(__always)
    func unlock() {
        let v = UnsafeAtomic32(key).exchange(runtimeMutexUnlocked)
        if v == runtimeMutexLocked { return }
        unlockSlow(v)
    }

    @usableFromInline @inline(never)
    func unlockSlow(_ v: UInt32) {
        if v == runtimeMutexUnlocked { goFatal("unlock of unlocked lock") }
        // v == runtimeMutexSleeping
        _ = cgort_futex_wake(key, 1)
    }
}
