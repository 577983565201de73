// Port of runtime/sema.go: the semaphore behind sync.Mutex and sync.RWMutex
// (`semacquire1` / `semrelease1`), with goroutines replaced by OS threads.
//
// A semaphore is a 32-bit counter at a stable address. `semacquire`
// decrements it, waiting while it is zero; `semrelease` increments it and
// readies one waiter. Waiters do not live next to the counter: as in Go, a
// fixed table of `semTabSize` roots is indexed by the counter's address, and
// each root keeps a treap (a binary search tree by address, heap-ordered by
// random tickets) of the distinct addresses that have waiters; each treap
// node heads the FIFO list (`waitlink`/`waittail`) of the waiters on that
// address. A root is guarded by a runtime lock (RuntimeLock.swift, a port of
// lock_futex.go), and `nwait` counts its waiters so that a release with no
// waiters costs one atomic add and one load.
//
// Queueing order: a new waiter goes to the tail (FIFO). A waiter that was
// woken, lost the race for the counter and waits again may ask for LIFO
// (`lifo: true`, used by the mutex for a waiter that has already waited):
// it replaces the treap node at the head of the list so it is served next.
// Hand-off (`handoff: true`, used by the mutex in starvation mode): the
// releaser takes the unit it just added back out of the counter on behalf
// of the dequeued waiter and marks the waiter's ticket 1, so the waiter
// returns owning the unit without racing anyone.
//
// Parking. Go parks a goroutine (gopark) and readies it onto a run queue
// (goready). Here each thread owns one sudog (SyncThread.swift) with a
// futex word `park`: the waiter sets it to `parkWaiting` before releasing
// the root lock, then waits for `parkReady`, first spinning briefly
// (`parkSpinRounds`, an adaptation: a futex sleep and wake cost 2.4-63 us
// here against Go's ~0.2 us goroutine switch; Go's M spins in findrunnable
// before it sleeps for the same reason), then sleeping in FUTEX_WAIT after
// announcing `parkSleeping`. The releaser swaps in `parkReady` and issues a
// futex wake only if the old value was `parkSleeping`. Go's `goyield` after
// a hand-off (run the waiter now, on this P) becomes `osyield`.
//
// On a goroutine (GoRuntime/Sched) the sudog is the goroutine's own (its
// `g` set) and `park` is the scheduler's gopark on the same park word: the
// commit (parkWaiting -> parkSleeping) happens on the scheduler stack after
// the goroutine is switched out, and a releaser that finds parkSleeping
// readies the G into its runnext instead of a futex wake. The hand-off's
// goyield then is a real Gosched... kept as in Go: `goyield` puts the
// releaser on the local queue; here Gosched (the global queue) stands in.
//
// Not ported: block/mutex profiling (`acquiretime`, `releasetime`), which
// belong to Go's profiler.
//
// Invariants (checked by `SemaTable.checkInvariants`):
//   - every sudog in a root's treap has `elem` set to an address that maps
//     to that root; treap nodes have distinct `elem`s, are BST-ordered by
//     address and heap-ordered by ticket (a parent's ticket <= its child's);
//   - a treap node's waiters (waitlink chain) share its `elem`; `waittail`
//     is the last of them or nil when it has none;
//   - `nwait` >= the number of queued sudogs (it counts threads between
//     their increment and their dequeue or their own decrement).

import Synchronization

/// `semTabSize`: roots in the semaphore table (prime, as in Go).
@usableFromInline let semTabSize = 251

/// Bytes per root: one cache line, as Go pads `semTable` entries.
let semaRootStride = 64

/// Park word: the waiter is queued and not asleep.
@usableFromInline let parkWaiting: UInt32 = 0
/// Park word: a releaser readied the waiter; it may run.
@usableFromInline let parkReady: UInt32 = 1
/// Park word: the waiter is (about to be) asleep in FUTEX_WAIT; the
/// releaser must issue a futex wake.
@usableFromInline let parkSleeping: UInt32 = 2

/// Spin rounds (`procyield(activeSpinCount)` each, ~0.4 us) a parked waiter
/// spends watching its park word before it sleeps in the kernel. Not in Go:
/// see the file essay. 0 makes every park a futex sleep.
@usableFromInline let parkSpinRounds = 4

/// A waiter: Go's `sudog`, reduced to what sema.go uses. Lives in its
/// thread's record; `park` is first so its address is the record's sudog
/// address. All fields but `park` are guarded by the root lock while the
/// sudog is queued; `ticket` is then written once more by the releaser
/// before it publishes `parkReady` (which orders that write before the
/// waiter's read).
@usableFromInline
struct SemaSudog {
    /// Futex word; only ever accessed atomically.
    var park: UInt32
    /// Treap priority while queued; after dequeue 0, or 1 for a hand-off.
    var ticket: UInt32
    /// This thread's fastrand state (xorshift32), never 0 once seeded.
    var rand: UInt32
    /// The semaphore address waited on.
    var elem: UnsafeMutableRawPointer?
    var parent: UnsafeMutablePointer<SemaSudog>?
    /// Treap children: smaller and larger addresses.
    var prev: UnsafeMutablePointer<SemaSudog>?
    var next: UnsafeMutablePointer<SemaSudog>?
    /// Next waiter on the same address (FIFO list).
    var waitlink: UnsafeMutablePointer<SemaSudog>?
    /// Last waiter of the list; set only on the treap node.
    var waittail: UnsafeMutablePointer<SemaSudog>?
    /// The goroutine (GoRuntime/Sched) owning this sudog, nil for a
    /// thread's. Set once when the goroutine's record is made.
    var g: UnsafeMutableRawPointer?
}

/// Atomic view of a sudog's park word.
@inline(__always)
func parkWord(_ s: UnsafeMutablePointer<SemaSudog>) -> UnsafeMutablePointer<UInt32> {
    UnsafeMutableRawPointer(s).assumingMemoryBound(to: UInt32.self)
}

/// Go's `fastrand` for treap tickets, per thread.
@inline(__always)
func fastrand(_ s: UnsafeMutablePointer<SemaSudog>) -> UInt32 {
    var x = s.pointee.rand
    if x == 0 { x = UInt32(truncatingIfNeeded: UInt(bitPattern: s) >> 6) | 1 }
    x ^= x << 13
    x ^= x >> 17
    x ^= x << 5
    s.pointee.rand = x
    return x
}

/// Layout of one root in the table's memory (one cache line each).
@usableFromInline
struct SemaRootStorage {
    /// Runtime-lock key (lock_futex.go), guards `treap`.
    var lockKey: UInt32
    /// Waiters on this root; read without the lock.
    var nwait: UInt32
    /// Root of the treap of distinct waited-on addresses.
    var treap: UnsafeMutablePointer<SemaSudog>?
}

/// Go's `semaRoot`: a view of one root of the table.
@usableFromInline
struct SemaRoot {
    @usableFromInline let p: UnsafeMutablePointer<SemaRootStorage>

    @inline(__always) @usableFromInline
    init(_ p: UnsafeMutablePointer<SemaRootStorage>) { self.p = p }

    @inline(__always) var lock: RuntimeLock {
        RuntimeLock(UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt32.self))
    }

    /// `nwait`, always accessed atomically.
    @inline(__always) @usableFromInline var nwait: UnsafeAtomic32 {
        UnsafeAtomic32((UnsafeMutableRawPointer(p) + 4).assumingMemoryBound(to: UInt32.self))
    }
}

/// Go's `semtable`: `semTabSize` roots, one per cache line, never freed.
@usableFromInline
enum SemaTable {
    @usableFromInline static let base: UnsafeMutableRawPointer =
        syncAllocAligned(semTabSize * semaRootStride)

    /// `semTable.rootFor`: the root for a semaphore address.
    @inline(__always) @usableFromInline
    static func root(for addr: UnsafeMutablePointer<UInt32>) -> SemaRoot {
        let i = Int((UInt(bitPattern: addr) >> 3) % UInt(semTabSize))
        return SemaRoot((base + i * semaRootStride).assumingMemoryBound(to: SemaRootStorage.self))
    }
}

// MARK: - Acquire and release

/// `cansemacquire`: take one unit if the counter is positive.
@inline(__always) @usableFromInline
func cansemacquire(_ addr: UnsafeMutablePointer<UInt32>) -> Bool {
    let a = UnsafeAtomic32(addr)
    while true {
        let v = a.load()
        if v == 0 { return false }
        if a.compareExchange(expected: v, desired: v - 1) { return true }
    }
}

/// `semacquire1`: take one unit of the semaphore at `addr`, waiting in
/// FIFO order (or at the head of the queue when `lifo`) while it is zero.
@inline(__always) @usableFromInline
func semacquire(_ addr: UnsafeMutablePointer<UInt32>, lifo: Bool) {
    if cansemacquire(addr) { return }
    semacquireSlow(addr, lifo: lifo)
}

@inline(never) @usableFromInline
func semacquireSlow(_ addr: UnsafeMutablePointer<UInt32>, lifo: Bool) {
    let me = SyncThread.current
    let s = me.sudog
    let root = SemaTable.root(for: addr)
    s.pointee.ticket = 0
    while true {
        root.lock.lock()
        // Add ourselves to nwait to disable the "easy case" in semrelease.
        root.nwait.add(1)
        // Check cansemacquire to avoid missed wakeup.
        if cansemacquire(addr) {
            root.nwait.subtract(1)
            root.lock.unlock()
            break
        }
        // Any semrelease after the cansemacquire knows we're waiting
        // (we set nwait above), so go to sleep.
        root.queue(addr, s, lifo: lifo)
        me.count(lifo ? .semaLifoQueued : .semaQueued)
        // goparkunlock: announce "waiting" before the lock can be taken by
        // a releaser, then release it and park.
        UnsafeAtomic32(parkWord(s)).store(parkWaiting)
        root.lock.unlock()
        park(s, me)
        if s.pointee.ticket != 0 || cansemacquire(addr) { break }
    }
}

/// `semrelease1`: add one unit to the semaphore at `addr` and ready one
/// waiter. With `handoff`, the unit goes straight to that waiter.
@inline(__always) @usableFromInline
func semrelease(_ addr: UnsafeMutablePointer<UInt32>, handoff: Bool) {
    let root = SemaTable.root(for: addr)
    UnsafeAtomic32(addr).add(1)
    // Easy case: no waiters? This check must happen after the add, to
    // avoid a missed wakeup (see loop in semacquire).
    if root.nwait.load() == 0 { return }
    semreleaseSlow(addr, root, handoff: handoff)
}

@inline(never) @usableFromInline
func semreleaseSlow(_ addr: UnsafeMutablePointer<UInt32>, _ root: SemaRoot, handoff: Bool) {
    // Harder case: search for a waiter and wake it.
    root.lock.lock()
    if root.nwait.load() == 0 {
        // The count is already consumed by another thread, so no need to
        // wake up another thread.
        root.lock.unlock()
        return
    }
    let found = root.dequeue(addr)
    if found != nil { root.nwait.subtract(1) }
    root.lock.unlock()
    guard let s = found else { return }
    if s.pointee.ticket != 0 { goFatal("corrupted semaphore ticket") }
    let me = SyncThread.current
    var handedOff = false
    if handoff && cansemacquire(addr) {
        s.pointee.ticket = 1
        handedOff = true
        me.count(.handoffs)
    }
    // After ready, `s` may belong to a new wait of its thread: touch only
    // the park word, and only through ready.
    ready(s, me)
    if handedOff {
        // Go: goyield so the waiter runs at once on this P. Threads: let a
        // waiter the kernel woke onto this CPU run now.
        if Go.isGoroutine { Go.yield() } else { Machine.osyield() }
    }
}

// MARK: - Park and ready

/// gopark for threads: wait until a releaser publishes `parkReady`.
@inline(never)
func park(_ s: UnsafeMutablePointer<SemaSudog>, _ me: SyncThread) {
    let word = parkWord(s)
    if s.pointee.g != nil {
        goparkOnWord(word)
        return
    }
    let a = UnsafeAtomic32(word)
    for _ in 0..<parkSpinRounds {
        if a.load() == parkReady { return }
        Machine.procyield(activeSpinCount)
    }
    if !a.compareExchange(expected: parkWaiting, desired: parkSleeping) { return }
    while true {
        me.count(.futexSleeps)
        FutexOps.wait(word, ifEquals: parkSleeping)
        if a.load() == parkReady { return }
    }
}

/// goready for threads: publish `parkReady`; wake the waiter if it sleeps.
@inline(__always)
func ready(_ s: UnsafeMutablePointer<SemaSudog>, _ me: SyncThread) {
    let word = parkWord(s)
    me.count(.semaReadies)
    if UnsafeAtomic32(word).exchange(parkReady) == parkSleeping {
        if let g = s.pointee.g {
            goreadyG(g.assumingMemoryBound(to: G.self))
            return
        }
        me.count(.futexWakes)
        FutexOps.wake(word, 1)
    }
}
