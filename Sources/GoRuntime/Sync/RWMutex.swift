// Port of sync/rwmutex.go (Go 1.19): a reader/writer mutual exclusion lock
// in which a pending writer blocks new readers.
//
// Words:
//   w            a Mutex held by the writer (and by a pending writer):
//                writers exclude each other through it
//   readerCount  readers holding or waiting for the lock; a writer
//                subtracts `rwmutexMaxReaders` from it, making it negative,
//                which tells arriving readers a writer is pending
//   readerWait   departing readers the pending writer still waits for
//   writerSem    semaphore the writer waits on for departing readers
//   readerSem    semaphore readers wait on for the writer to finish
//
// Writer preference: `lock` makes readerCount negative first, so every
// reader arriving after it blocks on readerSem; the writer then waits only
// for the r readers that were already inside (readerWait += r; each of them
// decrements readerWait in rUnlock and the last releases writerSem).
// `unlock` adds rwmutexMaxReaders back and releases readerSem once per
// reader that blocked meanwhile.
//
// Invariants (when no thread is inside any method: `checkQuiescentInvariants`):
//   - readerCount >= 0 (no writer pending) and equals the readers holding
//     the lock; readerWait == 0; both semaphore counters are 0.

import Synchronization

/// `rwmutexMaxReaders`: the most readers at once; also the bias a writer
/// subtracts from readerCount. (Computed so inlined fast paths in other
/// modules see a constant, not a global's accessor.)
@inlinable var rwmutexMaxReaders: Int32 { 1 << 30 }

/// A reader/writer mutual exclusion lock: Go's `sync.RWMutex`.
///
/// Any number of readers or one writer. A blocked `lock` call excludes new
/// readers, so a reader must not rely on recursive read locking.
public final class RWMutex: @unchecked Sendable {
    /// Held if there are pending writers.
    @usableFromInline let w = Mutex()
    /// Number of pending readers (negative bias while a writer is pending).
    @usableFromInline let readerCount = Atomic<Int32>(0)
    /// Number of departing readers the writer waits for.
    @usableFromInline let readerWait = Atomic<Int32>(0)
    /// `writerSem` at offset 0, `readerSem` at offset 4, in C memory so the
    /// addresses keying the semaphore table never move.
    @usableFromInline let sems: UnsafeMutablePointer<UInt32>

    @inlinable var writerSem: UnsafeMutablePointer<UInt32> { sems }
    @inlinable var readerSem: UnsafeMutablePointer<UInt32> { sems + 1 }

    /// An unlocked RWMutex.
    public init() {
        sems = syncAllocAligned(8).assumingMemoryBound(to: UInt32.self)
    }

    deinit { syncFreeAligned(UnsafeMutableRawPointer(sems)) }

    /// Locks for reading. Blocks while a writer holds or waits for the lock.
    @inlinable
    public func rLock() {
        if readerCount.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue < 0 {
            // A writer is pending, wait for it.
            semacquire(readerSem, lifo: false)
        }
    }

    /// Tries to lock for reading without blocking; true on success.
    @inlinable
    public func tryRLock() -> Bool {
        while true {
            let c = readerCount.load(ordering: .sequentiallyConsistent)
            if c < 0 { return false }
            if readerCount.compareExchange(expected: c, desired: c + 1,
                                           ordering: .sequentiallyConsistent).exchanged {
                return true
            }
        }
    }

    /// Undoes one `rLock`. Fatal if the lock is not read-locked.
    @inlinable
    public func rUnlock() {
        let r = readerCount.wrappingAdd(-1, ordering: .sequentiallyConsistent).newValue
        if r < 0 {
            // Outlined slow-path to allow the fast-path to be inlined.
            rUnlockSlow(r)
        }
    }

    @usableFromInline @inline(never)
    func rUnlockSlow(_ r: Int32) {
        if r &+ 1 == 0 || r &+ 1 == -rwmutexMaxReaders {
            goFatal("sync: RUnlock of unlocked RWMutex")
        }
        // A writer is pending.
        if readerWait.wrappingAdd(-1, ordering: .sequentiallyConsistent).newValue == 0 {
            // The last reader unblocks the writer.
            semrelease(writerSem, handoff: false)
        }
    }

    /// Locks for writing, blocking until no reader or writer holds it.
    @inlinable
    public func lock() {
        // First, resolve competition with other writers.
        w.lock()
        // Announce to readers there is a pending writer.
        let r = readerCount.wrappingAdd(-rwmutexMaxReaders, ordering: .sequentiallyConsistent).newValue
            &+ rwmutexMaxReaders
        // Wait for active readers.
        if r != 0 && readerWait.wrappingAdd(r, ordering: .sequentiallyConsistent).newValue != 0 {
            semacquire(writerSem, lifo: false)
        }
    }

    /// Tries to lock for writing without blocking; true on success.
    @inlinable
    public func tryLock() -> Bool {
        if !w.tryLock() { return false }
        if !readerCount.compareExchange(expected: 0, desired: -rwmutexMaxReaders,
                                        ordering: .sequentiallyConsistent).exchanged {
            w.unlock()
            return false
        }
        return true
    }

    /// Unlocks for writing. Fatal if the lock is not write-locked.
    @inlinable
    public func unlock() {
        // Announce to readers there is no active writer.
        let r = readerCount.wrappingAdd(rwmutexMaxReaders, ordering: .sequentiallyConsistent).newValue
        if r >= rwmutexMaxReaders {
            unlockOfUnlocked()
        }
        // Unblock blocked readers, if any.
        if r > 0 { releaseReaders(r) }
        // Allow other writers to proceed.
        w.unlock()
    }

    @usableFromInline @inline(never)
    func unlockOfUnlocked() -> Never {
        goFatal("sync: Unlock of unlocked RWMutex")
    }

    @usableFromInline @inline(never)
    func releaseReaders(_ r: Int32) {
        for _ in 0..<r {
            semrelease(readerSem, handoff: false)
        }
    }

    /// Checks the invariants that hold when no thread is inside a method;
    /// returns the number of readers holding the lock.
    @discardableResult
    public func checkQuiescentInvariants() -> Int {
        let c = readerCount.load(ordering: .sequentiallyConsistent)
        precondition(c >= 0, "quiescent RWMutex has a pending writer bias")
        precondition(readerWait.load(ordering: .sequentiallyConsistent) == 0, "readerWait not zero")
        precondition(UnsafeAtomic32(writerSem).load() == 0, "writerSem has a unit")
        precondition(UnsafeAtomic32(readerSem).load() == 0, "readerSem has a unit")
        return Int(c)
    }
}
