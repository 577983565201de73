// Sudogs, wait queues, and parking a thread: the parts of runtime/chan.go
// (waitq.enqueue/dequeue/dequeueSudoG), runtime/runtime2.go (sudog) and
// runtime/proc.go (acquireSudog/releaseSudog, gopark/goready) that channels
// need, with OS threads in the place of goroutines.
//
// A sudog is one blocked operation: the thread (`m`, its per-thread record
// from CGoRuntimeChan.h), the element slot (`elem`: where a sender's value
// is read from or a receiver's value is written to), and queue links. A
// plain send or receive parks with one sudog; a select parks with one per
// case, all naming the same thread, which is why the futex word the thread
// sleeps on lives in the thread's record (Go's g) and not in each sudog:
// whichever sudog is completed first wakes the one sleeper.
//
// On a goroutine (GoRuntime/Sched) the record is the goroutine's own (its
// `g` is set) and parking really is Go's: `park` calls the scheduler's
// gopark with the same park word (committed 0 -> 2 on the scheduler stack),
// and a waker that finds 2 readies the G into its own runnext instead of
// issuing a futex wake. No spinning: the M runs other goroutines meanwhile.
//
// Parking a thread (gopark + the M's futex note in Go):
//
//   park word  0 = waiting, 1 = readied, 2 = asleep in futex_wait
//   waiter     spin, checking for 1; then CAS 0 -> 2 and futex_wait until 1
//   waker      exchange(1); only if the old value was 2, futex_wake
//
// so a waker pays for a system call only when the waiter really sleeps.
//
// The spin policy. A futex round trip between threads on different vCPUs
// costs 44-63 us on this VM (the idle vCPU halts and is woken through the
// host), one on a single vCPU 2-4 us, and a partner that is running on the
// other vCPU answers in a few hundred ns. The two vCPUs are often not
// running at the same time, and then spinning only burns the quantum the
// partner needs. So `park` waits in three phases:
//
//   1. active spin: up to the thread's adaptive `spin_limit` rounds of
//      `ChanSpin.pauses` PAUSEs, checking the park word between rounds.
//      Success doubles the limit (to `maxRounds`); reaching phase 2 halves
//      it (to `minRounds`), so the spin backs off within a few parks once
//      the partner stops running alongside us, and grows back when it does;
//   2. passive spin: up to `ChanSpin.yields` sched_yield calls, checking
//      after each: a partner sharing our vCPU runs and answers;
//   3. sleep: CAS 0 -> 2 and futex_wait until readied.
//
// Measured here (gobench chan/pingpong and chan/buffered/cap=1, 200 ms x 3,
// machine shared with other builds, threads mostly taking turns on the
// vCPUs, parallelism 0.7-1.0): pure spin-then-sleep (no yields) 12.2 us
// per round trip with 2 sleeps/op; spin 8 rounds then yield 3.4-4.2 us
// with ~0 sleeps/op; the plain futex ping-pong yardstick 5.6-5.9 us in the
// same session. Yielding, not spinning, is what wins while the vCPUs take
// turns; the adaptive limit keeps the spin short then and lets it grow when
// both run.
//
// Invariants:
//   - a sudog is on at most one wait queue, and only while its thread is
//     parked (or about to park) with the channel lock released;
//   - `next == nil && prev == nil` and the queue's first is not it <=> it is
//     not queued (dequeue clears the links, as Go's "mark as removed");
//   - for a select sudog (`isSelect`), exactly one waker wins
//     `cgort_chan_select_done_cas` and completes that sudog; the others
//     skip it in dequeue and the select removes them itself (pass 3);
//   - a thread's park word is reset to 0 only by its owner, before any of
//     its sudogs is enqueued (under the channel lock).

import CGoRuntime
import Synchronization

/// runtime2.go `sudog`: one blocked channel operation of one thread.
@usableFromInline
struct Sudog {
    /// The parked thread's or goroutine's record.
    @usableFromInline var m: UnsafeMutablePointer<cgort_chan_m>
    /// The parked goroutine (Go's `g`), nil for a plain thread.
    @usableFromInline var g: UnsafeMutableRawPointer?
    /// Wait-queue links (chan.go waitq).
    @usableFromInline var next: UnsafeMutablePointer<Sudog>?
    @usableFromInline var prev: UnsafeMutablePointer<Sudog>?
    /// Data element: a sender's value (initialized, owned by the sender) or
    /// a receiver's empty slot (the waker initializes it on success).
    @usableFromInline var elem: UnsafeMutableRawPointer?
    /// The channel this sudog waits on (Go's `c`), for select bookkeeping.
    @usableFromInline var c: UnsafeMutablePointer<HChan>?
    /// Select's list of its sudogs, in lock order (Go's `waitlink`).
    @usableFromInline var waitlink: UnsafeMutablePointer<Sudog>?
    /// closechan's list of threads to ready after unlocking (Go's
    /// g.schedlink); read by the closer before it readies the thread.
    @usableFromInline var schedlink: UnsafeMutablePointer<Sudog>?
    /// Set by a select; makes dequeue race for `select_done` first.
    @usableFromInline var isSelect: Bool
    /// True if the operation completed because of a send or receive, false
    /// if because the channel was closed (Go's `success`).
    @usableFromInline var success: Bool
}

// MARK: - Sudog cache (proc.go acquireSudog / releaseSudog)

/// The calling thread's record.
@inlinable @inline(__always)
func currentM() -> UnsafeMutablePointer<cgort_chan_m> { cgort_chan_self() }

/// proc.go acquireSudog: take a sudog from the thread's cache or allocate.
/// The result has every field reset, `m` set to the caller.
@usableFromInline
func acquireSudog(_ m: UnsafeMutablePointer<cgort_chan_m>) -> UnsafeMutablePointer<Sudog> {
    let s: UnsafeMutablePointer<Sudog>
    if let cached = m.pointee.sudog_cache {
        s = cached.assumingMemoryBound(to: Sudog.self)
        m.pointee.sudog_cache = UnsafeMutableRawPointer(s.pointee.next)
    } else {
        s = .allocate(capacity: 1)
    }
    s.initialize(to: Sudog(m: m, g: m.pointee.g, next: nil, prev: nil, elem: nil, c: nil,
                           waitlink: nil, schedlink: nil, isSelect: false, success: false))
    return s
}

/// proc.go releaseSudog: return a sudog that is on no queue to the cache.
@usableFromInline
func releaseSudog(_ m: UnsafeMutablePointer<cgort_chan_m>, _ s: UnsafeMutablePointer<Sudog>) {
    if s.pointee.elem != nil { goFatal("runtime: sudog with non-nil elem") }
    if s.pointee.next != nil || s.pointee.prev != nil { goFatal("runtime: sudog with non-nil next/prev") }
    s.pointee.next = m.pointee.sudog_cache?.assumingMemoryBound(to: Sudog.self)
    m.pointee.sudog_cache = UnsafeMutableRawPointer(s)
}

// MARK: - Wait queues (chan.go waitq)

/// chan.go `waitq`: a doubly linked FIFO of sudogs. `first` is also read
/// without the channel lock by the non-blocking fast paths (empty/full of
/// an unbuffered channel), so every write of it is an atomic store; reads
/// under the lock may be plain.
@usableFromInline
struct WaitQ {
    @usableFromInline var first: UnsafeMutablePointer<Sudog>?
    @usableFromInline var last: UnsafeMutablePointer<Sudog>?
}

extension UnsafeMutablePointer where Pointee == WaitQ {
    /// Lock-free read of `first` (fast paths only).
    @inlinable @inline(__always)
    var firstAtomic: UnsafeMutablePointer<Sudog>? {
        atomicLoadPointer(&pointee.first)
    }

    @inlinable @inline(__always)
    func setFirst(_ s: UnsafeMutablePointer<Sudog>?) {
        atomicStorePointer(&pointee.first, s)
    }

    /// waitq.enqueue. Channel lock held.
    @inlinable
    func enqueue(_ sgp: UnsafeMutablePointer<Sudog>) {
        sgp.pointee.next = nil
        guard let x = pointee.last else {
            sgp.pointee.prev = nil
            setFirst(sgp)
            pointee.last = sgp
            return
        }
        sgp.pointee.prev = x
        x.pointee.next = sgp
        pointee.last = sgp
    }

    /// waitq.dequeue: the first sudog whose operation we may complete.
    /// A select sudog whose thread was already claimed by another case
    /// (select_done CAS lost) is dropped and skipped; its select will find
    /// it unlinked in pass 3. Channel lock held.
    @inlinable @inline(__always)
    func dequeue() -> UnsafeMutablePointer<Sudog>? {
        while true {
            guard let sgp = pointee.first else { return nil }
            let y = sgp.pointee.next
            if let y {
                y.pointee.prev = nil
                setFirst(y)
                sgp.pointee.next = nil // mark as removed (see dequeueSudoG)
            } else {
                setFirst(nil)
                pointee.last = nil
            }
            if sgp.pointee.isSelect && !cgort_chan_select_done_cas(sgp.pointee.m) {
                continue
            }
            return sgp
        }
    }

    /// select.go dequeueSudoG: unlink `sgp` if it is still queued. Channel
    /// lock held.
    @inlinable
    func dequeueSudoG(_ sgp: UnsafeMutablePointer<Sudog>) {
        let x = sgp.pointee.prev
        let y = sgp.pointee.next
        if let x {
            if let y {
                // middle of queue
                x.pointee.next = y
                y.pointee.prev = x
                sgp.pointee.next = nil
                sgp.pointee.prev = nil
                return
            }
            // end of queue
            x.pointee.next = nil
            pointee.last = x
            sgp.pointee.prev = nil
            return
        }
        if let y {
            // start of queue
            y.pointee.prev = nil
            setFirst(y)
            sgp.pointee.next = nil
            return
        }
        // x == y == nil: either the only element or already removed.
        if pointee.first == sgp {
            setFirst(nil)
            pointee.last = nil
        }
    }

    /// Number of queued sudogs (tests; channel lock held).
    var countForTesting: Int {
        var n = 0
        var s = pointee.first
        while let x = s { n += 1; s = x.pointee.next }
        return n
    }
}

// MARK: - Parking (gopark / goready)

/// The spin-then-sleep policy of a parked channel operation. See the essay
/// at the top of this file for the reasoning and ChanBenchmarks for the
/// measurements.
enum ChanSpin {
    /// PAUSEs per active spin round (~12-15 ns each here, so a round is
    /// ~150 ns: about one cross-core cache-line round trip).
    static let pauses: UInt32 = 10
    /// Active rounds a thread starts with (~1.2 us).
    static let initialRounds: Int32 = 8
    /// Floor of the adaptive limit (~300 ns): even after failed spins, a
    /// waiter checks briefly for a partner running on the other vCPU, and
    /// a success there lets the limit grow again.
    static let minRounds: Int32 = 2
    /// Ceiling of the adaptive limit (~10 us of spinning): far below the
    /// 44-63 us a cross-vCPU futex wake costs, so a spin that fails costs
    /// less than the sleep it tried to avoid.
    static let maxRounds: Int32 = 64
    /// sched_yield calls before sleeping (phase 2). Each lets a partner
    /// that shares our vCPU run; on an idle vCPU it returns in ~0.5 us.
    static let yields = 4
}

/// Events counted per thread; `ChannelEvents` reads them.
@usableFromInline
enum ChanEvent: Int32 {
    /// Operations that blocked (enqueued a sudog and parked).
    case parks = 0
    /// Parks that ended in futex_wait (the spin did not see the wake-up).
    case sleeps = 1
    /// goready calls: a thread completed another's parked operation.
    case wakeups = 2
    /// futex_wake system calls (the readied thread was asleep).
    case futexWakes = 3
    /// Elements copied straight between a sender and a parked receiver or
    /// from a parked sender, bypassing the buffer.
    case handoffs = 4
    /// Spin rounds (of ChanSpin.pauses PAUSEs) spent waiting.
    case spinRounds = 5
    /// sched_yield calls while waiting.
    case yields = 6
}

@inlinable @inline(__always)
func countEvent(_ m: UnsafeMutablePointer<cgort_chan_m>, _ e: ChanEvent, _ d: UInt64 = 1) {
    cgort_chan_count(m, e.rawValue, d)
}

/// Prepare the caller's park word before it enqueues any sudog (owner
/// only, before the channel lock is released).
@inlinable @inline(__always)
func prepareToPark(_ m: UnsafeMutablePointer<cgort_chan_m>) {
    cgort_chan_key_store(m, 0)
    m.pointee.param = nil
}

/// gopark: wait until a waker has readied this thread. Called with no
/// channel lock held, after the thread's sudog(s) were enqueued.
@usableFromInline @inline(never)
func park(_ m: UnsafeMutablePointer<cgort_chan_m>) {
    countEvent(m, .parks)
    if m.pointee.g != nil {
        // A goroutine: gopark on the park word; the M runs other Gs.
        goparkOnWord(&m.pointee.key)
        return
    }
    var limit = m.pointee.spin_limit
    if limit == 0 { limit = ChanSpin.initialRounds }
    // Phase 1, active spin: wins when the partner runs on the other vCPU.
    var rounds: Int32 = 0
    while rounds < limit {
        if cgort_chan_key_load(m) == 1 {
            countEvent(m, .spinRounds, UInt64(rounds))
            m.pointee.spin_limit = min(ChanSpin.maxRounds, limit &* 2)
            return
        }
        Machine.procyield(ChanSpin.pauses)
        rounds &+= 1
    }
    countEvent(m, .spinRounds, UInt64(rounds))
    // Phase 2, passive spin: wins when the partner shares our vCPU.
    // Spinning did not pay this time: spin less next time.
    m.pointee.spin_limit = max(ChanSpin.minRounds, limit / 2)
    for y in 0..<ChanSpin.yields {
        Machine.osyield()
        if cgort_chan_key_load(m) == 1 {
            countEvent(m, .yields, UInt64(y + 1))
            return
        }
    }
    countEvent(m, .yields, UInt64(ChanSpin.yields))
    // Phase 3, sleep: announce it with 0 -> 2; if that fails the waker
    // already stored 1 and we are done.
    if cgort_chan_key_cas(m, 0, 2) {
        countEvent(m, .sleeps)
        repeat {
            _ = cgort_futex_wait(&m.pointee.key, 2, -1)
        } while cgort_chan_key_load(m) != 1
    }
}

/// goready: let the thread that owns `sg` continue. Call with no channel
/// lock held is not required (Go readies after unlocking; so do we, to
/// keep the critical section short). `waker` is the caller's record.
@inlinable @inline(__always)
func goready(_ target: UnsafeMutablePointer<cgort_chan_m>, waker: UnsafeMutablePointer<cgort_chan_m>) {
    countEvent(waker, .wakeups)
    if cgort_chan_key_xchg(target, 1) == 2 {
        if let g = target.pointee.g {
            // A parked goroutine: ready it (into our runnext if we run on a P).
            goreadyG(g.assumingMemoryBound(to: G.self))
            return
        }
        countEvent(waker, .futexWakes)
        _ = cgort_futex_wake(&target.pointee.key, 1)
    }
}

// MARK: - Atomic access to plain fields

// hchan fields read without the lock (qcount, closed, recvq/sendq.first)
// are plain stored properties of a struct in manually allocated memory;
// these helpers give them atomic loads and stores through their address,
// as Go's atomic.Load/Loadp do on ordinary fields.

@inlinable @inline(__always)
func atomicLoadInt(_ p: UnsafeMutablePointer<Int>) -> Int {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int>.self).pointee.load(ordering: .acquiring)
}
@inlinable @inline(__always)
func atomicStoreInt(_ p: UnsafeMutablePointer<Int>, _ v: Int) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int>.self).pointee.store(v, ordering: .releasing)
}
@inlinable @inline(__always)
func atomicLoadU32(_ p: UnsafeMutablePointer<UInt32>) -> UInt32 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring)
}
@inlinable @inline(__always)
func atomicStoreU32(_ p: UnsafeMutablePointer<UInt32>, _ v: UInt32) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.store(v, ordering: .releasing)
}
@inlinable @inline(__always)
func atomicLoadPointer(_ p: UnsafeMutablePointer<UnsafeMutablePointer<Sudog>?>) -> UnsafeMutablePointer<Sudog>? {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UnsafeMutablePointer<Sudog>?>.self)
        .pointee.load(ordering: .acquiring)
}
@inlinable @inline(__always)
func atomicStorePointer(_ p: UnsafeMutablePointer<UnsafeMutablePointer<Sudog>?>, _ v: UnsafeMutablePointer<Sudog>?) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UnsafeMutablePointer<Sudog>?>.self)
        .pointee.store(v, ordering: .releasing)
}
