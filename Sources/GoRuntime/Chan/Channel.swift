// Go channels: runtime/chan.go (hchan, makechan, chansend, chanrecv,
// closechan) ported to OS threads. Select lives in Select.swift; sudogs,
// wait queues and parking in Sudog.swift.
//
// Design. A channel is an `hchan`: a lock, a ring buffer of `dataqsiz`
// elements holding `qcount` of them between `recvx` (next to receive) and
// `sendx` (next free slot), a queue of parked receivers (`recvq`) and one of
// parked senders (`sendq`), and a `closed` flag. An operation never waits
// while holding the lock; it does one of three things under it:
//
//   - hand off directly: a send that finds a parked receiver copies its
//     value straight into the receiver's slot and readies it; a receive
//     that finds a parked sender takes the sender's value (unbuffered), or
//     on a full buffer takes the head of the buffer and moves the sender's
//     value to the tail (the same slot, since the buffer is full);
//   - use the buffer, if it has room (send) or elements (receive);
//   - park: enqueue a sudog naming its value or its empty slot, release the
//     lock, and wait to be readied by the thread that completes it.
//
// Close marks the channel closed and readies every parked receiver (they
// receive nothing, "not ok") and every parked sender (they fail with
// send-on-closed). Receives drain what is buffered before reporting closed.
//
// Invariants (checkInvariants() verifies them under the lock):
//   - at least one of sendq and recvq is empty, except on an unbuffered
//     channel where one select is parked as both sender and receiver;
//   - buffered: qcount > 0 implies recvq is empty (a receiver would have
//     taken the element); qcount < dataqsiz implies sendq is empty (a sender
//     would have used the room);
//   - 0 <= qcount <= dataqsiz, and sendx == (recvx + qcount) % dataqsiz;
//     exactly the slots recvx ..< recvx+qcount (mod dataqsiz) hold
//     initialized elements;
//   - unbuffered: qcount == 0;
//   - closed implies sendq and recvq are empty (close drains both, and no
//     operation parks on a closed channel);
//   - closed never goes back to 0.
//
// Lock-free reads. Only the non-blocking fast paths (trySend, tryReceive,
// a select of one case plus default) read hchan without the lock, exactly
// where Go does: `closed`, `qcount` and `sendq.first`/`recvq.first`. Those
// fields are written only under the lock, with atomic release stores, and
// read with atomic acquire loads; the argument for each read is at the read.
//
// Element memory. Elements are Swift values in memory this file manages:
// the ring buffer is an UnsafeMutablePointer<Element>; a sender's value is
// copied (retained) into the buffer or straight into a parked receiver's
// slot; a receiver moves it out. Nothing is copied twice on a hand-off.

import CGoRuntime

/// Errors of channel operations: Go's panics "send on closed channel" and
/// "close of closed channel".
public enum ChannelError: Error, Sendable, Equatable {
    case sendOnClosedChannel
    case closeOfClosedChannel
}

/// Outcome of a non-blocking receive.
public enum TryReceiveResult<Element> {
    /// An element was received.
    case value(Element)
    /// The channel is open and nothing could be received without waiting.
    case wouldBlock
    /// The channel is closed and drained.
    case closed
}

extension TryReceiveResult: Sendable where Element: Sendable {}
extension TryReceiveResult: Equatable where Element: Equatable {}

/// chan.go `hchan`, minus the element type (the generic `Channel` knows it).
/// Lives in manually allocated memory so that its address is stable (select
/// orders locks by it; the lock word is a futex) and so that accesses are
/// plain loads and stores, not exclusivity-checked class property accesses.
@usableFromInline
struct HChan {
    /// RuntimeLock word (lock_futex.go); protects every other field and the
    /// fields of the sudogs queued here. Must stay the first field.
    @usableFromInline var lockKey: UInt32 = runtimeMutexUnlocked
    /// 1 once closed. Written under the lock (atomic store), read lock-free.
    @usableFromInline var closed: UInt32 = 0
    /// Elements in the buffer. Written under the lock (atomic store), read
    /// lock-free by the fast paths and `count`.
    @usableFromInline var qcount: Int = 0
    /// Buffer capacity (0: unbuffered). Immutable.
    @usableFromInline let dataqsiz: Int
    /// Next slot to send into.
    @usableFromInline var sendx: Int = 0
    /// Next slot to receive from.
    @usableFromInline var recvx: Int = 0
    /// Parked receivers.
    @usableFromInline var recvq = WaitQ()
    /// Parked senders.
    @usableFromInline var sendq = WaitQ()

    @usableFromInline init(dataqsiz: Int) { self.dataqsiz = dataqsiz }
}

extension UnsafeMutablePointer where Pointee == HChan {
    @inlinable @inline(__always) var lock: RuntimeLock {
        RuntimeLock(UnsafeMutableRawPointer(self).assumingMemoryBound(to: UInt32.self))
    }
    @inlinable @inline(__always) var recvq: UnsafeMutablePointer<WaitQ> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<HChan>.offset(of: \HChan.recvq)!)
            .assumingMemoryBound(to: WaitQ.self)
    }
    @inlinable @inline(__always) var sendq: UnsafeMutablePointer<WaitQ> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<HChan>.offset(of: \HChan.sendq)!)
            .assumingMemoryBound(to: WaitQ.self)
    }

    /// chan.go full(): would a send block? Lock-free; a snapshot.
    /// Unbuffered: no receiver is parked (first is read atomically; Go reads
    /// the pointer as one word, which is what matters). Buffered: the
    /// buffer is full (qcount read atomically; dataqsiz is immutable).
    @inlinable @inline(__always) var full: Bool {
        if pointee.dataqsiz == 0 { return recvq.firstAtomic == nil }
        return atomicLoadInt(&pointee.qcount) == pointee.dataqsiz
    }

    /// chan.go empty(): would a receive block (ignoring close)? Lock-free.
    @inlinable @inline(__always) var empty: Bool {
        if pointee.dataqsiz == 0 { return sendq.firstAtomic == nil }
        return atomicLoadInt(&pointee.qcount) == 0
    }

    @inlinable @inline(__always) var isClosedAtomic: Bool { atomicLoadU32(&pointee.closed) != 0 }
}

/// A channel of some element type: the part of a `Channel<Element>` that
/// does not depend on the element type, which is what `select` works with
/// (Go's untyped hchan pointer). It cannot be created or subclassed outside
/// this module; every instance is a `Channel<Element>`.
public class AnyChannel {
    /// The hchan; allocated and freed by `Channel<Element>`.
    @usableFromInline let h: UnsafeMutablePointer<HChan>

    @usableFromInline init(h: UnsafeMutablePointer<HChan>) { self.h = h }

    /// len(c): elements buffered now (a snapshot; read without the lock,
    /// as Go's len does).
    @inlinable
    public final var count: Int { atomicLoadInt(&h.pointee.qcount) }

    /// cap(c).
    @inlinable
    public final var capacity: Int { h.pointee.dataqsiz }

    /// Whether the channel has been closed (a snapshot).
    @inlinable
    public final var isClosed: Bool { h.isClosedAtomic }

    // selectgo's element moves, done with the element type by
    // `Channel<Element>` (Select.swift). All but `selDestroy` run with the
    // channel lock held. (A one-case select needs none of these: it knows
    // the element type and calls chansend/chanrecv directly.)

    @usableFromInline func selSendToParked(_ sg: UnsafeMutablePointer<Sudog>, from: UnsafeMutableRawPointer) -> UnsafeMutablePointer<cgort_chan_m> {
        goFatal("AnyChannel is abstract")
    }
    @usableFromInline func selRecvFromParked(_ sg: UnsafeMutablePointer<Sudog>, into: UnsafeMutableRawPointer) -> UnsafeMutablePointer<cgort_chan_m> {
        goFatal("AnyChannel is abstract")
    }
    @usableFromInline func selBufSend(from: UnsafeMutableRawPointer) { goFatal("AnyChannel is abstract") }
    @usableFromInline func selBufRecv(into: UnsafeMutableRawPointer) { goFatal("AnyChannel is abstract") }
    /// Destroys a send case's value slot.
    @usableFromInline func selDestroy(_ elem: UnsafeMutableRawPointer) { goFatal("AnyChannel is abstract") }
}

extension AnyChannel: @unchecked Sendable {}

/// A Go channel (runtime/chan.go) between OS threads.
///
/// `send` blocks until a receiver takes the value (unbuffered) or there is
/// room in the buffer; `receive` blocks until a value is available or the
/// channel is closed and drained. Iterating receives until then. Selects
/// over several channels are built with `select { ... }`.
public final class Channel<Element>: AnyChannel {
    /// The ring buffer: `capacity` slots right after the hchan (none for
    /// an unbuffered channel: never dereferenced then), `qcount` of them
    /// initialized.
    @usableFromInline let buf: UnsafeMutablePointer<Element>

    /// makechan: a channel with room for `capacity` buffered elements
    /// (0: unbuffered, every send waits for its receiver). Like makechan,
    /// the hchan and its buffer are one allocation: the buffer follows the
    /// hchan, aligned for `Element` (unbuffered: no buffer bytes at all).
    public init(capacity: Int = 0) {
        if capacity < 0 || capacity > Int.max / Swift.max(MemoryLayout<Element>.stride, 1) / 2 {
            goFatal("makechan: size out of range")
        }
        let align = Swift.max(MemoryLayout<Element>.alignment, MemoryLayout<HChan>.alignment)
        let hsize = (MemoryLayout<HChan>.stride + align - 1) & ~(align - 1)
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: hsize + capacity * MemoryLayout<Element>.stride, alignment: align)
        let h = raw.bindMemory(to: HChan.self, capacity: 1)
        h.initialize(to: HChan(dataqsiz: capacity))
        buf = (raw + hsize).bindMemory(to: Element.self, capacity: capacity)
        super.init(h: h)
    }

    /// No operation can be parked here: a parked send, receive or select
    /// holds a strong reference to the channel until it returns.
    deinit {
        var i = h.pointee.recvx
        for _ in 0..<h.pointee.qcount {
            (buf + i).deinitialize(count: 1)
            i += 1
            if i == h.pointee.dataqsiz { i = 0 }
        }
        h.deinitialize(count: 1)
        UnsafeMutableRawPointer(h).deallocate()
    }

    /// `c <- value`: blocks until the value is handed to a receiver or
    /// buffered. Throws `.sendOnClosedChannel` if the channel is closed
    /// before or while waiting.
    @inlinable
    public func send(_ value: Element) throws(ChannelError) {
        _ = try withUnsafePointer(to: value) { (p) throws(ChannelError) -> Bool in
            try chansend(p, block: true)
        }
    }

    /// `select { case c <- value: return true; default: return false }`.
    /// Throws `.sendOnClosedChannel` on a closed channel, as Go panics.
    @inlinable
    public func trySend(_ value: Element) throws(ChannelError) -> Bool {
        try withUnsafePointer(to: value) { (p) throws(ChannelError) -> Bool in
            try chansend(p, block: false)
        }
    }

    /// `v, ok := <-c`: blocks until a value arrives; nil once the channel
    /// is closed and every buffered value has been received.
    @inlinable
    public func receive() -> Element? {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
            let p = slot.baseAddress!
            return chanrecv(p, block: true).received ? p.move() : nil
        }
    }

    /// `select { case v, ok := <-c: ...; default: ... }`.
    @inlinable
    public func tryReceive() -> TryReceiveResult<Element> {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
            let p = slot.baseAddress!
            let (selected, received) = chanrecv(p, block: false)
            if received { return .value(p.move()) }
            return selected ? .closed : .wouldBlock
        }
    }

    /// close(c): parked receivers get nil, parked senders fail with
    /// `.sendOnClosedChannel`. Throws `.closeOfClosedChannel` the second
    /// time.
    @inlinable
    public func close() throws(ChannelError) {
        try closechan()
    }

    // MARK: Select's element moves (see AnyChannel)

    @usableFromInline override func selSendToParked(_ sg: UnsafeMutablePointer<Sudog>, from: UnsafeMutableRawPointer) -> UnsafeMutablePointer<cgort_chan_m> {
        sendToParked(sg, UnsafePointer(from.assumingMemoryBound(to: Element.self)))
    }
    @usableFromInline override func selRecvFromParked(_ sg: UnsafeMutablePointer<Sudog>, into: UnsafeMutableRawPointer) -> UnsafeMutablePointer<cgort_chan_m> {
        recvFromParked(sg, into.assumingMemoryBound(to: Element.self))
    }
    @usableFromInline override func selBufSend(from: UnsafeMutableRawPointer) {
        bufSend(UnsafePointer(from.assumingMemoryBound(to: Element.self)))
    }
    @usableFromInline override func selBufRecv(into: UnsafeMutableRawPointer) {
        bufRecv(into.assumingMemoryBound(to: Element.self))
    }
    @usableFromInline override func selDestroy(_ elem: UnsafeMutableRawPointer) {
        elem.assumingMemoryBound(to: Element.self).deinitialize(count: 1)
    }
}

extension Channel: @unchecked Sendable where Element: Sendable {}

extension Channel: Sequence {
    /// Receives until the channel is closed and drained (`for v := range c`).
    public struct Iterator: IteratorProtocol {
        let channel: Channel<Element>
        public mutating func next() -> Element? { channel.receive() }
    }

    public func makeIterator() -> Iterator { Iterator(channel: self) }

    /// Nothing is consumed to estimate; the buffered count is a lower bound
    /// only while no receiver runs, so report 0 (Sequence's default).
    public var underestimatedCount: Int { 0 }
}

// MARK: - Test support

extension Channel {
    /// Checks the hchan invariants listed at the top of this file, under
    /// the channel lock; fatal on a violation. For tests.
    public func checkInvariants() {
        h.lock.lock()
        defer { h.lock.unlock() }
        let c = h.pointee
        func fail(_ s: String) -> Never { goFatal("chan invariant: \(s)") }
        if c.qcount < 0 || c.qcount > c.dataqsiz { fail("qcount \(c.qcount) outside 0...\(c.dataqsiz)") }
        let nrecv = h.recvq.countForTesting
        let nsend = h.sendq.countForTesting
        if nrecv > 0 && nsend > 0 {
            // Only one select may sit on both queues of an unbuffered chan.
            if c.dataqsiz != 0 { fail("both queues non-empty on a buffered channel") }
            var ms = Set<UnsafeMutablePointer<cgort_chan_m>>()
            for q in [h.recvq, h.sendq] {
                var s = q.pointee.first
                while let x = s {
                    if !x.pointee.isSelect { fail("both queues non-empty with a plain waiter") }
                    ms.insert(x.pointee.m)
                    s = x.pointee.next
                }
            }
            if ms.count != 1 { fail("both queues non-empty with more than one select") }
        }
        if c.dataqsiz > 0 {
            if c.qcount > 0 && nrecv > 0 { fail("qcount > 0 with parked receivers") }
            if c.qcount < c.dataqsiz && nsend > 0 { fail("room in buffer with parked senders") }
            if c.sendx != (c.recvx + c.qcount) % c.dataqsiz { fail("sendx != recvx + qcount") }
        } else if c.qcount != 0 || c.sendx != 0 || c.recvx != 0 {
            fail("unbuffered channel with buffer state")
        }
        if c.closed != 0 && (nrecv > 0 || nsend > 0) { fail("closed channel with parked waiters") }
        if c.closed > 1 { fail("closed = \(c.closed)") }
    }

    /// Parked receivers and senders (a locked snapshot, for tests).
    public var waitingForTesting: (receivers: Int, senders: Int) {
        h.lock.lock()
        defer { h.lock.unlock() }
        return (h.recvq.countForTesting, h.sendq.countForTesting)
    }
}
