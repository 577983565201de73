// Go's select statement: runtime/select.go selectgo, sellock/selunlock,
// with a builder API in place of the compiler's scase arrays.
//
//     let chosen = try select { s in
//         s.receive(jobs) { job in ... }        // job == nil: jobs is closed
//         s.send(results, r) { ... }            // r is an autoclosure
//         s.default { ... }                     // optional
//     }
//
// The body runs twice. The first run only collects the cases (evaluating
// each send value once, into a slot select owns); selectgo then picks a
// case; the second run calls the chosen case's handler, inline, so the
// handlers are non-escaping closures and a select allocates nothing for up
// to `selectInlineCases` cases. A body should therefore only declare cases;
// anything else it does happens twice. `select` returns the index of the
// chosen case in declaration order, or -1 for default.
//
// selectgo, as Go 1.19 has it:
//   0. one case plus default is a non-blocking send/receive, one case
//      alone a blocking one (the Go compiler rewrites these; we do it here);
//   1. shuffle the cases into a random poll order (fastrandn, seedable via
//      `Select.seedRandom` for deterministic instruction counts), and sort
//      them by hchan address into the lock order (heap sort, as Go: n log n,
//      no allocation);
//   2. lock every channel in lock order (each once: one channel may appear
//      in several cases);
//   3. pass 1: in poll order, take the first case that can proceed: a
//      parked partner, buffer data/room, or a closed channel;
//   4. none, and a default: unlock, run default;
//   5. pass 2: enqueue a sudog on every case's queue (all naming this
//      thread, `isSelect` so that wakers race for `select_done`), unlock
//      all, park;
//   6. pass 3: woken by the one waker that won select_done, which completed
//      that case's sudog (and set param to it); relock all, dequeue our
//      other sudogs from their queues, unlock, report the case.
//
// Invariants: all channels of a select are locked together only in lock
// order (no deadlock between selects); a parked select is completed by
// exactly one waker; its other sudogs are removed before it returns.

import CGoRuntime

/// Cases a select keeps on the stack; more spill to the heap.
let selectInlineCases = 16
/// Bytes of stack a select keeps for case values; larger ones spill.
let selectInlineBytes = 512

/// What `selTry` (a one-case select) did.
@usableFromInline
enum SelTryResult {
    case notReady, closed, done, received, sendOnClosed
}

/// select.go `scase`, plus what the builder needs.
@usableFromInline
struct SelectCase {
    /// The channel. Not counted here: the builder retains it once when the
    /// case is declared and `releaseCases` releases it, so that copying
    /// cases around inside selectgo costs no reference counting. The
    /// retain keeps the channel alive while the select may be parked on it.
    @usableFromInline let chan: Unmanaged<AnyChannel>
    @usableFromInline let h: UnsafeMutablePointer<HChan>
    @usableFromInline let isSend: Bool
    /// Send: the value (initialized). Receive: the slot (uninitialized
    /// until a value is received).
    @usableFromInline let elem: UnsafeMutableRawPointer
    /// `elem` was heap-allocated (did not fit the stack arena).
    @usableFromInline let ownsElem: Bool

    @inlinable
    init(chan: Unmanaged<AnyChannel>, h: UnsafeMutablePointer<HChan>, isSend: Bool,
         elem: UnsafeMutableRawPointer, ownsElem: Bool) {
        self.chan = chan
        self.h = h
        self.isSend = isSend
        self.elem = elem
        self.ownsElem = ownsElem
    }
}

/// The builder a `select` body receives. Declare cases with `receive`,
/// `send` and `default`; see `select(_:)`.
public struct Select: ~Copyable {
    @usableFromInline enum Phase { case collect, dispatch }
    @usableFromInline var phase: Phase = .collect
    @usableFromInline let cases: UnsafeMutablePointer<SelectCase>
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0
    /// More cases were declared than `capacity`: collect again on the heap.
    @usableFromInline var overflowed = false
    @usableFromInline let arena: UnsafeMutableRawPointer
    @usableFromInline let arenaSize: Int
    @usableFromInline var arenaUsed = 0
    @usableFromInline var hasDefault = false
    /// Dispatch: the case selectgo chose (-1: default) and whether a
    /// receive got a value; `index` counts declarations as they rerun.
    @usableFromInline var chosen = -1
    @usableFromInline var recvOK = false
    @usableFromInline var index = 0

    init(cases: UnsafeMutablePointer<SelectCase>, capacity: Int, arena: UnsafeMutableRawPointer, arenaSize: Int) {
        self.cases = cases
        self.capacity = capacity
        self.arena = arena
        self.arenaSize = arenaSize
    }

    @inlinable
    mutating func slot<E>(for _: E.Type) -> (UnsafeMutableRawPointer, owned: Bool) {
        let align = MemoryLayout<E>.alignment
        let start = (arenaUsed + align - 1) & ~(align - 1)
        let end = start + MemoryLayout<E>.size
        if end <= arenaSize {
            arenaUsed = end
            return (arena + start, false)
        }
        return (.allocate(byteCount: Swift.max(MemoryLayout<E>.size, 1), alignment: align), true)
    }

    /// `case v, ok := <-c:` — the handler gets the value, or nil if `c` is
    /// closed and drained.
    @inlinable
    public mutating func receive<E>(_ c: Channel<E>, _ handler: (E?) -> Void) {
        switch phase {
        case .collect:
            if count >= capacity { overflowed = true; count += 1; return }
            let (p, owned) = slot(for: E.self)
            (cases + count).initialize(to: SelectCase(chan: .passRetained(c), h: c.h, isSend: false, elem: p, ownsElem: owned))
            count += 1
        case .dispatch:
            if index == chosen {
                checkSameCase(index, c.h, isSend: false)
                let p = cases[index].elem.assumingMemoryBound(to: E.self)
                handler(recvOK ? p.move() : nil)
            }
            index += 1
        }
    }

    /// `case c <- value:` — `value` is evaluated once, when the cases are
    /// collected. Choosing this case on a closed channel makes `select`
    /// throw `.sendOnClosedChannel`.
    @inlinable
    public mutating func send<E>(_ c: Channel<E>, _ value: @autoclosure () -> E, _ handler: () -> Void = {}) {
        switch phase {
        case .collect:
            if count >= capacity { overflowed = true; count += 1; return }
            let (p, owned) = slot(for: E.self)
            p.assumingMemoryBound(to: E.self).initialize(to: value())
            (cases + count).initialize(to: SelectCase(chan: .passRetained(c), h: c.h, isSend: true, elem: p, ownsElem: owned))
            count += 1
        case .dispatch:
            if index == chosen {
                checkSameCase(index, c.h, isSend: true)
                handler()
            }
            index += 1
        }
    }

    /// The dispatch run must declare the same cases as the collect run:
    /// the chosen slot is read back with the declared element type.
    @usableFromInline
    func checkSameCase(_ i: Int, _ h: UnsafeMutablePointer<HChan>, isSend: Bool) {
        if i >= count || cases[i].h != h || cases[i].isSend != isSend {
            goFatal("select: the body declared different cases on its second run")
        }
    }

    /// `default:` — run when no case can proceed at once. At most one.
    @inlinable
    public mutating func `default`(_ handler: () -> Void) {
        switch phase {
        case .collect:
            if hasDefault { goFatal("select: multiple defaults") }
            hasDefault = true
        case .dispatch:
            if chosen == -1 { handler() }
        }
    }

    /// Destroys send values and heap slots, releases channels.
    mutating func releaseCases() {
        let n = Swift.min(count, capacity)
        for i in 0..<n {
            let k = cases[i]
            if k.isSend { k.chan._withUnsafeGuaranteedRef { $0.selDestroy(k.elem) } }
            if k.ownsElem { k.elem.deallocate() }
            k.chan.release()
        }
        cases.deinitialize(count: n)
        count = 0
        arenaUsed = 0
        hasDefault = false
    }

    /// Fixes select's random poll order for the calling thread (and for
    /// threads that start choosing later), for exact, repeatable
    /// instruction counts under callgrind. 0 returns to clock seeding for
    /// new threads.
    public static func seedRandom(_ seed: UInt64) { cgort_chan_set_rand_seed(seed) }
}

/// Go's `select`: waits until one of the declared cases can proceed (or
/// runs `default` at once if none can), performs it, and runs its handler.
/// Returns the chosen case's index in declaration order, -1 for default.
/// Throws `.sendOnClosedChannel` if a send case is chosen on a closed
/// channel. A select with no cases and no default would block forever;
/// that is fatal here.
@discardableResult
public func select(_ body: (inout Select) -> Void) throws(ChannelError) -> Int {
    try withUnsafeTemporaryAllocation(of: SelectCase.self, capacity: selectInlineCases) { (cbuf) throws(ChannelError) -> Int in
        try withUnsafeTemporaryAllocation(byteCount: selectInlineBytes, alignment: 16) { (abuf) throws(ChannelError) -> Int in
            var s = Select(cases: cbuf.baseAddress!, capacity: selectInlineCases,
                           arena: abuf.baseAddress!, arenaSize: selectInlineBytes)
            body(&s)
            if !s.overflowed { return try runSelect(&s, body) }
            // Too many cases for the stack: collect again on the heap.
            let n = s.count
            s.count = selectInlineCases
            s.releaseCases()
            let heapCases = UnsafeMutablePointer<SelectCase>.allocate(capacity: n)
            defer { heapCases.deallocate() }
            var t = Select(cases: heapCases, capacity: n, arena: abuf.baseAddress!, arenaSize: selectInlineBytes)
            body(&t)
            return try runSelect(&t, body)
        }
    }
}

/// selectgo on the collected cases, then the dispatch run of `body`.
func runSelect(_ s: inout Select, _ body: (inout Select) -> Void) throws(ChannelError) -> Int {
    let n = s.count
    do {
        let (casi, recvOK): (Int, Bool)
        if n == 1 {
            // Compiler rewrites in Go: one case + default is selectnbsend /
            // selectnbrecv; one case alone is a plain send or receive.
            let k = s.cases[0]
            let block = !s.hasDefault
            switch k.chan._withUnsafeGuaranteedRef({ $0.selTry(send: k.isSend, elem: k.elem, block: block) }) {
            case .notReady: (casi, recvOK) = (-1, false)
            case .closed, .done: (casi, recvOK) = (0, false)
            case .received: (casi, recvOK) = (0, true)
            case .sendOnClosed: throw ChannelError.sendOnClosedChannel
            }
        } else if n == 0 {
            if !s.hasDefault { goFatal("select (no cases): blocked forever") }
            (casi, recvOK) = (-1, false)
        } else {
            (casi, recvOK) = try selectgo(s.cases, n, block: !s.hasDefault)
        }
        s.phase = .dispatch
        s.chosen = casi
        s.recvOK = recvOK
        s.index = 0
        body(&s)
        s.releaseCases()
        return casi
    } catch let e as ChannelError {
        s.releaseCases()
        throw e
    } catch {
        goFatal("select: unexpected error \(error)")
    }
}

// MARK: - selectgo

@inline(__always)
func sellock(_ cases: UnsafeMutablePointer<SelectCase>, _ lockorder: UnsafeMutablePointer<Int32>, _ n: Int) {
    var last: UnsafeMutablePointer<HChan>? = nil
    for i in 0..<n {
        let c = cases[Int(lockorder[i])].h
        if c != last {
            last = c
            c.lock.lock()
        }
    }
}

@inline(__always)
func selunlock(_ cases: UnsafeMutablePointer<SelectCase>, _ lockorder: UnsafeMutablePointer<Int32>, _ n: Int) {
    // Unlock in reverse lock order, each channel once (the cases hold
    // strong references, so no channel can be freed meanwhile).
    var i = n - 1
    while i >= 0 {
        let c = cases[Int(lockorder[i])].h
        if i > 0 && c == cases[Int(lockorder[i - 1])].h {
            i -= 1
            continue  // unlock on the last case for this channel
        }
        c.lock.unlock()
        i -= 1
    }
}

/// select.go selectgo over `n >= 2` cases. Returns the chosen case index
/// (-1: none ready and !block) and whether a receive got a value.
@inline(never)
func selectgo(_ scases: UnsafeMutablePointer<SelectCase>, _ n: Int, block: Bool) throws(ChannelError) -> (Int, Bool) {
    try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * n) { (order) throws(ChannelError) -> (Int, Bool) in
        let pollorder = order.baseAddress!
        let lockorder = pollorder + n

        // Generate a permuted poll order (inside-out Fisher-Yates).
        for i in 0..<n {
            let j = Int(cgort_chan_fastrandn(UInt32(i + 1)))
            pollorder[i] = pollorder[j]
            pollorder[j] = Int32(i)
        }

        // Sort the cases by hchan address for the lock order: Go's heap
        // sort, starting from the poll order so that cases on the same
        // channel are permuted too.
        @inline(__always) func key(_ o: Int32) -> UInt { UInt(bitPattern: scases[Int(o)].h) }
        for i in 0..<n {
            var j = i
            let c = key(pollorder[i])
            while j > 0 && key(lockorder[(j - 1) / 2]) < c {
                let k = (j - 1) / 2
                lockorder[j] = lockorder[k]
                j = k
            }
            lockorder[j] = pollorder[i]
        }
        var i = n - 1
        while i >= 0 {
            let o = lockorder[i]
            let c = key(o)
            lockorder[i] = lockorder[0]
            var j = 0
            while true {
                var k = j * 2 + 1
                if k >= i { break }
                if k + 1 < i && key(lockorder[k]) < key(lockorder[k + 1]) { k += 1 }
                if c < key(lockorder[k]) {
                    lockorder[j] = lockorder[k]
                    j = k
                    continue
                }
                break
            }
            lockorder[j] = o
            i -= 1
        }

        sellock(scases, lockorder, n)

        // Pass 1: look for something already waiting.
        for p in 0..<n {
            let casi = Int(pollorder[p])
            let k = scases[casi]
            let c = k.h
            if !k.isSend {
                if let sg = c.sendq.dequeue() {
                    // recv: take from a parked sender.
                    let target = k.chan._withUnsafeGuaranteedRef { $0.selRecvFromParked(sg, into: k.elem) }
                    selunlock(scases, lockorder, n)
                    let me = currentM()
                    countEvent(me, .handoffs)
                    goready(target, waker: me)
                    return (casi, true)
                }
                if c.pointee.qcount > 0 {
                    // bufrecv
                    k.chan._withUnsafeGuaranteedRef { $0.selBufRecv(into: k.elem) }
                    selunlock(scases, lockorder, n)
                    return (casi, true)
                }
                if c.pointee.closed != 0 {
                    // rclose: read at end of closed channel
                    selunlock(scases, lockorder, n)
                    return (casi, false)
                }
            } else {
                if c.pointee.closed != 0 {
                    // sclose
                    selunlock(scases, lockorder, n)
                    throw .sendOnClosedChannel
                }
                if let sg = c.recvq.dequeue() {
                    // send: hand straight to a parked receiver.
                    let target = k.chan._withUnsafeGuaranteedRef { $0.selSendToParked(sg, from: k.elem) }
                    selunlock(scases, lockorder, n)
                    let me = currentM()
                    countEvent(me, .handoffs)
                    goready(target, waker: me)
                    return (casi, false)
                }
                if c.pointee.qcount < c.pointee.dataqsiz {
                    // bufsend
                    k.chan._withUnsafeGuaranteedRef { $0.selBufSend(from: k.elem) }
                    selunlock(scases, lockorder, n)
                    return (casi, false)
                }
            }
        }

        if !block {
            selunlock(scases, lockorder, n)
            return (-1, false)
        }

        // Pass 2: enqueue on all channels, in lock order, building the
        // thread's list of sudogs (Go's gp.waiting) through waitlink.
        let m = currentM()
        prepareToPark(m)
        cgort_chan_select_done_store(m, 0)
        var waiting: UnsafeMutablePointer<Sudog>? = nil
        var tail: UnsafeMutablePointer<Sudog>? = nil
        for l in 0..<n {
            let casi = Int(lockorder[l])
            let k = scases[casi]
            let sg = acquireSudog(m)
            sg.pointee.isSelect = true
            sg.pointee.elem = k.elem
            sg.pointee.c = k.h
            if let t = tail { t.pointee.waitlink = sg } else { waiting = sg }
            tail = sg
            if k.isSend { k.h.sendq.enqueue(sg) } else { k.h.recvq.enqueue(sg) }
        }

        // gopark(selparkcommit): release the locks, then wait.
        selunlock(scases, lockorder, n)
        park(m)
        sellock(scases, lockorder, n)

        cgort_chan_select_done_store(m, 0)
        let won = m.pointee.param?.assumingMemoryBound(to: Sudog.self)
        m.pointee.param = nil

        // Pass 3: dequeue from the unsuccessful channels, otherwise they
        // stack up on quiet channels; record the successful case.
        var s = waiting
        while let x = s {
            x.pointee.isSelect = false
            x.pointee.elem = nil
            x.pointee.c = nil
            s = x.pointee.waitlink
        }
        var casi = -1
        var caseSuccess = false
        var sglist = waiting
        for l in 0..<n {
            let ci = Int(lockorder[l])
            let sg = sglist!
            if sg == won {
                // Already dequeued by the thread that woke us.
                casi = ci
                caseSuccess = sg.pointee.success
            } else {
                let k = scases[ci]
                if k.isSend { k.h.sendq.dequeueSudoG(sg) } else { k.h.recvq.dequeueSudoG(sg) }
            }
            sglist = sg.pointee.waitlink
            sg.pointee.waitlink = nil
            releaseSudog(m, sg)
        }
        if casi < 0 { goFatal("selectgo: bad wakeup") }

        selunlock(scases, lockorder, n)
        if scases[casi].isSend {
            if !caseSuccess { throw .sendOnClosedChannel }
            return (casi, false)
        }
        return (casi, caseSuccess)
    }
}
