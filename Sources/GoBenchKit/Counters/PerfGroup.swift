// A perf_event group on the calling thread: the only Swift file that calls
// the perf_event_open shim (CGoBench/Perf.c), turning its -errno returns
// into `PerfError`s.
//
// Life of a group, all on one thread:
//   open (leader disabled, members follow it)
//   -> reset + enable right before the timed loop
//   -> disable right after it -> one read of the whole group
//      (nr, time_enabled, time_running, values...) -> close.
// A group read costs about 0.47 us here, so it happens once per
// repetition, never per operation.

import CGoBench
#if canImport(Glibc)
import Glibc
#endif

/// perf_event_attr.type values (linux/perf_event.h).
public enum PerfType {
    public static let hardware = UInt32(CGB_PERF_TYPE_HARDWARE)
    public static let software = UInt32(CGB_PERF_TYPE_SOFTWARE)
    public static let hardwareCache = UInt32(CGB_PERF_TYPE_HW_CACHE)
    public static let raw = UInt32(CGB_PERF_TYPE_RAW)
}

/// A failed perf_event call: the errno and which event it was about.
public struct PerfError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errno: Int32
    public var event: String

    public var description: String { "\(event): \(PerfError.errnoName(errno)) (\(PerfError.message(errno)))" }

    /// "ENOENT", "EACCES"... for the errnos perf_event_open documents.
    public static func errnoName(_ e: Int32) -> String {
        switch e {
        case ENOENT: return "ENOENT"
        case EOPNOTSUPP: return "EOPNOTSUPP"
        case ENODEV: return "ENODEV"
        case EACCES: return "EACCES"
        case EPERM: return "EPERM"
        case EINVAL: return "EINVAL"
        case EBUSY: return "EBUSY"
        case EMFILE: return "EMFILE"
        case E2BIG: return "E2BIG"
        case ENOSYS: return "ENOSYS"
        case ENOSPC: return "ENOSPC"
        default: return "errno \(e)"
        }
    }

    public static func message(_ e: Int32) -> String {
        String(cString: strerror(e))
    }
}

/// One read of a group, already split into its parts.
public struct GroupReading: Sendable, Equatable {
    /// Nanoseconds the group was enabled / actually counting. They differ
    /// when the kernel multiplexed the PMU among more events than it has
    /// counters.
    public var timeEnabled: UInt64
    public var timeRunning: UInt64
    /// Raw counts in the order the events were opened.
    public var values: [UInt64]

    public init(timeEnabled: UInt64, timeRunning: UInt64, values: [UInt64]) {
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
        self.values = values
    }

    /// The factor raw counts are multiplied by (enabled / running); nil
    /// when the group never ran, so there is nothing to scale.
    public var scale: Double? {
        guard timeRunning > 0 else { return nil }
        return timeRunning >= timeEnabled ? 1 : Double(timeEnabled) / Double(timeRunning)
    }

    /// Counts estimated over the whole enabled time.
    public var scaledValues: [Double]? {
        guard let s = scale else { return nil }
        return values.map { Double($0) * s }
    }
}

/// An open group on the thread that opened it. Not thread-safe: one
/// thread opens, drives, reads and closes it.
public final class PerfGroup {
    public let events: [CounterEvent]
    private var fds: [Int32]
    /// Opened with `inheritedBy: true`: each event its own leader.
    public let inherited: Bool

    private init(events: [CounterEvent], fds: [Int32], inherited: Bool = false) {
        self.events = events
        self.fds = fds
        self.inherited = inherited
    }

    deinit { close() }

    /// Opens `events` as one group on the calling thread, the first as the
    /// leader. `userOnly` excludes kernel and hypervisor counting (what
    /// perf_event_paranoid >= 2 demands of unprivileged users). On failure
    /// every fd opened so far is closed and the error names the event.
    public static func open(_ events: [CounterEvent], userOnly: Bool) -> Result<PerfGroup, PerfError> {
        precondition(!events.isEmpty, "a group needs at least one event")
        var fds: [Int32] = []
        for e in events {
            let fd = cgb_perf_open(e.type, e.config, e.config1, e.config2, fds.first ?? -1, userOnly ? 1 : 0)
            if fd < 0 {
                for f in fds.reversed() { _ = cgb_perf_close(f) }
                return .failure(PerfError(errno: -fd, event: e.name))
            }
            fds.append(fd)
        }
        return .success(PerfGroup(events: events, fds: fds))
    }

    private var leader: Int32 { fds.first ?? -1 }

    /// Zeroes the counts and starts counting. Returns 0 or -errno.
    @discardableResult
    public func start() -> Int32 {
        guard inherited else {
            let r = cgb_perf_reset_group(leader)
            return r != 0 ? r : cgb_perf_enable_group(leader)
        }
        for f in fds {
            let r = cgb_perf_reset_group(f)
            if r != 0 { return r }
        }
        for f in fds {
            let r = cgb_perf_enable_group(f)
            if r != 0 { return r }
        }
        return 0
    }

    /// Stops counting. Returns 0 or -errno.
    @discardableResult
    public func stop() -> Int32 {
        guard inherited else { return cgb_perf_disable_group(leader) }
        var first: Int32 = 0
        for f in fds.reversed() {
            let r = cgb_perf_disable_group(f)
            if first == 0 { first = r }
        }
        return first
    }

    /// The same events as `open`, but each its own leader and inherited by
    /// every thread the calling thread starts afterwards (for a body that
    /// starts threads of its own: the goroutine scheduler's Ms). A thread's
    /// counts join when it exits, so a read after the body has joined its
    /// threads holds theirs too. The kernel does not read inherited groups,
    /// so each event is read and scaled on its own.
    public static func open(_ events: [CounterEvent], userOnly: Bool, inheritedBy: Bool) -> Result<PerfGroup, PerfError> {
        guard inheritedBy else { return open(events, userOnly: userOnly) }
        precondition(!events.isEmpty, "a group needs at least one event")
        var fds: [Int32] = []
        for e in events {
            let fd = cgb_perf_open_inherited(e.type, e.config, e.config1, e.config2, userOnly ? 1 : 0)
            if fd < 0 {
                for f in fds.reversed() { _ = cgb_perf_close(f) }
                return .failure(PerfError(errno: -fd, event: e.name))
            }
            fds.append(fd)
        }
        return .success(PerfGroup(events: events, fds: fds, inherited: true))
    }

    /// One read of the whole group.
    public func read() -> Result<GroupReading, PerfError> {
        if inherited { return readInherited() }
        let capacity = 3 + fds.count
        var buf = [UInt64](repeating: 0, count: capacity)
        let words = buf.withUnsafeMutableBufferPointer { cgb_perf_read_group(leader, $0.baseAddress, Int32(capacity)) }
        guard words >= 0 else { return .failure(PerfError(errno: -words, event: events[0].name)) }
        let nr = Int(buf[0])
        guard words >= 3 && nr == fds.count && Int(words) >= 3 + nr else {
            return .failure(PerfError(errno: EIO, event: events[0].name))
        }
        return .success(GroupReading(timeEnabled: buf[1], timeRunning: buf[2], values: Array(buf[3..<(3 + nr)])))
    }

    /// Inherited events, read one by one and scaled each by its own
    /// enabled/running time, folded into one reading: the values carry
    /// each event's scale relative to the largest, and the reading's times
    /// carry the largest, so that `scaledValues` is right for every event.
    private func readInherited() -> Result<GroupReading, PerfError> {
        var raw: [(value: UInt64, enabled: UInt64, running: UInt64)] = []
        for (i, f) in fds.enumerated() {
            var out: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let r = withUnsafeMutableBytes(of: &out) { cgb_perf_read_one(f, $0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }
            if r != 0 { return .failure(PerfError(errno: -r, event: events[i].name)) }
            raw.append(out)
        }
        func scale(_ e: (value: UInt64, enabled: UInt64, running: UInt64)) -> Double? {
            guard e.running > 0 else { return nil }
            return e.running >= e.enabled ? 1 : Double(e.enabled) / Double(e.running)
        }
        let scales = raw.map(scale)
        guard scales.allSatisfy({ $0 != nil }), let top = raw.indices.max(by: { scales[$0]! < scales[$1]! }) else {
            return .success(GroupReading(timeEnabled: raw.first?.enabled ?? 0, timeRunning: 0, values: raw.map(\.value)))
        }
        let s = scales[top]!
        let values = raw.indices.map { UInt64((Double(raw[$0].value) * scales[$0]! / s).rounded()) }
        return .success(GroupReading(timeEnabled: raw[top].enabled, timeRunning: raw[top].running, values: values))
    }

    /// Closes every fd (members first). Idempotent.
    public func close() {
        for f in fds.reversed() { _ = cgb_perf_close(f) }
        fds = []
    }
}
