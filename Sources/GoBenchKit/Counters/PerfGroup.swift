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

    private init(events: [CounterEvent], fds: [Int32]) {
        self.events = events
        self.fds = fds
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
        let r = cgb_perf_reset_group(leader)
        return r != 0 ? r : cgb_perf_enable_group(leader)
    }

    /// Stops counting. Returns 0 or -errno.
    @discardableResult
    public func stop() -> Int32 { cgb_perf_disable_group(leader) }

    /// One read of the whole group.
    public func read() -> Result<GroupReading, PerfError> {
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

    /// Closes every fd (members first). Idempotent.
    public func close() {
        for f in fds.reversed() { _ = cgb_perf_close(f) }
        fds = []
    }
}
