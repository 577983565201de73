// A P's local run queue: proc.go runqput, runqputslow, runqget, runqgrab,
// runqsteal, runqempty, and the global run queue's globrunqput/globrunqget.
//
// The local queue is a ring of runqSize (256) G pointers between `runqhead`
// (next to take) and `runqtail` (next free slot), both free-running
// UInt32 counters (the slot is counter % 256), plus `runnext`, one G that
// runs before anything in the ring. Only the owner of the P (the M holding
// it) ever adds (runqput writes slots and advances the tail); anyone takes:
// the owner from the head (runqget), and thieves on other Ms half of the
// ring at a time (runqgrab). A full ring spills half of itself, plus the new
// G, to the global queue under sched.lock (runqputslow).
//
// Memory ordering (Go's argument, with our atomics):
//   - the owner writes a slot, then publishes it with a store-release of
//     tail (t+1). A consumer load-acquires tail, so a slot below the tail it
//     saw is fully written when it reads it;
//   - consumers claim slots by CAS-release of head (h -> h+n) after reading
//     the slots h..<h+n. The owner load-acquires head before reusing a
//     slot (t - h < 256), so the slot it overwrites was read by whoever
//     claimed it before the CAS that freed it. A consumer that read a slot
//     and then lost the CAS throws its copy away: the slot may have been
//     claimed and rewritten, and its read value is never used;
//   - runqgrab loads head and tail separately, so it may see a tail that
//     is ahead of the head it saw by more than it ever was (the owner and
//     other thieves move both meanwhile); n > 128 (half the ring) proves
//     the pair inconsistent and it retries;
//   - slots are read by thieves while the owner may write other slots, and
//     a thief may read a slot the owner is rewriting (that thief's CAS
//     then fails). Go reads them as plain words; we read and write them
//     with relaxed atomics so that the race is defined (and TSan-clean);
//     the acquire/release pairs above carry all the ordering;
//   - runnext is a single word changed only by CAS (owner and thieves), so
//     exactly one of them takes a given G out of it.
// The global queue is a plain linked list under sched.lock; `runqsize` is
// stored atomically so that schedule() may peek at it without the lock (a
// stale answer only delays a global take to the next check).

import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension UnsafeMutablePointer where Pointee == P {
    @inline(__always) var head: UnsafeMutablePointer<Atomic<UInt32>> { atomicU32(&pointee.runqhead) }
    @inline(__always) var tail: UnsafeMutablePointer<Atomic<UInt32>> { atomicU32(&pointee.runqtail) }
    @inline(__always) var next: UnsafeMutablePointer<Atomic<UInt>> { atomicUInt(&pointee.runnext) }
    @inline(__always) func slot(_ i: UInt32) -> UnsafeMutablePointer<Atomic<UInt>> {
        atomicUInt(pointee.runq + Int(i % runqSize))
    }
}

/// proc.go runqempty: no G in runnext or the ring. Lock-free: reads head,
/// tail, runnext, then tail again, and retries unless tail did not move,
/// so that a G moving from runnext into the ring (runqput kicking it out)
/// is not missed between the reads.
@inline(__always)
func runqempty(_ pp: PPtr) -> Bool {
    while true {
        let h = pp.head.pointee.load(ordering: .acquiring)
        let t = pp.tail.pointee.load(ordering: .acquiring)
        let n = pp.next.pointee.load(ordering: .acquiring)
        if t == pp.tail.pointee.load(ordering: .acquiring) {
            return h == t && n == 0
        }
    }
}

/// proc.go runqput: put gp on pp's local queue. With `next`, gp goes to
/// runnext and the G it replaces (if any) to the tail of the ring. A full
/// ring spills to the global queue. Owner of pp only.
@inline(__always)
func runqput(_ pp: PPtr, _ gp0: GPtr, next: Bool) {
    var gp = gp0
    if next {
        var old = pp.next.pointee.load(ordering: .relaxed)
        while true {
            let (ok, cur) = pp.next.pointee.compareExchange(
                expected: old, desired: wordFromG(gp), ordering: .acquiringAndReleasing)
            if ok { break }
            old = cur
        }
        if old == 0 { return }
        // Kick the old runnext out to the regular run queue.
        gp = gFromWord(old)!
    }
    while true {
        let h = pp.head.pointee.load(ordering: .acquiring) // synchronize with consumers
        let t = pp.tail.pointee.load(ordering: .relaxed)   // only we write it
        if t &- h < runqSize {
            pp.slot(t).pointee.store(wordFromG(gp), ordering: .relaxed)
            pp.tail.pointee.store(t &+ 1, ordering: .releasing) // publish the slot
            return
        }
        if runqputslow(pp, gp, h, t) { return }
        // The queue is not full now: the put above will succeed.
    }
}

/// proc.go runqputslow: move gp and half of the full local queue to the
/// global queue as one batch. False if consumers took some meanwhile.
@inline(never)
func runqputslow(_ pp: PPtr, _ gp: GPtr, _ h: UInt32, _ t: UInt32) -> Bool {
    let n = (t &- h) / 2
    if n != runqSize / 2 { goFatal("runqputslow: queue is not full") }
    // proc.go's `var batch [len(pp.runq)/2 + 1]*g`: on the stack, no heap
    // allocation on this path.
    return withUnsafeTemporaryAllocation(of: GPtr?.self, capacity: Int(runqSize / 2) + 1) { batch in
        for i in 0..<n {
            batch[Int(i)] = gFromWord(pp.slot(h &+ i).pointee.load(ordering: .relaxed))
        }
        if !pp.head.pointee.compareExchange(expected: h, desired: h &+ n, ordering: .releasing).exchanged {
            return false
        }
        batch[Int(n)] = gp
        // Link the goroutines.
        for i in 0..<Int(n) { batch[i]!.pointee.schedlink = batch[i + 1] }
        // Now put the batch on the global queue.
        let s = schedp
        s.lock.lock()
        globrunqputbatch(batch[0]!, batch[Int(n)]!, Int32(n + 1))
        s.lock.unlock()
        return true
    }
}

/// proc.go runqget: the next G of pp's local queue, runnext first.
/// `inheritTime` is true for runnext: it shares the current time slice
/// (schedtick is not advanced), so a pair of Gs handing off through
/// runnext cannot starve the rest of the queue. Owner of pp only.
@inline(__always)
func runqget(_ pp: PPtr) -> (gp: GPtr?, inheritTime: Bool) {
    // If there's a runnext, it's the next G to run. Only the owner sets
    // it to non-zero, so a CAS that fails means a thief took it.
    let next = pp.next.pointee.load(ordering: .relaxed)
    if next != 0 && pp.next.pointee.compareExchange(
        expected: next, desired: 0, ordering: .acquiringAndReleasing).exchanged {
        return (gFromWord(next), true)
    }
    while true {
        let h = pp.head.pointee.load(ordering: .acquiring) // synchronize with other consumers
        let t = pp.tail.pointee.load(ordering: .relaxed)
        if t == h { return (nil, false) }
        let gp = pp.slot(h).pointee.load(ordering: .relaxed)
        if pp.head.pointee.compareExchange(expected: h, desired: h &+ 1, ordering: .releasing).exchanged {
            return (gFromWord(gp), false)
        }
    }
}

/// proc.go runqgrab: take half of pp's queue into `batch` (a ring of
/// runqSize words) starting at batchHead. Returns how many. With
/// `stealRunNextG`, an empty ring lets the thief take runnext, after a
/// short sleep if pp is running (its owner is probably about to run it:
/// stealing it would just bounce it between Ps). Any thread.
func runqgrab(_ pp: PPtr, _ batch: UnsafeMutablePointer<UInt>, _ batchHead: UInt32,
              stealRunNextG: Bool) -> UInt32 {
    while true {
        let h = pp.head.pointee.load(ordering: .acquiring) // synchronize with other consumers
        let t = pp.tail.pointee.load(ordering: .acquiring) // synchronize with the producer
        var n = t &- h
        n = n - n / 2
        if n == 0 {
            if stealRunNextG {
                // Try to steal from pp.runnext.
                let next = pp.next.pointee.load(ordering: .acquiring)
                if next != 0 {
                    if atomicU32(&pp.pointee.status).pointee.load(ordering: .relaxed) == _Prunning {
                        // Sleep to ensure that pp isn't about to run the G
                        // we are about to steal: the common case is a G
                        // that readied another and is about to block.
                        _ = usleep(stealRunnextSleepMicros)
                    }
                    if !pp.next.pointee.compareExchange(
                        expected: next, desired: 0, ordering: .acquiringAndReleasing).exchanged {
                        continue
                    }
                    atomicUInt(batch + Int(batchHead % runqSize)).pointee.store(next, ordering: .relaxed)
                    return 1
                }
            }
            return 0
        }
        if n > runqSize / 2 { continue } // read inconsistent h and t
        for i in 0..<n {
            let g = pp.slot(h &+ i).pointee.load(ordering: .relaxed)
            atomicUInt(batch + Int((batchHead &+ i) % runqSize)).pointee.store(g, ordering: .relaxed)
        }
        if pp.head.pointee.compareExchange(expected: h, desired: h &+ n, ordering: .releasing).exchanged {
            return n
        }
    }
}

/// proc.go runqsteal: steal half of p2's queue into pp's (whose owner we
/// are) and return one of the stolen Gs, or nil.
func runqsteal(_ pp: PPtr, _ p2: PPtr, stealRunNextG: Bool) -> GPtr? {
    let t = pp.tail.pointee.load(ordering: .relaxed)
    var n = runqgrab(p2, pp.pointee.runq, t, stealRunNextG: stealRunNextG)
    if n == 0 { return nil }
    n -= 1
    let gp = gFromWord(pp.slot(t &+ n).pointee.load(ordering: .relaxed))
    if n == 0 { return gp }
    let h = pp.head.pointee.load(ordering: .acquiring) // synchronize with consumers
    if t &- h &+ n >= runqSize { goFatal("runqsteal: runq overflow") }
    pp.tail.pointee.store(t &+ n, ordering: .releasing) // make the stolen Gs available
    return gp
}

// MARK: - The global run queue (sched.lock held)

/// proc.go globrunqput: gp to the tail of the global queue.
func globrunqput(_ gp: GPtr) {
    let s = schedp
    gp.pointee.schedlink = nil
    if let t = s.pointee.runqtail { t.pointee.schedlink = gp } else { s.pointee.runqhead = gp }
    s.pointee.runqtail = gp
    atomicI32(&s.pointee.runqsize).pointee.store(s.pointee.runqsize + 1, ordering: .relaxed)
}

/// proc.go globrunqputbatch: a linked batch head...tail of n Gs.
func globrunqputbatch(_ head: GPtr, _ tail: GPtr, _ n: Int32) {
    let s = schedp
    tail.pointee.schedlink = nil
    if let t = s.pointee.runqtail { t.pointee.schedlink = head } else { s.pointee.runqhead = head }
    s.pointee.runqtail = tail
    atomicI32(&s.pointee.runqsize).pointee.store(s.pointee.runqsize + n, ordering: .relaxed)
}

/// Pops the head of the global queue.
private func globrunqpop() -> GPtr? {
    let s = schedp
    guard let gp = s.pointee.runqhead else { return nil }
    s.pointee.runqhead = gp.pointee.schedlink
    if s.pointee.runqhead == nil { s.pointee.runqtail = nil }
    gp.pointee.schedlink = nil
    return gp
}

/// proc.go globrunqget: take a fair share of the global queue (size /
/// gomaxprocs + 1, at most `max` if > 0, at most half a local queue): one G
/// to return, the rest into pp's local queue.
func globrunqget(_ pp: PPtr, _ max: Int32) -> GPtr? {
    let s = schedp
    let size = s.pointee.runqsize
    if size == 0 { return nil }
    var n = size / s.pointee.gomaxprocs + 1
    if n > size { n = size }
    if max > 0 && n > max { n = max }
    if n > Int32(runqSize) / 2 { n = Int32(runqSize) / 2 }
    atomicI32(&s.pointee.runqsize).pointee.store(size - n, ordering: .relaxed)
    let gp = globrunqpop()
    n -= 1
    while n > 0 {
        runqput(pp, globrunqpop()!, next: false)
        n -= 1
    }
    bump(&pp.pointee.stats.globalTakes)
    return gp
}
