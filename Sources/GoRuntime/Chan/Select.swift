// Go's select statement: runtime/select.go selectgo, sellock/selunlock,
// and the compiler's lowering of small selects (cmd/compile/internal/walk/
// select.go walkSelectCases), with a builder API in place of the
// compiler's scase arrays.
//
//     let chosen = try select { s in
//         s.receive(jobs) { job in ... }        // job == nil: jobs is closed
//         s.send(results, r) { ... }            // r is an autoclosure
//         s.default { ... }                     // optional
//     }
//
// The body is a program that declares cases; `select` runs it more than
// once, in phases (`Select.Phase`), so that the handlers stay non-escaping
// closures run inline and a select allocates nothing:
//
//   count     declares nothing: counts the cases and notes a default. Send
//             values are not evaluated. This is what the Go compiler knows
//             statically, and `select` branches on it as walkSelectCases
//             does on the number of cases:
//   single    one case: the case itself performs the operation as it is
//             declared, with the channel in hand: chanrecv/chansend with
//             block = !default (selectnbrecv/selectnbsend for one case plus
//             default, chanrecv1/chansend1 for one case alone), and calls
//             its handler at once. Nothing is retained, copied or sorted.
//             A default declared after the case runs in the same pass; one
//             declared before it needs one more (dispatch) pass.
//   collect   two or more cases (selectMany): retain each channel and
//             evaluate each send value once, into a slot select owns;
//             selectgo then picks a case;
//   dispatch  the chosen case's handler (or default's) runs.
//
// Zero cases plus default runs the default (a dispatch pass); zero cases
// alone would block forever, which is fatal here. `select` is inlinable:
// in a caller that the optimizer can see through, the count pass folds to
// constants and a one-case select compiles down to the channel operation
// itself, as in Go. A body should therefore only declare cases, the same
// ones in every pass (checked); anything else it does happens more than
// once. `select` returns the index of the chosen case in declaration
// order, or -1 for default.
//
// selectgo, as Go 1.19 has it (two or more cases):
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
// exactly one waker; its other sudogs are removed before it returns; a
// select's handler (or default) runs exactly once.

import CGoRuntime

/// Bytes of stack a multi-case select keeps for case values; larger ones
/// spill to the heap, one allocation per value.
let selectInlineBytes = 512

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
    /// What a pass over the body does; see the top of this file.
    @usableFromInline enum Phase { case count, single, collect, dispatch }
    @usableFromInline var phase: Phase
    /// Cases declared so far in this pass; after the count pass, the
    /// number of cases.
    @usableFromInline var count = 0
    /// The count pass saw a default; later passes check they see it too.
    @usableFromInline var hasDefault = false
    /// Collect and dispatch only: the case array (capacity: the counted
    /// cases) and the arena for case values.
    @usableFromInline let cases: UnsafeMutablePointer<SelectCase>?
    @usableFromInline let capacity: Int
    @usableFromInline let arena: UnsafeMutableRawPointer?
    @usableFromInline let arenaSize: Int
    @usableFromInline var arenaUsed = 0
    /// The case chosen (-1: default) and whether a receive got a value.
    /// Single: set by the case when it has run its operation.
    @usableFromInline var chosen = -1
    @usableFromInline var recvOK = false
    /// Single: the case has run its operation (so default, if declared
    /// later, knows whether to run).
    @usableFromInline var opDone = false
    /// Single: this pass has seen the default / run its handler.
    @usableFromInline var sawDefault = false
    @usableFromInline var defaultRan = false
    /// Single: the send case found its channel closed (select throws).
    @usableFromInline var sendOnClosed = false

    /// A count pass's builder.
    @inlinable
    init() {
        phase = .count
        cases = nil
        capacity = 0
        arena = nil
        arenaSize = 0
    }

    /// A collect pass's builder for `capacity` cases.
    init(cases: UnsafeMutablePointer<SelectCase>, capacity: Int, arena: UnsafeMutableRawPointer,
         arenaSize: Int, hasDefault: Bool) {
        phase = .collect
        self.cases = cases
        self.capacity = capacity
        self.arena = arena
        self.arenaSize = arenaSize
        self.hasDefault = hasDefault
    }

    @inlinable
    mutating func slot<E>(for _: E.Type) -> (UnsafeMutableRawPointer, owned: Bool) {
        let align = MemoryLayout<E>.alignment
        let start = (arenaUsed + align - 1) & ~(align - 1)
        let end = start + MemoryLayout<E>.size
        if end <= arenaSize {
            arenaUsed = end
            return (arena! + start, false)
        }
        return (.allocate(byteCount: Swift.max(MemoryLayout<E>.size, 1), alignment: align), true)
    }

    /// `case v, ok := <-c:` — the handler gets the value, or nil if `c` is
    /// closed and drained.
    @inlinable @inline(__always)
    public mutating func receive<E>(_ c: Channel<E>, _ handler: (E?) -> Void) {
        switch phase {
        case .count: count += 1
        case .single: singleReceive(c, handler)
        case .collect: collectCase(c, isSend: false) { _ in }
        case .dispatch:
            if count == chosen { dispatchReceive(c, handler) }
            count += 1
        }
    }

    /// `case c <- value:` — `value` is evaluated once, before any case is
    /// chosen. Choosing this case on a closed channel makes `select`
    /// throw `.sendOnClosedChannel`.
    @inlinable @inline(__always)
    public mutating func send<E>(_ c: Channel<E>, _ value: @autoclosure () -> E, _ handler: () -> Void = {}) {
        switch phase {
        case .count: count += 1
        case .single: singleSend(c, value(), handler)
        case .collect: collectCase(c, isSend: true) { $0.initialize(to: value()) }
        case .dispatch:
            if count == chosen { dispatchSend(c, handler) }
            count += 1
        }
    }

    /// `default:` — run when no case can proceed at once. At most one.
    @inlinable @inline(__always)
    public mutating func `default`(_ handler: () -> Void) {
        switch phase {
        case .count:
            if hasDefault { goFatal("select: multiple defaults") }
            hasDefault = true
        case .single:
            if !hasDefault || sawDefault { selectBodyChanged() }
            sawDefault = true
            // Declared before the case: the operation has not run yet;
            // `select` runs a dispatch pass for this default if needed.
            if opDone && chosen == -1 {
                defaultRan = true
                handler()
            }
        case .collect:
            if !hasDefault { selectBodyChanged() }
        case .dispatch:
            if chosen == -1 { handler() }
        }
    }

    // MARK: One case

    /// Single: selectnbrecv (default) or chanrecv2 (no default), then the
    /// handler if the receive happened.
    @inlinable @inline(__always)
    mutating func singleReceive<E>(_ c: Channel<E>, _ handler: (E?) -> Void) {
        if count != 0 { selectBodyChanged() }
        count = 1
        let (selected, value) = c.chanrecvValue(block: !hasDefault)
        opDone = true
        if selected {
            chosen = 0
            handler(value)
        }
    }

    /// Single: selectnbsend (default) or chansend1 (no default), then the
    /// handler if the send happened.
    @inlinable @inline(__always)
    mutating func singleSend<E>(_ c: Channel<E>, _ value: E, _ handler: () -> Void) {
        if count != 0 { selectBodyChanged() }
        count = 1
        opDone = true
        let selected: Bool
        do throws(ChannelError) {
            selected = try withUnsafePointer(to: value) { (p) throws(ChannelError) -> Bool in
                try c.chansend(p, block: !hasDefault)
            }
        } catch {
            // Chosen, but Go panics here: no handler, no default.
            chosen = 0
            sendOnClosed = true
            return
        }
        if selected {
            chosen = 0
            handler()
        }
    }

    // MARK: Two or more cases

    /// Dispatch: the chosen receive case gets selectgo's result.
    @inlinable @inline(never)
    mutating func dispatchReceive<E>(_ c: Channel<E>, _ handler: (E?) -> Void) {
        checkSameCase(count, c.h, isSend: false)
        let p = cases![count].elem.assumingMemoryBound(to: E.self)
        handler(recvOK ? p.move() : nil)
    }

    /// Dispatch: the chosen send case has sent.
    @inlinable @inline(never)
    mutating func dispatchSend<E>(_ c: Channel<E>, _ handler: () -> Void) {
        checkSameCase(count, c.h, isSend: true)
        handler()
    }

    /// Collect: retain `c` and give the case a value slot (`initSlot`
    /// evaluates a send value into it).
    @inlinable @inline(never)
    mutating func collectCase<E>(_ c: Channel<E>, isSend: Bool, _ initSlot: (UnsafeMutablePointer<E>) -> Void) {
        if count >= capacity { selectBodyChanged() }
        let (p, owned) = slot(for: E.self)
        initSlot(p.assumingMemoryBound(to: E.self))
        (cases! + count).initialize(
            to: SelectCase(chan: .passRetained(c), h: c.h, isSend: isSend, elem: p, ownsElem: owned))
        count += 1
    }

    /// The dispatch pass must declare the same cases as the collect pass:
    /// the chosen slot is read back with the declared element type.
    @usableFromInline
    func checkSameCase(_ i: Int, _ h: UnsafeMutablePointer<HChan>, isSend: Bool) {
        if i >= capacity || cases![i].h != h || cases![i].isSend != isSend {
            selectBodyChanged()
        }
    }

    /// Destroys send values and heap slots, releases channels (collect's
    /// cases, `count` of them).
    mutating func releaseCases() {
        guard let cases else { return }
        let n = count
        for i in 0..<n {
            let k = cases[i]
            if k.isSend { k.chan._withUnsafeGuaranteedRef { $0.selDestroy(k.elem) } }
            if k.ownsElem { k.elem.deallocate() }
            k.chan.release()
        }
        cases.deinitialize(count: n)
        count = 0
        arenaUsed = 0
    }

    /// Fixes select's random poll order for the calling thread (and for
    /// threads that start choosing later), for exact, repeatable
    /// instruction counts under callgrind. 0 returns to clock seeding for
    /// new threads.
    public static func seedRandom(_ seed: UInt64) { cgort_chan_set_rand_seed(seed) }
}

/// A select body declared different cases (or defaults) in two passes.
@usableFromInline @inline(never)
func selectBodyChanged() -> Never {
    goFatal("select: the body declared different cases in two of its passes")
}

/// Go's `select`: waits until one of the declared cases can proceed (or
/// runs `default` at once if none can), performs it, and runs its handler.
/// Returns the chosen case's index in declaration order, -1 for default.
/// Throws `.sendOnClosedChannel` if a send case is chosen on a closed
/// channel. A select with no cases and no default would block forever;
/// that is fatal here.
///
/// The compiler's lowering (walk/select.go) happens here, after the count
/// pass: one case runs as a plain channel operation inside the second pass
/// (see the top of this file); two or more go to selectgo (`selectMany`).
@inlinable @discardableResult
public func select(_ body: (inout Select) -> Void) throws(ChannelError) -> Int {
    var s = Select()
    body(&s)
    switch s.count {
    case 0:
        if !s.hasDefault { goFatal("select (no cases): blocked forever") }
        s.phase = .dispatch
        body(&s)
        if s.count != 0 { selectBodyChanged() }
        return -1
    case 1:
        s.phase = .single
        s.count = 0
        body(&s)
        if s.count != 1 || s.sawDefault != s.hasDefault { selectBodyChanged() }
        if s.sendOnClosed { throw .sendOnClosedChannel }
        if s.chosen == -1 && !s.defaultRan {
            // A default declared before the case: one more pass to run it.
            s.phase = .dispatch
            s.count = 0
            body(&s)
            if s.count != 1 { selectBodyChanged() }
        }
        return s.chosen
    default:
        return try selectMany(s.count, hasDefault: s.hasDefault, body)
    }
}

/// A select of `n >= 2` cases: the collect pass, selectgo, the dispatch
/// pass. Allocates only for more cases or case values than fit the stack.
@usableFromInline @inline(never)
func selectMany(_ n: Int, hasDefault: Bool, _ body: (inout Select) -> Void) throws(ChannelError) -> Int {
    try withUnsafeTemporaryAllocation(of: SelectCase.self, capacity: n) { (cbuf) throws(ChannelError) -> Int in
        try withUnsafeTemporaryAllocation(byteCount: selectInlineBytes, alignment: 16) { (abuf) throws(ChannelError) -> Int in
            var s = Select(cases: cbuf.baseAddress!, capacity: n, arena: abuf.baseAddress!,
                           arenaSize: selectInlineBytes, hasDefault: hasDefault)
            body(&s)
            if s.count != n { selectBodyChanged() }
            let casi: Int, recvOK: Bool
            do throws(ChannelError) {
                (casi, recvOK) = try selectgo(s.cases!, n, block: !hasDefault)
            } catch {
                s.releaseCases()
                throw error
            }
            s.phase = .dispatch
            s.chosen = casi
            s.recvOK = recvOK
            s.count = 0
            body(&s)
            if s.count != n { selectBodyChanged() }
            s.count = n
            s.releaseCases()
            return casi
        }
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
