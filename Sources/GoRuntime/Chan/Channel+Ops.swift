// chan.go chansend, send, chanrecv, recv and closechan for `Channel`: the
// element moves are typed here; select reaches the same code through the
// AnyChannel overrides in Channel.swift.

import CGoRuntime

extension Channel {
    // MARK: Element moves (the channel lock is held for all of these)

    /// chan.go send(): complete the parked receiver `sg` with a copy of
    /// `*src`, written straight into its slot. Returns the thread to ready
    /// once the lock is released.
    @inlinable @inline(__always)
    func sendToParked(_ sg: UnsafeMutablePointer<Sudog>, _ src: UnsafePointer<Element>)
        -> UnsafeMutablePointer<cgort_chan_m>
    {
        if let dst = sg.pointee.elem {
            dst.assumingMemoryBound(to: Element.self).initialize(to: src.pointee)
            sg.pointee.elem = nil
        }
        sg.pointee.success = true
        let m = sg.pointee.m
        m.pointee.param = UnsafeMutableRawPointer(sg)
        return m
    }

    /// chan.go recv(): complete the parked sender `sg`. Unbuffered: copy
    /// its value into `dst`. Buffered (then the buffer is full): move the
    /// head of the buffer into `dst` and copy the sender's value into the
    /// freed slot, which is also the tail.
    @inlinable @inline(__always)
    func recvFromParked(_ sg: UnsafeMutablePointer<Sudog>, _ dst: UnsafeMutablePointer<Element>)
        -> UnsafeMutablePointer<cgort_chan_m>
    {
        let src = sg.pointee.elem!.assumingMemoryBound(to: Element.self)
        let d = h.pointee.dataqsiz
        if d == 0 {
            dst.initialize(to: src.pointee)
        } else {
            let qp = buf + h.pointee.recvx
            dst.moveInitialize(from: qp, count: 1)
            qp.initialize(to: src.pointee)
            var rx = h.pointee.recvx + 1
            if rx == d { rx = 0 }
            h.pointee.recvx = rx
            h.pointee.sendx = rx  // sendx = (sendx+1) % dataqsiz
        }
        sg.pointee.elem = nil
        sg.pointee.success = true
        let m = sg.pointee.m
        m.pointee.param = UnsafeMutableRawPointer(sg)
        return m
    }

    /// Append a copy of `*src` at sendx. Requires qcount < dataqsiz.
    @inlinable @inline(__always)
    func bufSend(_ src: UnsafePointer<Element>) {
        let sx = h.pointee.sendx
        (buf + sx).initialize(to: src.pointee)
        h.pointee.sendx = sx + 1 == h.pointee.dataqsiz ? 0 : sx + 1
        atomicStoreInt(&h.pointee.qcount, h.pointee.qcount + 1)
    }

    /// Move the element at recvx into `dst`. Requires qcount > 0.
    @inlinable @inline(__always)
    func bufRecv(_ dst: UnsafeMutablePointer<Element>) {
        let rx = h.pointee.recvx
        dst.moveInitialize(from: buf + rx, count: 1)
        h.pointee.recvx = rx + 1 == h.pointee.dataqsiz ? 0 : rx + 1
        atomicStoreInt(&h.pointee.qcount, h.pointee.qcount - 1)
    }

    // MARK: chansend

    /// chan.go chansend: send a copy of `*ep`. With `block == false`,
    /// returns false instead of waiting. Throws on a closed channel.
    @inlinable @inline(__always)
    func chansend(_ ep: UnsafePointer<Element>, block: Bool) throws(ChannelError) -> Bool {
        let h = self.h
        // Fast path: a failed non-blocking send, decided without the lock.
        // Two single-word reads, as Go does: closed first (open at t1),
        // then full() (not ready for sending at t2). If it is still open
        // at t2, t2 is a moment when it was open and full and we fail as of
        // then. If a close came at tc between the reads: once closed, a
        // channel never goes from ready to not ready for sending (sends
        // fail, so the buffer cannot fill; receivers never park on it), so
        // it was already not ready at tc, and we treat the send as ordered
        // just before the close. (Go accepts the same edge: the close of
        // an unbuffered channel itself empties recvq.) Reversed, the reads
        // could pair a "full" from before a drain with an "open" from
        // after, so their order is kept: both are acquire loads (plain MOVs
        // on x86, whose loads are not reordered with each other).
        if !block && !h.isClosedAtomic && h.full {
            return false
        }

        h.lock.lock()

        if h.pointee.closed != 0 {
            h.lock.unlock()
            throw .sendOnClosedChannel
        }

        if let sg = h.recvq.dequeue() {
            // A receiver is waiting: hand the value over, bypassing the buffer.
            let target = sendToParked(sg, ep)
            h.lock.unlock()
            let me = currentM()
            countEvent(me, .handoffs)
            goready(target, waker: me)
            return true
        }

        if h.pointee.qcount < h.pointee.dataqsiz {
            bufSend(ep)
            h.lock.unlock()
            return true
        }

        if !block {
            h.lock.unlock()
            return false
        }
        return try chansendPark(ep)
    }

    /// chansend's blocking tail: park on sendq with `ep` as our value until
    /// a receiver takes it or the channel is closed. Channel locked on
    /// entry; unlocks it.
    @inlinable @inline(never)
    func chansendPark(_ ep: UnsafePointer<Element>) throws(ChannelError) -> Bool {
        let m = currentM()
        let mysg = acquireSudog(m)
        mysg.pointee.elem = UnsafeMutableRawPointer(mutating: ep)
        mysg.pointee.c = h
        prepareToPark(m)
        h.sendq.enqueue(mysg)
        h.lock.unlock()

        park(m)

        // Someone woke us up: a receiver took the value, or close.
        if m.pointee.param != UnsafeMutableRawPointer(mysg) { goFatal("chansend: G waiting list is corrupted") }
        let closed = !mysg.pointee.success
        m.pointee.param = nil
        mysg.pointee.elem = nil
        mysg.pointee.c = nil
        releaseSudog(m, mysg)
        if closed {
            if !h.isClosedAtomic { goFatal("chansend: spurious wakeup") }
            throw .sendOnClosedChannel
        }
        return true
    }

    // MARK: chanrecv

    /// chan.go chanrecv: receive into the uninitialized slot `ep`.
    /// Returns (selected, received): (false, false) for a non-blocking
    /// receive that would block; (true, false) on a closed, drained
    /// channel (`ep` left uninitialized); (true, true) with `ep`
    /// initialized.
    @inlinable @inline(__always)
    func chanrecv(_ ep: UnsafeMutablePointer<Element>, block: Bool) -> (selected: Bool, received: Bool) {
        let h = self.h
        // Fast path: a failed non-blocking receive, without the lock.
        if !block && h.empty {
            // We saw "not ready for receiving"; now look at closed. If it
            // is still open, it was open at the moment of the empty
            // observation too (channels never reopen), so report "would
            // block" as of that moment. The order of the two reads matters:
            // reversed, we could see open, then (after a close and a drain)
            // empty, and report an open empty channel that never existed.
            // Emptying and closing happen in separate critical sections of
            // the same lock, and both reads are acquire loads, so they
            // cannot be reordered.
            if !h.isClosedAtomic {
                return (false, false)
            }
            // Closed for good. Re-check emptiness: an element may have been
            // buffered between our two reads, before the close (sends after
            // close fail). The acquire load of closed == 1 synchronizes with
            // the release store in closechan, which the lock orders after
            // every earlier send, so this read sees those elements.
            if h.empty {
                return (true, false)
            }
        }

        h.lock.lock()

        if h.pointee.closed != 0 {
            if h.pointee.qcount == 0 {
                h.lock.unlock()
                return (true, false)
            }
            // Closed, but the buffer still holds data: fall through.
        } else if let sg = h.sendq.dequeue() {
            // A sender is waiting. Unbuffered: take its value directly.
            // Buffered (full): take the head, the sender's value goes to
            // the tail.
            let target = recvFromParked(sg, ep)
            h.lock.unlock()
            let me = currentM()
            countEvent(me, .handoffs)
            goready(target, waker: me)
            return (true, true)
        }

        if h.pointee.qcount > 0 {
            bufRecv(ep)
            h.lock.unlock()
            return (true, true)
        }

        if !block {
            h.lock.unlock()
            return (false, false)
        }
        return chanrecvPark(ep)
    }

    /// chanrecv returning the value: (selected, value), value nil when the
    /// channel is closed and drained. A one-case select's receive
    /// (selectnbrecv with `block == false`, chanrecv2 with `true`).
    @inlinable @inline(__always)
    func chanrecvValue(block: Bool) -> (selected: Bool, value: Element?) {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
            let p = slot.baseAddress!
            let (selected, received) = chanrecv(p, block: block)
            return (selected, received ? p.move() : nil)
        }
    }

    /// chanrecv's blocking tail: park on recvq with `ep` as our slot until
    /// a sender fills it or the channel is closed. Channel locked on entry;
    /// unlocks it.
    @inlinable @inline(never)
    func chanrecvPark(_ ep: UnsafeMutablePointer<Element>) -> (selected: Bool, received: Bool) {
        let m = currentM()
        let mysg = acquireSudog(m)
        mysg.pointee.elem = UnsafeMutableRawPointer(ep)
        mysg.pointee.c = h
        prepareToPark(m)
        h.recvq.enqueue(mysg)
        h.lock.unlock()

        park(m)

        if m.pointee.param != UnsafeMutableRawPointer(mysg) { goFatal("chanrecv: G waiting list is corrupted") }
        let success = mysg.pointee.success
        m.pointee.param = nil
        mysg.pointee.elem = nil
        mysg.pointee.c = nil
        releaseSudog(m, mysg)
        return (true, success)
    }

    // MARK: closechan

    /// chan.go closechan.
    @inlinable
    func closechan() throws(ChannelError) {
        h.lock.lock()
        if h.pointee.closed != 0 {
            h.lock.unlock()
            throw .closeOfClosedChannel
        }
        atomicStoreU32(&h.pointee.closed, 1)

        // Collect every parked thread, chained through `schedlink` (select
        // sudogs use `waitlink` for their own list); ready them after
        // unlocking, as Go does.
        var glist: UnsafeMutablePointer<Sudog>? = nil
        // Release all readers: their slots stay uninitialized, success false.
        while let sg = h.recvq.dequeue() {
            sg.pointee.elem = nil
            sg.pointee.success = false
            sg.pointee.m.pointee.param = UnsafeMutableRawPointer(sg)
            sg.pointee.schedlink = glist
            glist = sg
        }
        // Release all writers (they will throw send-on-closed).
        while let sg = h.sendq.dequeue() {
            sg.pointee.elem = nil
            sg.pointee.success = false
            sg.pointee.m.pointee.param = UnsafeMutableRawPointer(sg)
            sg.pointee.schedlink = glist
            glist = sg
        }
        h.lock.unlock()

        // Ready them now that the lock is dropped. Read the link before
        // readying: a readied thread reuses its sudog at once.
        if glist == nil { return }
        let me = currentM()
        while let sg = glist {
            glist = sg.pointee.schedlink
            let target = sg.pointee.m
            goready(target, waker: me)
        }
    }
}
