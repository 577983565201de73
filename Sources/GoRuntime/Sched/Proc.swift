// The scheduler: runtime/proc.go's schedule, findrunnable, stealWork,
// execute, wakep, startm, stopm, newproc, gopark/park_m, goready/ready,
// Gosched/gosched_m, goexit0, gfput/gfget, checkdead, acquirep/releasep,
// pidleput/pidleget, mput/mget, with Go's structure and constants. See
// Runtime2.swift for the structures and their locking, RunQueue.swift for
// the local queue.
//
// Stacks and switches. Every M runs the scheduler on its thread's own stack
// (Go's g0). Running a G is gogo (cgort_gogo): a switch to the G's stack.
// A G that parks, yields or exits switches back to g0 with mcall
// (cgort_mcall) after recording what g0 must do for it in m.action; g0
// does it (park_m, gosched_m, goexit0) and loops into schedule() again.
// Go tail-calls schedule from those functions on g0; here g0 is a loop,
// which is the same control flow without growing the thread stack.
//
// Parking without a lost wake-up (gopark's unlockf). The ports park a G the
// way they park a thread: the waiter publishes itself on a wait queue,
// drops the queue's lock, and only then parks; the waker marks the waiter's
// park word readied (xchg 1) and readies it. For a G the park word also
// carries the hand-off: parkCommit, which g0 runs after the G's registers
// are saved (gopark's unlockf), CASes the word 0 -> 2 ("parked"). If that
// fails the waker got there first (word 1) and the G runs again at once
// (unlockf returning false); otherwise the waker's exchange returns 2 and
// only then does it goready the G. Exactly one side wins, so the G is made
// runnable exactly once, and never before its context is saved.
//
// Differences from Go, on purpose:
//   - fixed-size goroutine stacks (CGoRuntimeSched.h);
//   - no preemption, sysmon, timers, netpoller, syscalls, GC or locked Ms;
//     so Ms are started only on demand, at most one per P;
//   - Go.run returns after main and every goroutine it started have exited
//     (Go's process exits with main); then all Ms exit and their threads
//     are joined, and Go.run may be called again;
//   - checkdead counts only Ms and goroutines: a goroutine waiting for a
//     plain thread outside the scheduler when every M is idle is reported as
//     a deadlock. Goroutines must not wait for threads outside Go.run.

import CGoRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one schedt (proc.go `sched`). Reached through a C global rather
/// than a Swift lazy global, whose every access calls swift_once (see
/// cgort_sched_ptr in CGoRuntimeSched.h).
@usableFromInline
var schedp: UnsafeMutablePointer<SchedT> {
    @inline(__always) get {
        if let p = cgort_sched_ptr() { return p.assumingMemoryBound(to: SchedT.self) }
        return schedInit()
    }
}

/// The storage behind schedp, made once (the lazy global's swift_once
/// makes concurrent first uses safe) and published to the C global.
private let schedStorage: UnsafeMutablePointer<SchedT> = {
    let p = UnsafeMutablePointer<SchedT>.allocate(capacity: 1)
    p.initialize(to: SchedT())
    cgort_sched_ptr_publish(p)
    return p
}()

@inline(never)
func schedInit() -> UnsafeMutablePointer<SchedT> { schedStorage }

extension UnsafeMutablePointer where Pointee == SchedT {
    /// sched.lock, whose futex word is on a cache line of its own.
    @inline(__always) var lock: RuntimeLock { RuntimeLock(cgort_sched_lock_key()) }
    /// sched.gFree.lock: proc.go keeps the global free list under a lock of
    /// its own, so that gfput/gfget never contend with the run queue and
    /// idle lists.
    @inline(__always) var gFreeLock: RuntimeLock { RuntimeLock(cgort_gfree_lock_key()) }
}

// MARK: - getg

/// The running G, or nil on a plain thread or an M's scheduler stack.
@inline(__always) @usableFromInline
func getg() -> GPtr? {
    cgort_sched_getg()?.assumingMemoryBound(to: G.self)
}

// MARK: - Status

/// proc.go casgstatus: old -> new, fatal if the G was not in `old`.
@inline(__always)
func casgstatus(_ gp: GPtr, _ old: UInt32, _ new: UInt32) {
    if !atomicU32(&gp.pointee.atomicstatus).pointee.compareExchange(
        expected: old, desired: new, ordering: .acquiringAndReleasing).exchanged {
        goFatal("casgstatus: bad status \(readgstatus(gp)) (expected \(old)) for goroutine \(gp.pointee.goid)")
    }
}

@inline(__always)
func readgstatus(_ gp: GPtr) -> UInt32 {
    atomicU32(&gp.pointee.atomicstatus).pointee.load(ordering: .acquiring)
}

// MARK: - fastrand (per M)

@inline(__always)
func fastrand(_ mp: MPtr) -> UInt32 {
    mp.pointee.fastrand &+= 0xa0761d6478bd642f
    let s = mp.pointee.fastrand
    let t = s.multipliedFullWidth(by: s ^ 0xe7037ed1a0b428db)
    return UInt32(truncatingIfNeeded: t.high ^ t.low)
}

// MARK: - Notes (lock_futex.go)

/// notewakeup: fatal on a double wake-up, as Go.
func notewakeup(_ key: UnsafeMutablePointer<UInt32>) {
    let old = atomicU32(key).pointee.exchange(1, ordering: .sequentiallyConsistent)
    if old != 0 { goFatal("notewakeup - double wakeup (\(old))") }
    _ = cgort_futex_wake(key, 1)
}

/// notesleep: sleep until notewakeup.
func notesleep(_ key: UnsafeMutablePointer<UInt32>) {
    while atomicU32(key).pointee.load(ordering: .sequentiallyConsistent) == 0 {
        _ = cgort_futex_wait(key, 0, -1)
    }
}

func noteclear(_ key: UnsafeMutablePointer<UInt32>) {
    atomicU32(key).pointee.store(0, ordering: .sequentiallyConsistent)
}

// MARK: - Ps and Ms (sched.lock held)

/// proc.go pidleput: pp to the idle list. Its run queue must be empty.
func pidleput(_ pp: PPtr) {
    let s = schedp
    if !runqempty(pp) { goFatal("pidleput: P has non-empty run queue") }
    atomicU32(&pp.pointee.status).pointee.store(_Pidle, ordering: .relaxed)
    pp.pointee.link = s.pointee.pidle
    s.pointee.pidle = pp
    atomicU32(&s.pointee.npidle).pointee.add(1, ordering: .sequentiallyConsistent)
}

/// proc.go pidleget: an idle P, or nil.
func pidleget() -> PPtr? {
    let s = schedp
    guard let pp = s.pointee.pidle else { return nil }
    s.pointee.pidle = pp.pointee.link
    atomicU32(&s.pointee.npidle).pointee.subtract(1, ordering: .sequentiallyConsistent)
    return pp
}

/// proc.go mput: mp to the idle M list, then checkdead.
func mput(_ mp: MPtr) {
    let s = schedp
    mp.pointee.schedlink = s.pointee.midle
    s.pointee.midle = mp
    s.pointee.nmidle += 1
    checkdead()
}

/// proc.go mget: an idle M, or nil.
func mget() -> MPtr? {
    let s = schedp
    guard let mp = s.pointee.midle else { return nil }
    s.pointee.midle = mp.pointee.schedlink
    s.pointee.nmidle -= 1
    return mp
}

/// proc.go acquirep: associate pp with the current M.
func acquirep(_ mp: MPtr, _ pp: PPtr) {
    if pp.pointee.m != nil || atomicU32(&pp.pointee.status).pointee.load(ordering: .relaxed) != _Pidle {
        goFatal("acquirep: invalid p state")
    }
    mp.pointee.p = pp
    pp.pointee.m = mp
    atomicU32(&pp.pointee.status).pointee.store(_Prunning, ordering: .relaxed)
}

/// proc.go releasep: disassociate the current M's P.
@discardableResult
func releasep(_ mp: MPtr) -> PPtr {
    guard let pp = mp.pointee.p, pp.pointee.m == mp else { goFatal("releasep: invalid arg") }
    mp.pointee.p = nil
    pp.pointee.m = nil
    return pp
}

/// proc.go checkdead: with sched.lock held, after an M went idle. If no M
/// is running and goroutines remain, none of them can ever be readied: a
/// deadlock. If none remain, the run is over (where Go's process would
/// have exited with main): every idle M, this one included, is woken to
/// leave its loop.
///
/// Counting here, not in newproc and goexit0, is how Go does it (gcount):
/// no shared counter is touched per goroutine. The per-P counts are exact
/// at this point: every M has released its P and then taken sched.lock to
/// go idle (findrunnable, stopm), so each P's last counter writes happen
/// before this read under the same lock.
func checkdead() {
    let s = schedp
    if atomicU32(&s.pointee.done).pointee.load(ordering: .relaxed) != 0 { return }
    let run = s.pointee.mcount - s.pointee.nmidle
    if run > 0 { return }
    if run < 0 { goFatal("checkdead: inconsistent counts: mcount=\(s.pointee.mcount) nmidle=\(s.pointee.nmidle)") }
    if liveGoroutines() > 0 {
        goFatal("all goroutines are asleep - deadlock!")
    }
    // The last goroutine has exited: end the run. Idle Ms are woken under
    // the lock (stopm checks `done` under it before sleeping), spinning
    // ones see `done` in their loops.
    atomicU32(&s.pointee.done).pointee.store(1, ordering: .sequentiallyConsistent)
    while let m = mget() {
        notewakeup(&m.pointee.park)
    }
}

/// A P's event counter, by address (a read from another thread must not
/// be an inout access to the P, which TSan would see as a write).
@inline(__always)
func pstat(_ pp: PPtr, _ k: KeyPath<PStats, UInt64>) -> UnsafeMutablePointer<UInt64> {
    (UnsafeMutableRawPointer(pp) + MemoryLayout<P>.offset(of: \P.stats)! + MemoryLayout<PStats>.offset(of: k)!)
        .assumingMemoryBound(to: UInt64.self)
}

/// Live goroutines of the current run (main included): goroutines created
/// minus exited, summed over the Ps. Exact when every M is idle (checkdead,
/// teardown); while Ms run, a snapshot as approximate as Go's gcount.
func liveGoroutines() -> Int {
    let s = schedp
    guard let allp = s.pointee.allp else { return 0 }
    var n = 0
    for i in 0..<Int(s.pointee.gomaxprocs) {
        n &+= Int(truncatingIfNeeded: loadRelaxed(pstat(allp[i], \.created)))
        n &-= Int(truncatingIfNeeded: loadRelaxed(pstat(allp[i], \.exited)))
    }
    return max(n, 0)
}

// MARK: - Starting and stopping Ms

/// proc.go wakep: start a spinning M if there is an idle P and no M is
/// spinning already (the spinning M will wake the next when it finds work).
@inline(__always)
func wakep() {
    let s = schedp
    if atomicU32(&s.pointee.npidle).pointee.load(ordering: .sequentiallyConsistent) == 0 { return }
    // Be conservative about spinning threads.
    let nms = atomicU32(&s.pointee.nmspinning)
    if nms.pointee.load(ordering: .sequentiallyConsistent) != 0
        || !nms.pointee.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged {
        return
    }
    startm(nil, spinning: true)
}

/// proc.go startm: run some M on pp (an idle P if nil). With `spinning`,
/// the caller incremented nmspinning for it; undo that if there is no P.
@inline(never)
func startm(_ pp0: PPtr?, spinning: Bool) {
    let s = schedp
    s.lock.lock()
    var pp = pp0
    if pp == nil {
        pp = pidleget()
        if pp == nil {
            s.lock.unlock()
            if spinning {
                // The caller incremented nmspinning, but there are no idle
                // Ps, so it's okay to just undo the increment and give up.
                atomicU32(&s.pointee.nmspinning).pointee.subtract(1, ordering: .sequentiallyConsistent)
            }
            return
        }
    }
    let nmp = mget()
    if nmp == nil {
        // No idle M: start one, holding pp for it (newm).
        let mp = allocm()
        mp.pointee.spinning = spinning
        mp.pointee.nextp = pp
        s.pointee.mcount += 1
        s.pointee.threadsStarted += 1
        s.lock.unlock()
        newosproc(mp)
        return
    }
    s.lock.unlock()
    let mp = nmp!
    if mp.pointee.spinning { goFatal("startm: m is spinning") }
    if mp.pointee.nextp != nil { goFatal("startm: m has p") }
    mp.pointee.spinning = spinning
    mp.pointee.nextp = pp
    if spinning, let cur = currentP() { bump(&cur.pointee.stats.spinningWakeups) }
    notewakeup(&mp.pointee.park)
}

/// The caller's P if it runs on an M (a G or g0), else nil.
@inline(__always)
func currentP() -> PPtr? {
    if let gp = getg() { return gp.pointee.m?.pointee.p }
    return cgort_sched_getm()?.assumingMemoryBound(to: M.self).pointee.p
}

/// proc.go allocm. Under sched.lock.
func allocm() -> MPtr {
    let s = schedp
    let mp = MPtr.allocate(capacity: 1)
    mp.initialize(to: M())
    mp.pointee.id = Int64(s.pointee.mcount)
    mp.pointee.fastrand = UInt64(UInt(bitPattern: mp)) &* 0x9E3779B97F4A7C15 | 1
    mp.pointee.alllink = s.pointee.allm
    s.pointee.allm = mp
    return mp
}

/// proc.go newosproc + mstart: a thread for mp.
func newosproc(_ mp: MPtr) {
    let h = cgort_thread_start({ raw in
        let mp = raw!.assumingMemoryBound(to: M.self)
        mstart(mp)
    }, UnsafeMutableRawPointer(mp))
    if h == 0 { goFatal("newosproc: cannot create thread") }
    mp.pointee.thread = h
}

/// proc.go mstart1 on a new M: take the P startm gave us and schedule.
func mstart(_ mp: MPtr) {
    cgort_mctx_init(&mp.pointee.g0)
    cgort_sched_setm(UnsafeMutableRawPointer(mp))
    if let pp = mp.pointee.nextp {
        mp.pointee.nextp = nil
        acquirep(mp, pp)
    }
    schedloop(mp)
    cgort_sched_setm(nil)
}

/// proc.go stopm: park the M until startm hands it a P. False when the
/// run is over instead (the M must exit).
func stopm(_ mp: MPtr) -> Bool {
    let s = schedp
    if mp.pointee.p != nil { goFatal("stopm holding p") }
    if mp.pointee.spinning { goFatal("stopm spinning") }
    s.lock.lock()
    if atomicU32(&s.pointee.done).pointee.load(ordering: .relaxed) != 0 {
        s.lock.unlock()
        return false
    }
    mput(mp)
    s.lock.unlock()
    notesleep(&mp.pointee.park)
    noteclear(&mp.pointee.park)
    guard let pp = mp.pointee.nextp else {
        // Woken without a P: only the end of the run does that.
        return false
    }
    mp.pointee.nextp = nil
    acquirep(mp, pp)
    return true
}

/// proc.go resetspinning: the M found work; stop counting it as spinning
/// and, if it was the last spinning M, wake another to look for more.
func resetspinning(_ mp: MPtr) {
    let s = schedp
    if !mp.pointee.spinning { goFatal("resetspinning: not a spinning m") }
    mp.pointee.spinning = false
    let old = atomicU32(&s.pointee.nmspinning).pointee.subtract(1, ordering: .sequentiallyConsistent).oldValue
    if old == 0 { goFatal("findrunnable: negative nmspinning") }
    // M wakeup policy is deliberately somewhat conservative, so check if we
    // need to wakeup another P here.
    wakep()
}

// MARK: - schedule and findrunnable

/// The scheduler loop of an M (Go's schedule() and what mcall runs on g0,
/// as a loop). Returns when the run is over.
func schedloop(_ mp: MPtr) {
    var next: (gp: GPtr, inheritTime: Bool)? = nil
    while true {
        let run: (gp: GPtr, inheritTime: Bool)
        if let n = next {
            run = n
            next = nil
        } else {
            guard let found = schedule(mp) else { break }
            run = found
        }
        let gp = run.gp
        execute(mp, gp, inheritTime: run.inheritTime)
        // gp switched back (mcall): do what it asked.
        let action = mp.pointee.action
        mp.pointee.action = .none
        switch action {
        case .park:
            if !parkCommit(mp, gp) { next = (gp, true) }
        case .gosched:
            goschedImpl(mp, gp)
        case .goexit:
            goexit0(mp, gp)
        case .none:
            goFatal("schedule: goroutine switched back without a reason")
        }
    }
    if let pp = mp.pointee.p {
        releasep(mp)
        let s = schedp
        s.lock.lock()
        pidleput(pp)
        s.lock.unlock()
    }
}

/// proc.go schedule (one round): find a runnable G, blocking in
/// findrunnable if needed. Nil once the run is over.
func schedule(_ mp: MPtr) -> (gp: GPtr, inheritTime: Bool)? {
    let s = schedp
    guard let pp = mp.pointee.p else { goFatal("schedule: no p") }
    var gp: GPtr? = nil
    var inheritTime = false
    // Check the global runnable queue once in a while to ensure fairness.
    // Otherwise two goroutines can completely occupy the local runqueue by
    // constantly respawning each other.
    if pp.pointee.schedtick % globalRunqCheckPeriod == 0
        && atomicI32(&s.pointee.runqsize).pointee.load(ordering: .relaxed) > 0 {
        s.lock.lock()
        gp = globrunqget(pp, 1)
        s.lock.unlock()
    }
    if gp == nil {
        (gp, inheritTime) = runqget(pp)
        if gp != nil && inheritTime { bump(&pp.pointee.stats.runnextHits) }
    }
    if gp == nil {
        guard let found = findrunnable(mp) else { return nil } // blocks until work is available
        (gp, inheritTime) = found
    }
    // This thread is going to run a goroutine and is not spinning anymore,
    // so if it was marked as spinning we need to reset it now and
    // potentially start a new spinning M.
    if mp.pointee.spinning { resetspinning(mp) }
    return (gp!, inheritTime)
}

/// proc.go findrunnable: find a runnable goroutine to execute. Tries to
/// steal from other Ps, check the global run queue; parks the M when there
/// is none. Nil once the run is over.
func findrunnable(_ mp: MPtr) -> (gp: GPtr, inheritTime: Bool)? {
    let s = schedp
    top: while true {
        if atomicU32(&s.pointee.done).pointee.load(ordering: .relaxed) != 0 { return nil }
        let pp = mp.pointee.p!
        // local runq
        let (lgp, inherit) = runqget(pp)
        if let lgp {
            if inherit { bump(&pp.pointee.stats.runnextHits) }
            return (lgp, inherit)
        }
        // global runq
        if atomicI32(&s.pointee.runqsize).pointee.load(ordering: .relaxed) != 0 {
            s.lock.lock()
            let gp = globrunqget(pp, 0)
            s.lock.unlock()
            if let gp { return (gp, false) }
        }
        // Spinning Ms: steal work from other Ps.
        //
        // Limit the number of spinning Ms to half the number of busy Ps.
        // This is necessary to prevent excessive CPU consumption when
        // GOMAXPROCS>>1 but the program parallelism is low.
        let procs = UInt32(s.pointee.gomaxprocs)
        let npidle = atomicU32(&s.pointee.npidle).pointee.load(ordering: .sequentiallyConsistent)
        let nms = atomicU32(&s.pointee.nmspinning).pointee.load(ordering: .sequentiallyConsistent)
        if mp.pointee.spinning || 2 &* nms < procs &- npidle {
            if !mp.pointee.spinning {
                mp.pointee.spinning = true
                atomicU32(&s.pointee.nmspinning).pointee.add(1, ordering: .sequentiallyConsistent)
            }
            if let gp = stealWork(mp, pp) { return (gp, false) }
        }

        // We have nothing to do.
        //
        // Before we drop our P, make a snapshot of the allp slice, which
        // can't change here (no procresize).
        s.lock.lock()
        if atomicI32(&s.pointee.runqsize).pointee.load(ordering: .relaxed) != 0 {
            let gp = globrunqget(pp, 0)
            s.lock.unlock()
            if let gp { return (gp, false) }
            continue top
        }
        releasep(mp)
        pidleput(pp)
        s.lock.unlock()

        // Delicate dance: thread transitions from spinning to non-spinning
        // state, potentially concurrently with submission of new work. We
        // must drop nmspinning first and then check all sources again (with
        // a StoreLoad barrier in between). If we do it the other way around,
        // another thread can submit work after we've checked all sources
        // but before we drop nmspinning; as a result nobody will unpark a
        // thread to run the work.
        let wasSpinning = mp.pointee.spinning
        if mp.pointee.spinning {
            mp.pointee.spinning = false
            let old = atomicU32(&s.pointee.nmspinning).pointee.subtract(1, ordering: .sequentiallyConsistent).oldValue
            if old == 0 { goFatal("findrunnable: negative nmspinning") }
        }
        // Check all runqueues once again.
        for i in 0..<Int(s.pointee.gomaxprocs) {
            let p2 = s.pointee.allp![i]
            if !runqempty(p2) {
                s.lock.lock()
                let pp2 = pidleget()
                s.lock.unlock()
                if let pp2 {
                    acquirep(mp, pp2)
                    if wasSpinning {
                        mp.pointee.spinning = true
                        atomicU32(&s.pointee.nmspinning).pointee.add(1, ordering: .sequentiallyConsistent)
                    }
                    continue top
                }
                break
            }
        }
        if !stopm(mp) { return nil }
    }
}

/// proc.go stealWork: stealTries passes over all Ps in stealOrder's random
/// order; runnext is stolen only on the last pass.
func stealWork(_ mp: MPtr, _ pp: PPtr) -> GPtr? {
    let s = schedp
    for i in 0..<stealTries {
        let stealRunNextG = i == stealTries - 1
        var e = s.pointee.stealOrder.start(fastrand(mp))
        while !e.done {
            if atomicU32(&s.pointee.done).pointee.load(ordering: .relaxed) != 0 { return nil }
            let p2 = s.pointee.allp![Int(e.pos)]
            if pp != p2 && !runqempty(p2) {
                if let gp = runqsteal(pp, p2, stealRunNextG: stealRunNextG) {
                    bump(&pp.pointee.stats.steals)
                    return gp
                }
            }
            e.next()
        }
    }
    return nil
}

/// proc.go execute: run gp on the current M. Returns when gp switches back.
@inline(__always)
func execute(_ mp: MPtr, _ gp: GPtr, inheritTime: Bool) {
    mp.pointee.curg = gp
    gp.pointee.m = mp
    casgstatus(gp, _Grunnable, _Grunning)
    let pp = mp.pointee.p!
    if !inheritTime { pp.pointee.schedtick &+= 1 }
    bump(&pp.pointee.stats.schedules)
    cgort_gogo(&mp.pointee.g0, gp.pointee.ctx)
    mp.pointee.curg = nil
}

// MARK: - Parking and readying

/// proc.go gopark, for the ports' park-word protocol: park the running G
/// until a waker has stored 1 in `word` and (having seen our 2) readied us.
/// `word` must be 0 (waiting) or 1 (already readied) on entry. Call with
/// no lock held; see the file essay for the hand-off.
@inline(never) @usableFromInline
func goparkOnWord(_ word: UnsafeMutablePointer<UInt32>) {
    let gp = getg()!
    let mp = gp.pointee.m!
    bump(&mp.pointee.p!.pointee.stats.parks)
    mp.pointee.waitword = word
    mp.pointee.action = .park
    cgort_mcall(gp.pointee.ctx, &mp.pointee.g0)
}

/// park_m's unlockf on g0: commit the park (word 0 -> 2) unless the waker
/// already readied the G (word 1). False: run gp again at once.
func parkCommit(_ mp: MPtr, _ gp: GPtr) -> Bool {
    casgstatus(gp, _Grunning, _Gwaiting)
    gp.pointee.m = nil
    let word = mp.pointee.waitword!
    mp.pointee.waitword = nil
    if atomicU32(word).pointee.compareExchange(expected: 0, desired: 2, ordering: .sequentiallyConsistent).exchanged {
        return true
    }
    casgstatus(gp, _Gwaiting, _Grunnable)
    return false
}

/// The waker's side of the park-word protocol: mark `word` readied; if its
/// G had committed its park, goready it. `gp` is the parked G.
@inline(__always) @usableFromInline
func readyOnWord(_ word: UnsafeMutablePointer<UInt32>, _ gp: GPtr) {
    if atomicU32(word).pointee.exchange(1, ordering: .sequentiallyConsistent) == 2 {
        goreadyG(gp)
    }
}

/// proc.go goready/ready: make a parked G runnable, in the waker's runnext
/// when the waker runs on a P (so it runs next, on this P, sharing the
/// waker's time slice), else on the global queue; then wakep.
@usableFromInline
func goreadyG(_ gp: GPtr) {
    casgstatus(gp, _Gwaiting, _Grunnable)
    if let pp = currentP() {
        runqput(pp, gp, next: true)
    } else {
        let s = schedp
        s.lock.lock()
        globrunqput(gp)
        s.lock.unlock()
    }
    wakep()
}

// MARK: - Gosched and goexit

/// proc.go Gosched: yield the P; the G goes to the global queue.
@usableFromInline
func gosched() {
    guard let gp = getg() else { return }
    let mp = gp.pointee.m!
    mp.pointee.action = .gosched
    cgort_mcall(gp.pointee.ctx, &mp.pointee.g0)
}

/// proc.go goschedImpl, on g0.
func goschedImpl(_ mp: MPtr, _ gp: GPtr) {
    casgstatus(gp, _Grunning, _Grunnable)
    gp.pointee.m = nil
    bump(&mp.pointee.p!.pointee.stats.gosched)
    let s = schedp
    s.lock.lock()
    globrunqput(gp)
    s.lock.unlock()
}

/// proc.go goexit1: the running G's body returned.
func goexit1() -> Never {
    let gp = getg()!
    let mp = gp.pointee.m!
    mp.pointee.action = .goexit
    cgort_mcall(gp.pointee.ctx, &mp.pointee.g0)
    goFatal("goexit: dead goroutine resumed")
}

/// proc.go goexit0, on g0: the G is dead; recycle it. When it was the
/// last one, its M finds no work, goes idle, and the last M to go idle
/// ends the run (checkdead).
func goexit0(_ mp: MPtr, _ gp: GPtr) {
    casgstatus(gp, _Grunning, _Gdead)
    gp.pointee.m = nil
    cgort_gctx_retire(gp.pointee.ctx)
    let pp = mp.pointee.p!
    bump(&pp.pointee.stats.exited)
    gfput(pp, gp)
}

// MARK: - Free Gs

/// proc.go gfput: put a dead G on pp's free list; spill half to the global
/// list (under sched.gFree.lock) when it is long.
func gfput(_ pp: PPtr, _ gp: GPtr) {
    gp.pointee.schedlink = pp.pointee.gFree
    pp.pointee.gFree = gp
    pp.pointee.gFreeN += 1
    if pp.pointee.gFreeN >= gFreeLocalMax {
        let s = schedp
        s.gFreeLock.lock()
        while pp.pointee.gFreeN >= gFreeLocalKeep {
            let g = pp.pointee.gFree!
            pp.pointee.gFree = g.pointee.schedlink
            pp.pointee.gFreeN -= 1
            g.pointee.schedlink = s.pointee.gFree
            s.pointee.gFree = g
            atomicI32(&s.pointee.gFreeN).pointee.add(1, ordering: .relaxed)
        }
        s.gFreeLock.unlock()
    }
}

/// proc.go gfget: a dead G from pp's free list, refilled from the global
/// list in batches of 32; nil if there is none. Replaces a stack whose
/// size is not the current one.
func gfget(_ pp: PPtr) -> GPtr? {
    let s = schedp
    if pp.pointee.gFree == nil && atomicI32(&s.pointee.gFreeN).pointee.load(ordering: .relaxed) > 0 {
        s.gFreeLock.lock()
        // Move a batch of free Gs to the P.
        while pp.pointee.gFreeN < gFreeLocalKeep, let g = s.pointee.gFree {
            s.pointee.gFree = g.pointee.schedlink
            atomicI32(&s.pointee.gFreeN).pointee.subtract(1, ordering: .relaxed)
            g.pointee.schedlink = pp.pointee.gFree
            pp.pointee.gFree = g
            pp.pointee.gFreeN += 1
        }
        s.gFreeLock.unlock()
    }
    guard let gp = pp.pointee.gFree else { return nil }
    pp.pointee.gFree = gp.pointee.schedlink
    pp.pointee.gFreeN -= 1
    gp.pointee.schedlink = nil
    if Int(gp.pointee.ctx.pointee.stack_size) != s.pointee.stackSize {
        if !cgort_gctx_restack(gp.pointee.ctx, UInt64(s.pointee.stackSize)) {
            goFatal("runtime: cannot allocate goroutine stack")
        }
    }
    return gp
}

/// proc.go malg: a new G with a stack of the current size, and the
/// channel and sync records it parks with.
func malg() -> GPtr {
    let gp = GPtr.allocate(capacity: 1)
    guard let ctx = cgort_gctx_new(UnsafeMutableRawPointer(gp), UInt64(schedp.pointee.stackSize)) else {
        goFatal("runtime: cannot allocate goroutine stack")
    }
    gp.initialize(to: G(ctx: ctx))
    gp.pointee.atomicstatus = _Gdead
    // The semaphore sudog in the G's sync record knows its G (Sema.swift).
    SyncThread(base: ctx.pointee.sync_record).sudog.pointee.g = UnsafeMutableRawPointer(gp)
    return gp
}

// MARK: - newproc

/// proc.go newproc/newproc1: a G running `fn`, in pp's runnext. `fn` is
/// taken over (owned), so storing it in the G costs no retain.
func newproc(_ pp: PPtr, _ fn: __owned @escaping () -> Void) {
    let s = schedp
    let newg = gfget(pp) ?? malg()
    if readgstatus(newg) != _Gdead { goFatal("newproc1: new g is not Gdead") }
    newg.pointee.fn = fn
    cgort_gctx_prepare(newg.pointee.ctx, { raw in
        gstart(raw!.assumingMemoryBound(to: G.self))
    }, UnsafeMutableRawPointer(newg))
    casgstatus(newg, _Gdead, _Grunnable)
    if pp.pointee.goidcache == pp.pointee.goidcacheend {
        // sched.goidgen is the last allocated id: this batch is
        // [goidgen+1, goidgen+goidCacheBatch]. The first run's main
        // goroutine gets 1.
        let last = atomicInt(&s.pointee.goidgen).pointee.add(goidCacheBatch, ordering: .relaxed).newValue
        pp.pointee.goidcache = last - goidCacheBatch + 1
        pp.pointee.goidcacheend = last + 1
    }
    newg.pointee.goid = pp.pointee.goidcache
    pp.pointee.goidcache += 1
    bump(&pp.pointee.stats.created)
    runqput(pp, newg, next: true)
    if s.pointee.mainStarted { wakep() }
}

/// A new G's first Swift frame (below it only cgort_gstart and the
/// trampoline): run the body, then goexit.
func gstart(_ gp: GPtr) -> Never {
    runBody(gp)
    goexit1()
}

/// Runs and releases the body (in its own frame, so that nothing the body
/// retained stays alive on the dead G's stack after goexit).
@inline(never)
func runBody(_ gp: GPtr) {
    let fn = gp.pointee.fn.take()! // moved out: no retain, and the G keeps no reference
    fn()
}

// MARK: - sync_runtime_canSpin

/// proc.go sync_runtime_canSpin, the scheduler half: on a goroutine, spin
/// only if GOMAXPROCS > 1, at least one other P is running (not idle and not
/// just a spinning M), and our local run queue is empty (else running those
/// Gs is better than spinning). Nil on a plain thread (Spin.swift decides).
@usableFromInline
func goroutineCanSpin() -> Bool? {
    guard let gp = getg(), let pp = gp.pointee.m?.pointee.p else { return nil }
    let s = schedp
    let idle = atomicU32(&s.pointee.npidle).pointee.load(ordering: .relaxed)
        &+ atomicU32(&s.pointee.nmspinning).pointee.load(ordering: .relaxed)
    if s.pointee.gomaxprocs <= Int32(bitPattern: idle) + 1 { return false }
    return runqempty(pp)
}
