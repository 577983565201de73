// Channel event counters: what the benchmarks report per op. Each thread
// counts into its own record (CGoRuntimeChan.h) with plain stores, so
// counting costs no locked instruction and no shared cache line; a snapshot
// sums every thread's counts under the registry mutex. Counts of a thread
// that is running while the snapshot is taken may be a few events stale.

import CGoRuntime

/// Process-wide totals of channel slow-path events since start.
public struct ChannelEvents: Sendable, Equatable {
    /// Operations that blocked: enqueued a sudog and parked.
    public var parks: UInt64 = 0
    /// Parks that went to sleep in futex_wait (the spin did not see the
    /// wake-up in time).
    public var sleeps: UInt64 = 0
    /// goready calls: parked operations completed by another thread
    /// (including by close).
    public var wakeups: UInt64 = 0
    /// futex_wake system calls made by wakers (the readied thread slept).
    public var futexWakes: UInt64 = 0
    /// Values passed directly between a sender and a parked receiver, or
    /// taken from a parked sender (no trip through the buffer).
    public var handoffs: UInt64 = 0
    /// Spin rounds (ChanSpin.pauses PAUSEs each) spent by parked threads.
    public var spinRounds: UInt64 = 0
    /// sched_yield calls by parked threads while spinning.
    public var yields: UInt64 = 0

    public init() {}

    /// Current totals over all threads, live and exited.
    public static func snapshot() -> ChannelEvents {
        var raw = [UInt64](repeating: 0, count: Int(CGORT_CHAN_NEVENTS))
        raw.withUnsafeMutableBufferPointer { cgort_chan_events_snapshot($0.baseAddress, CGORT_CHAN_NEVENTS) }
        var e = ChannelEvents()
        e.parks = raw[Int(ChanEvent.parks.rawValue)]
        e.sleeps = raw[Int(ChanEvent.sleeps.rawValue)]
        e.wakeups = raw[Int(ChanEvent.wakeups.rawValue)]
        e.futexWakes = raw[Int(ChanEvent.futexWakes.rawValue)]
        e.handoffs = raw[Int(ChanEvent.handoffs.rawValue)]
        e.spinRounds = raw[Int(ChanEvent.spinRounds.rawValue)]
        e.yields = raw[Int(ChanEvent.yields.rawValue)]
        return e
    }

    /// Events between two snapshots.
    public static func - (a: ChannelEvents, b: ChannelEvents) -> ChannelEvents {
        var d = ChannelEvents()
        d.parks = a.parks &- b.parks
        d.sleeps = a.sleeps &- b.sleeps
        d.wakeups = a.wakeups &- b.wakeups
        d.futexWakes = a.futexWakes &- b.futexWakes
        d.handoffs = a.handoffs &- b.handoffs
        d.spinRounds = a.spinRounds &- b.spinRounds
        d.yields = a.yields &- b.yields
        return d
    }

    /// (name, value) pairs in a fixed order, for reports.
    public var fields: [(String, UInt64)] {
        [("parks", parks), ("sleeps", sleeps), ("wakeups", wakeups), ("futex-wakes", futexWakes),
         ("handoffs", handoffs), ("spins", spinRounds), ("yields", yields)]
    }
}
