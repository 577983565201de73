// The scheduler's data structures: runtime/runtime2.go's g, m, p and schedt,
// reduced to what the GMP core uses (no GC, no syscalls, no timers, no
// netpoller, no preemption, no locked Ms). Proc.swift has the algorithms,
// RunQueue.swift the per-P run queue.
//
// Design (proc.go's opening essay, restated). The scheduler's job is to
// distribute ready-to-run goroutines (G) over worker threads (M). An M runs
// Go code only while it holds a P, a "processor": the right to run, and the
// resources a running M needs (here: a local run queue and a free list of
// dead Gs). There are exactly GOMAXPROCS Ps (`Go.run(maxprocs:)`). An M
// without work spins a little looking for some (`spinning`), then parks
// its thread on a futex note (stopm); whoever makes work runnable while
// there is an idle P and no spinning M wakes one (wakep), so that
// parallelism is used without a thundering herd: "at most one spinning M
// at a time, and a spinning M that finds work wakes the next".
//
// All three live in manually allocated memory (so that fields are plain
// loads and stores, never Swift exclusivity checks or reference counting);
// fields read by other threads are accessed atomically through their
// address, the way the channel port treats hchan.
//
// Ownership and locking:
//   - a G's fields belong to the M running it, or (while it is not running)
//     to whoever holds it: a run queue, a wait queue's waker, a free list;
//     `atomicstatus` is always accessed atomically;
//   - a P's fields belong to the M that holds it (p.m), except the run
//     queue's head, tail, slots and runnext (lock-free, RunQueue.swift) and
//     the statistics counters (owner writes, anyone reads, relaxed);
//   - schedt's lists (idle Ms, idle Ps, global run queue) are guarded by
//     `sched.lock`, the global free Gs by `sched.gFree.lock`, as in Go; the
//     counters read on fast paths (npidle, nmspinning, runqsize, gFreeN,
//     goidgen) are atomic. There is no global count of live goroutines
//     (Go has none either): each P counts the goroutines created and
//     exited on it, and checkdead sums them when every M is idle.

import CGoRuntime
import Synchronization

// MARK: - G status (runtime2.go)

/// _Gidle: just allocated, not yet initialized.
@usableFromInline let _Gidle: UInt32 = 0
/// _Grunnable: on a run queue, not executing user code, stack not owned.
@usableFromInline let _Grunnable: UInt32 = 1
/// _Grunning: may execute user code; owns its stack; has an M and a P.
@usableFromInline let _Grunning: UInt32 = 2
/// _Gsyscall: in a system call (not used: there are no syscall hand-offs).
@usableFromInline let _Gsyscall: UInt32 = 3
/// _Gwaiting: blocked (gopark); on some wait queue, so that a goready can
/// find it; not on a run queue.
@usableFromInline let _Gwaiting: UInt32 = 4
/// _Gdead: unused: exited, on a free list, or being initialized.
@usableFromInline let _Gdead: UInt32 = 6

// MARK: - P status (runtime2.go)

/// _Pidle: not used to run user code; on the idle P list.
let _Pidle: UInt32 = 0
/// _Prunning: owned by an M, running user code or the scheduler.
let _Prunning: UInt32 = 1

// MARK: - Constants (proc.go, runtime2.go)

/// Size of a P's local run queue (runtime2.go: `runq [256]guintptr`).
@usableFromInline let runqSize: UInt32 = 256
/// schedule() checks the global run queue once per this many schedticks,
/// so that two goroutines handing off through runnext cannot starve it
/// (proc.go: "Check the global runnable queue once in a while").
let globalRunqCheckPeriod: UInt32 = 61
/// findrunnable's steal attempts over all Ps (proc.go stealWork: stealTries).
let stealTries = 4
/// gfput moves half of a P's free Gs to the global list once it has this
/// many (proc.go: 64 and 32).
let gFreeLocalMax: Int32 = 64
let gFreeLocalKeep: Int32 = 32
/// runqgrab's wait before stealing a running P's runnext (proc.go: usleep(3)).
let stealRunnextSleepMicros: UInt32 = 3
/// Goroutine ids a P takes from sched.goidgen at a time, so that newproc
/// does not touch the shared counter for every go statement (runtime2.go
/// _GoidCacheBatch).
let goidCacheBatch = 16

/// Default usable stack size of a goroutine. Go starts at 8 KiB and grows
/// by copying; Swift frames cannot be moved, so ours are fixed
/// (CGoRuntimeSched.h) and sized for Swift's larger frames.
public let defaultGoroutineStackSize = 64 * 1024

// MARK: - Structures

@usableFromInline typealias GPtr = UnsafeMutablePointer<G>
@usableFromInline typealias MPtr = UnsafeMutablePointer<M>
@usableFromInline typealias PPtr = UnsafeMutablePointer<P>

/// runtime2.go `g`.
@usableFromInline
struct G {
    /// Stack, saved registers, per-G channel and sync records (C).
    var ctx: UnsafeMutablePointer<cgort_gctx>
    /// _Gidle ... _Gdead; atomic.
    var atomicstatus: UInt32 = _Gidle
    /// Goroutine id (goidgen), for diagnostics.
    var goid: Int = 0
    /// Link in the global run queue or a free list (g.schedlink).
    var schedlink: GPtr? = nil
    /// The M running this G (nil unless _Grunning).
    var m: MPtr? = nil
    /// The body of the go statement; taken (and cleared) when it starts.
    var fn: (() -> Void)? = nil
}

/// runtime2.go `m`: an OS thread running the scheduler.
@usableFromInline
struct M {
    /// g0's saved context (the thread's own stack). First field: its
    /// address is the M's.
    var g0: cgort_mctx = cgort_mctx()
    var id: Int64 = 0
    /// The P this M holds (nil when idle).
    var p: PPtr? = nil
    /// The P handed over by startm before waking this M.
    var nextp: PPtr? = nil
    /// The G running on this M.
    var curg: GPtr? = nil
    /// Looking for work (counted in sched.nmspinning).
    var spinning: Bool = false
    /// Sleep note (lock_futex.go `note`): 0 clear, 1 woken.
    var park: UInt32 = 0
    /// Idle M list link.
    var schedlink: MPtr? = nil
    /// All-M list link (for teardown).
    var alllink: MPtr? = nil
    /// pthread handle; 0 for M0 (the thread that called Go.run).
    var thread: UInt64 = 0
    /// What the G that just switched back asks g0 to do (mcall's fn).
    var action: MAction = .none
    /// gopark's commit: the word the parking G waits on (see parkCommit).
    var waitword: UnsafeMutablePointer<UInt32>? = nil
    /// fastrand state (wyrand), per M.
    var fastrand: UInt64 = 0
}

/// The function mcall runs on g0 for the G that switched back.
@usableFromInline
enum MAction: UInt8 {
    case none
    /// park_m: the G parks (gopark).
    case park
    /// gosched_m: the G yields to the global run queue.
    case gosched
    /// goexit0: the G has exited.
    case goexit
}

/// Scheduler event counters of one P (owner writes, relaxed; summed by
/// Go.statistics).
@usableFromInline
struct PStats {
    /// newproc calls on this P (main included).
    var created: UInt64 = 0
    /// goexit0 calls on this P. Live goroutines = sum(created - exited)
    /// over all Ps (see checkdead).
    var exited: UInt64 = 0
    var parks: UInt64 = 0
    var steals: UInt64 = 0
    var stolenGs: UInt64 = 0
    var runnextHits: UInt64 = 0
    var globalTakes: UInt64 = 0
    var spinningWakeups: UInt64 = 0
    var gosched: UInt64 = 0
    var schedules: UInt64 = 0
}

/// runtime2.go `p`.
@usableFromInline
struct P {
    var id: Int32
    var status: UInt32 = _Pidle
    /// Idle P list link.
    var link: PPtr? = nil
    /// Incremented on every scheduler call that does not inherit time.
    var schedtick: UInt32 = 0
    /// The M holding this P.
    var m: MPtr? = nil
    /// Local run queue (RunQueue.swift): head and tail are atomic; slots
    /// are atomic words holding G pointers.
    var runqhead: UInt32 = 0
    var runqtail: UInt32 = 0
    var runq: UnsafeMutablePointer<UInt>
    /// A G to run next, ahead of runq (atomic G pointer, 0 = none).
    var runnext: UInt = 0
    /// Free dead Gs (gFree), with its length.
    var gFree: GPtr? = nil
    var gFreeN: Int32 = 0
    /// Goroutine ids [goidcache, goidcacheend) reserved for this P
    /// (runtime2.go p.goidcache, p.goidcacheend).
    var goidcache: Int = 0
    var goidcacheend: Int = 0
    var stats = PStats()

    init(id: Int32) {
        self.id = id
        runq = .allocate(capacity: Int(runqSize))
        runq.initialize(repeating: 0, count: Int(runqSize))
    }
}

/// proc.go `randomOrder`: enumerates 0..<count starting anywhere, stepping
/// by an increment coprime with count, so every P is visited once in a
/// pseudo-random order (stealOrder).
struct RandomOrder {
    var count: UInt32 = 0
    var coprimes: [UInt32] = []

    mutating func reset(_ count: UInt32) {
        self.count = count
        coprimes = (1...max(count, 1)).filter { gcd($0, count) == 1 }
    }

    func start(_ i: UInt32) -> RandomEnum {
        RandomEnum(i: 0, count: count, pos: i % count,
                   inc: coprimes[Int(i % UInt32(coprimes.count))])
    }

    private func gcd(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

struct RandomEnum {
    var i: UInt32
    let count: UInt32
    var pos: UInt32
    let inc: UInt32
    var done: Bool { i == count }
    mutating func next() { i += 1; pos = (pos + inc) % count }
}

/// runtime2.go `schedt`.
@usableFromInline
struct SchedT {
    // sched.lock (a RuntimeLock, lock_futex.go) guards the lists below. Its
    // key lives apart from this struct (cgort_sched_lock_key, C storage): TSan
    // instruments a Swift store to any field through `pointee` as an access
    // at the struct's base address, which would collide with atomic
    // operations on a key kept at offset 0.
    /// Idle Ms, their count, and the number of Ms ever started (mcount).
    var midle: MPtr? = nil
    var nmidle: Int32 = 0
    var mcount: Int32 = 0
    var allm: MPtr? = nil
    /// Spinning Ms (atomic).
    var nmspinning: UInt32 = 0
    /// Idle Ps and their count (npidle atomic).
    var pidle: PPtr? = nil
    var npidle: UInt32 = 0
    /// Global run queue (gQueue) and its size (atomic for lock-free peeks).
    var runqhead: GPtr? = nil
    var runqtail: GPtr? = nil
    var runqsize: Int32 = 0
    /// Global free Gs, guarded by their own lock (sched.gFree.lock,
    /// cgort_gfree_lock_key), not sched.lock, as in Go; gFreeN
    /// atomic for lock-free peeks.
    var gFree: GPtr? = nil
    var gFreeN: Int32 = 0
    /// The last goroutine id handed out to a P's goidcache (atomic).
    var goidgen: Int = 0
    /// Set once checkdead finds every M idle and no goroutine left: Ms
    /// leave their loops (atomic).
    var done: UInt32 = 0
    /// newproc may wake Ms once main has been started (proc.go mainStarted).
    var mainStarted: Bool = false
    /// Between Go.run's setup and teardown.
    var running: UInt32 = 0
    /// GOMAXPROCS and the Ps.
    var gomaxprocs: Int32 = 0
    var allp: UnsafeMutablePointer<PPtr>? = nil
    var stealOrder = RandomOrder()
    /// Usable stack bytes for new goroutines.
    var stackSize: Int = defaultGoroutineStackSize
    /// Ms started by this run (SchedulerStatistics.threads).
    var threadsStarted: Int = 0
}

// MARK: - Atomic access to plain fields

@inline(__always) @usableFromInline
func atomicU32(_ p: UnsafeMutablePointer<UInt32>) -> UnsafeMutablePointer<Atomic<UInt32>> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self)
}
@inline(__always) @usableFromInline
func atomicI32(_ p: UnsafeMutablePointer<Int32>) -> UnsafeMutablePointer<Atomic<Int32>> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int32>.self)
}
@inline(__always) @usableFromInline
func atomicUInt(_ p: UnsafeMutablePointer<UInt>) -> UnsafeMutablePointer<Atomic<UInt>> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt>.self)
}
@inline(__always) @usableFromInline
func atomicInt(_ p: UnsafeMutablePointer<Int>) -> UnsafeMutablePointer<Atomic<Int>> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<Int>.self)
}
/// Adds 1 to an owner-written counter (relaxed load + store, no locked
/// instruction; readers use relaxed loads).
@inline(__always) @usableFromInline
func bump(_ p: UnsafeMutablePointer<UInt64>, _ d: UInt64 = 1) {
    let a = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self)
    a.pointee.store(a.pointee.load(ordering: .relaxed) &+ d, ordering: .relaxed)
}
@inline(__always) @usableFromInline
func loadRelaxed(_ p: UnsafeMutablePointer<UInt64>) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
}

@inline(__always) @usableFromInline
func gFromWord(_ w: UInt) -> GPtr? { GPtr(bitPattern: w) }
@inline(__always) @usableFromInline
func wordFromG(_ g: GPtr?) -> UInt { UInt(bitPattern: g) }

// MARK: - Test support

extension G {
    /// A G that only stands for itself in run queues (tests of
    /// RunQueue.swift): its context is never touched.
    static func makeTokenForTesting(id: Int) -> GPtr {
        let gp = GPtr.allocate(capacity: 1)
        gp.initialize(to: G(ctx: UnsafeMutablePointer<cgort_gctx>(bitPattern: 0x40)!))
        gp.pointee.goid = id
        return gp
    }
}
