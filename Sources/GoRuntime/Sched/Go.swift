// The public face of the scheduler: Go.run (runtime.main and the bootstrap
// of schedinit/procresize/mstart, reduced), the go statement (newproc),
// Go.yield (runtime.Gosched), Go.numGoroutine (runtime.NumGoroutine) and
// the scheduler statistics the benchmarks report per op.
//
// A run: Go.run sets GOMAXPROCS Ps up, makes the calling thread M0 holding
// P0, creates the main goroutine and runs the scheduler loop on the calling
// thread. Other Ms are started on demand by wakep. When the last goroutine
// has exited, the last M to go idle finds no goroutine left (checkdead) and
// every M leaves its loop; M0 joins the others' threads, folds the
// statistics, keeps the dead Gs (with their stacks) on the global free list
// for the next run, frees the Ps and Ms, and returns.

import CGoRuntime
import Synchronization

/// Counts of the scheduler's work, for the current run (while one is
/// going on) or the last one.
public struct SchedulerStatistics: Sendable, Equatable {
    /// newproc calls, main included.
    public var goroutinesCreated: Int = 0
    /// gopark calls.
    public var parks: Int = 0
    /// Successful runqsteal calls.
    public var steals: Int = 0
    /// Ms (OS threads) the scheduler started, M0 (the caller of Go.run)
    /// not included.
    public var threads: Int = 0
    /// Gs taken from a P's runnext by schedule or findrunnable.
    public var runnextHits: Int = 0
    /// globrunqget calls that returned a G.
    public var globalRunqTakes: Int = 0
    /// Idle Ms woken to spin (startm with spinning, reusing an idle M).
    public var spinningWakeups: Int = 0
    /// Gosched calls.
    public var yields: Int = 0
    /// Gs switched to (execute).
    public var schedules: Int = 0

    public init() {}
}

public enum Go {
    /// Runs `main` as the main goroutine of a new scheduler with `maxprocs`
    /// Ps (GOMAXPROCS) on the calling thread, and returns when main and
    /// every goroutine it started have exited. Not reentrant: calling it
    /// from a goroutine, or while another run is going on, is fatal.
    public static func run(maxprocs: Int, _ main: @escaping @Sendable () -> Void) {
        schedRun(maxprocs: maxprocs, main)
    }

    /// runtime.Gosched: yield the processor; the goroutine goes to the
    /// global run queue and runs again later. On a plain thread: nothing.
    public static func yield() {
        gosched()
    }

    /// Functions each M's OS thread calls first and last, from the next
    /// run on (nil: none). Not part of Go: a harness that counts events per
    /// thread (gobench's allocation counter) adopts the scheduler's threads
    /// with them. M0, the caller of Go.run, calls neither.
    public static func setThreadHooks(begin: (@convention(c) () -> Void)?,
                                      end: (@convention(c) () -> Void)?) {
        cgort_sched_set_thread_hooks(begin, end)
    }

    /// runtime.NumGoroutine: live goroutines of the current run, main
    /// included; 0 when no run is going on.
    public static var numGoroutine: Int {
        currentNumGoroutine()
    }

    /// The scheduler statistics of the current run, or of the last one.
    public static var statistics: SchedulerStatistics {
        currentStatistics()
    }

    /// Usable stack bytes of goroutines created by later runs (fixed-size
    /// stacks: see CGoRuntimeSched.h). Default 64 KiB; set it before
    /// Go.run, not during one.
    public static var stackSize: Int {
        get { schedp.pointee.stackSize }
        set {
            if atomicU32(&schedp.pointee.running).pointee.load(ordering: .relaxed) != 0 {
                goFatal("Go.stackSize set during Go.run")
            }
            schedp.pointee.stackSize = max(newValue, 16 * 1024)
        }
    }

    /// Whether the caller runs on a goroutine.
    public static var isGoroutine: Bool { getg() != nil }
}

/// The go statement: start `body` as a new goroutine of the current run,
/// in the caller's runnext. Fatal outside Go.run (on any thread that is
/// not running a goroutine).
public func go(_ body: __owned @escaping @Sendable () -> Void) {
    guard let gp = getg(), let pp = gp.pointee.m?.pointee.p else {
        goFatal("go statement outside Go.run")
    }
    newproc(pp, body)
}

/// The statistics of the last finished run (guarded by the mutex).
private let lastStatistics = Synchronization.Mutex(SchedulerStatistics())

private func currentStatistics() -> SchedulerStatistics {
    lastStatistics.withLock { last in
        let s = schedp
        guard let allp = s.pointee.allp else { return last }
        return foldStatistics(allp, Int(s.pointee.gomaxprocs), threads: s.pointee.threadsStarted)
    }
}

private func currentNumGoroutine() -> Int {
    lastStatistics.withLock { _ in liveGoroutines() }
}

private func foldStatistics(_ allp: UnsafeMutablePointer<PPtr>, _ n: Int, threads: Int) -> SchedulerStatistics {
    var r = SchedulerStatistics()
    for i in 0..<n {
        let st = UnsafeMutableRawPointer(allp[i]).advanced(by: MemoryLayout<P>.offset(of: \P.stats)!)
            .assumingMemoryBound(to: PStats.self)
        func get(_ k: KeyPath<PStats, UInt64>) -> Int {
            let off = MemoryLayout<PStats>.offset(of: k)!
            return Int(loadRelaxed((UnsafeMutableRawPointer(st) + off).assumingMemoryBound(to: UInt64.self)))
        }
        r.goroutinesCreated += get(\.created)
        r.parks += get(\.parks)
        r.steals += get(\.steals)
        r.runnextHits += get(\.runnextHits)
        r.globalRunqTakes += get(\.globalTakes)
        r.spinningWakeups += get(\.spinningWakeups)
        r.yields += get(\.gosched)
        r.schedules += get(\.schedules)
    }
    r.threads = threads
    return r
}

/// Go.run's body: schedinit + procresize, newproc(main), mstart on M0,
/// then the teardown.
func schedRun(maxprocs: Int, _ main: @escaping @Sendable () -> Void) {
    if getg() != nil { goFatal("Go.run called from a goroutine") }
    let s = schedp
    if !atomicU32(&s.pointee.running).pointee.compareExchange(
        expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged {
        goFatal("Go.run: another run is going on")
    }
    if maxprocs < 1 || maxprocs > 1024 { goFatal("Go.run: maxprocs \(maxprocs) out of range 1...1024") }

    // schedinit / procresize.
    let n = Int32(maxprocs)
    s.lock.lock()
    s.pointee.gomaxprocs = n
    s.pointee.stealOrder.reset(UInt32(n))
    let allp = UnsafeMutablePointer<PPtr>.allocate(capacity: maxprocs)
    for i in 0..<maxprocs {
        let pp = PPtr.allocate(capacity: 1)
        pp.initialize(to: P(id: Int32(i)))
        allp[i] = pp
    }
    lastStatistics.withLock { _ in s.pointee.allp = allp }
    s.pointee.mcount = 0
    s.pointee.nmidle = 0
    s.pointee.threadsStarted = 0
    atomicU32(&s.pointee.done).pointee.store(0, ordering: .relaxed)
    atomicU32(&s.pointee.nmspinning).pointee.store(0, ordering: .relaxed)
    s.pointee.mainStarted = false
    // M0: the calling thread.
    let m0 = allocm()
    s.pointee.mcount = 1
    for i in stride(from: maxprocs - 1, through: 1, by: -1) { pidleput(allp[i]) }
    s.lock.unlock()
    cgort_mctx_init(&m0.pointee.g0)
    cgort_sched_setm(UnsafeMutableRawPointer(m0))
    acquirep(m0, allp[0])

    // runtime.main as a goroutine; then start scheduling (mstart on M0).
    newproc(allp[0], main)
    s.pointee.mainStarted = true
    schedloop(m0)
    cgort_sched_setm(nil)

    // Teardown: join the other Ms; keep their dead Gs for the next run.
    var threads: [UInt64] = []
    var mp = s.pointee.allm
    while let m = mp {
        if m.pointee.thread != 0 { threads.append(m.pointee.thread) }
        mp = m.pointee.alllink
    }
    for t in threads { cgort_thread_join(t) }
    if liveGoroutines() != 0 {
        goFatal("Go.run: goroutines left after the run")
    }
    let stats = foldStatistics(allp, maxprocs, threads: s.pointee.threadsStarted)
    lastStatistics.withLock { last in
        last = stats
        s.pointee.allp = nil
    }
    s.lock.lock()
    s.gFreeLock.lock()
    for i in 0..<maxprocs {
        let pp = allp[i]
        if !runqempty(pp) { goFatal("Go.run: runnable goroutines left after the run") }
        while let g = pp.pointee.gFree {
            pp.pointee.gFree = g.pointee.schedlink
            g.pointee.schedlink = s.pointee.gFree
            s.pointee.gFree = g
            atomicI32(&s.pointee.gFreeN).pointee.add(1, ordering: .relaxed)
        }
        pp.pointee.runq.deallocate()
        pp.deinitialize(count: 1)
        pp.deallocate()
    }
    s.gFreeLock.unlock()
    allp.deallocate()
    mp = s.pointee.allm
    while let m = mp {
        mp = m.pointee.alllink
        m.deinitialize(count: 1)
        m.deallocate()
    }
    s.pointee.allm = nil
    s.pointee.midle = nil
    s.pointee.pidle = nil
    atomicU32(&s.pointee.npidle).pointee.store(0, ordering: .relaxed)
    s.pointee.mcount = 0
    s.pointee.nmidle = 0
    s.lock.unlock()
    atomicU32(&s.pointee.running).pointee.store(0, ordering: .releasing)
}

/// Tests only: turn the exclusivity hand-over at goroutine switches off
/// (to show the false conflict it prevents) or back on.
func schedSetExclusivityHandover(_ on: Bool) {
    cgort_sched_set_exclusivity_handover(on)
}

/// Tests only: the return addresses of the caller's stack, innermost first
/// (glibc backtrace, a CFI unwinder), and the entry trampoline's address.
func schedBacktrace() -> [UInt] {
    var buf = [UnsafeMutableRawPointer?](repeating: nil, count: 256)
    let n = buf.withUnsafeMutableBufferPointer { cgort_backtrace($0.baseAddress, 256) }
    return buf.prefix(Int(n)).map { UInt(bitPattern: $0) }
}

func schedTrampolineAddress() -> UInt {
    UInt(bitPattern: cgort_ctx_trampoline_address())
}
