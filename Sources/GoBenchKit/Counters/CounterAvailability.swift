// The preflight: which of the requested events this machine can count, and
// why not where it cannot. `gobench counters` prints it; every run puts its
// summary into the run context (a Go-text config line and context.json), so
// a result file says which counters stood behind it.
//
// Stages of `CounterPreflight.run`:
//   1. encode each name with libpfm4 (unknown name: n/a, never fatal);
//   2. open each event alone on this thread, counting user and kernel; on
//      EACCES/EPERM retry user-only once (perf_event_paranoid >= 2 forbids
//      kernel counting to unprivileged users) and, if that works, count
//      user-only for all events;
//   3. open the events that passed as the real groups (hardware apart from
//      software), since a group can fail where its members open alone
//      (more hardware events than the PMU has counters);
//   4. summarise per group: "hw=unavailable(ENOENT: no PMU) sw=ok".

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the preflight found for one event.
public enum CounterStatus: Sendable, Equatable {
    case available
    /// ENOENT, EOPNOTSUPP, ENODEV: this machine cannot count it (no PMU,
    /// as in a VM, or the PMU lacks the event).
    case notSupported(errno: Int32)
    /// EACCES, EPERM: the kernel forbids it to this user.
    case notPermitted(errno: Int32, paranoid: Int?)
    /// libpfm4 does not know the name on this machine.
    case unknownName(reason: String)
    /// Opened alone but not inside its group (e.g. too many hardware
    /// events for the PMU's counters).
    case groupFailed(errno: Int32)
    /// Any other errno.
    case failed(errno: Int32)

    public static func classify(errno e: Int32, paranoid: Int?) -> CounterStatus {
        switch e {
        case ENOENT, EOPNOTSUPP, ENODEV: return .notSupported(errno: e)
        case EACCES, EPERM: return .notPermitted(errno: e, paranoid: paranoid)
        default: return .failed(errno: e)
        }
    }

    public var isAvailable: Bool { self == .available }

    /// One short phrase: "ok", "n/a(ENOENT: not supported)".
    public var short: String {
        switch self {
        case .available: return "ok"
        case .notSupported(let e): return "n/a(\(PerfError.errnoName(e)): not supported)"
        case .notPermitted(let e, _): return "n/a(\(PerfError.errnoName(e)): not permitted)"
        case .unknownName: return "n/a(unknown event)"
        case .groupFailed(let e): return "n/a(\(PerfError.errnoName(e)): group failed)"
        case .failed(let e): return "n/a(\(PerfError.errnoName(e)))"
        }
    }

    /// A full sentence for `gobench counters`, with what to change where
    /// something can be changed.
    public var explanation: String {
        switch self {
        case .available: return "available"
        case .notSupported(let e):
            return "not supported (\(PerfError.errnoName(e)): \(PerfError.message(e)))"
        case .notPermitted(let e, let paranoid):
            let p = paranoid.map { "kernel.perf_event_paranoid is \($0)" } ?? "kernel.perf_event_paranoid is unreadable"
            return "not permitted (\(PerfError.errnoName(e)): \(PerfError.message(e))); \(p): "
                + "run as root, grant CAP_PERFMON, or lower it (sysctl -w kernel.perf_event_paranoid=1 "
                + "allows user and kernel counting of your own threads; 2 allows user-only)"
        case .unknownName(let reason): return "unknown event name (\(reason))"
        case .groupFailed(let e):
            return "opens alone but not in the hardware group (\(PerfError.errnoName(e)): \(PerfError.message(e))); "
                + "request fewer hardware events"
        case .failed(let e): return "failed (\(PerfError.errnoName(e)): \(PerfError.message(e)))"
        }
    }
}

/// One requested event and its verdict.
public struct CounterCheck: Sendable, Equatable {
    public var name: String
    /// Nil when libpfm4 could not encode the name.
    public var event: CounterEvent?
    public var status: CounterStatus
}

/// The preflight's result.
public struct CounterAvailability: Sendable, Equatable {
    public var checks: [CounterCheck]
    /// Events are opened with exclude_kernel (perf_event_paranoid forbade
    /// kernel counting).
    public var userOnly: Bool
    /// /proc/sys/kernel/perf_event_paranoid, when readable.
    public var paranoid: Int?
    /// Whether /sys/bus/event_source/devices lists a CPU PMU.
    public var hasCPUPMU: Bool

    /// The events that will be counted, per group, in request order.
    public func available(_ kind: CounterKind) -> [CounterEvent] {
        checks.compactMap { $0.status.isAvailable && $0.event?.kind == kind ? $0.event : nil }
    }

    /// Requested events of a group (by encoding; unknown names count as
    /// hardware, since every software name is known to libpfm4).
    func requested(_ kind: CounterKind) -> [CounterCheck] {
        checks.filter { ($0.event?.kind ?? .hardware) == kind }
    }

    /// Per group: "ok", "ok(2/4)", "unavailable(ENOENT: no PMU)",
    /// "none requested".
    public func groupSummary(_ kind: CounterKind) -> String {
        let asked = requested(kind)
        if asked.isEmpty { return "none requested" }
        let ok = asked.filter { $0.status.isAvailable }.count
        if ok == asked.count { return "ok" + (userOnly ? "(user-only)" : "") }
        if ok > 0 { return "ok(\(ok)/\(asked.count))" + (userOnly ? "(user-only)" : "") }
        // Nothing opened: name the first reason, and say "no PMU" where
        // that is what ENOENT means.
        let first = asked.first!.status
        switch first {
        case .notSupported(let e) where kind == .hardware && !hasCPUPMU:
            return "unavailable(\(PerfError.errnoName(e)): no PMU)"
        case .notSupported(let e), .notPermitted(let e, _), .groupFailed(let e), .failed(let e):
            return "unavailable(\(PerfError.errnoName(e)))"
        case .unknownName: return "unavailable(unknown events)"
        case .available: return "ok"
        }
    }

    /// The run-context value: "hw=unavailable(ENOENT: no PMU) sw=ok".
    public var summary: String {
        "hw=\(groupSummary(.hardware)) sw=\(groupSummary(.software))"
    }

    /// The run-context value listing every event:
    /// "cycles=n/a(ENOENT: not supported) task-clock=ok ...".
    public var eventSummary: String {
        checks.map { "\($0.name)=\($0.status.short)" }.joined(separator: " ")
    }
}

public enum CounterPreflight {
    /// Runs the preflight for `names` on the calling thread.
    public static func run(names: [String]) -> CounterAvailability {
        let paranoid = readParanoid()
        // Stage 1: encode.
        var checks: [CounterCheck] = names.map { name in
            switch EventNames.encode(name) {
            case .success(let e): return CounterCheck(name: name, event: e, status: .available)
            case .failure(let err): return CounterCheck(name: name, event: nil, status: .unknownName(reason: err.reason))
            }
        }
        return run(checks: &checks, paranoid: paranoid)
    }

    /// Runs stages 2-4 for events already encoded (tests use this with
    /// made-up encodings).
    public static func run(events: [CounterEvent]) -> CounterAvailability {
        var checks = events.map { CounterCheck(name: $0.name, event: $0, status: .available) }
        return run(checks: &checks, paranoid: readParanoid())
    }

    static func run(checks: inout [CounterCheck], paranoid: Int?) -> CounterAvailability {
        // Stage 2: each event alone, full counting first.
        var userOnly = false
        var results: [(index: Int, errno: Int32?)] = []
        for (i, c) in checks.enumerated() {
            guard let e = c.event else { continue }
            results.append((i, tryOpen(e, userOnly: false)))
        }
        let denied = results.contains { $0.errno == EACCES || $0.errno == EPERM }
        if denied {
            // Retry user-only; adopt it if it lets anything more open.
            let retry = results.map { r -> (Int, Int32?) in
                (r.index, tryOpen(checks[r.index].event!, userOnly: true))
            }
            if retry.filter({ $0.1 == nil }).count > results.filter({ $0.errno == nil }).count {
                userOnly = true
                results = retry.map { (index: $0.0, errno: $0.1) }
            }
        }
        for r in results {
            checks[r.index].status = r.errno.map { CounterStatus.classify(errno: $0, paranoid: paranoid) } ?? .available
        }

        // Stage 3: the real groups.
        for kind in [CounterKind.hardware, .software] {
            let members = checks.indices.filter { checks[$0].status.isAvailable && checks[$0].event?.kind == kind }
            guard members.count > 1 else { continue }
            if case .failure(let err) = PerfGroup.open(members.map { checks[$0].event! }, userOnly: userOnly) {
                for i in members { checks[i].status = .groupFailed(errno: err.errno) }
            }
        }
        return CounterAvailability(checks: checks, userOnly: userOnly, paranoid: paranoid, hasCPUPMU: hasCPUPMU())
    }

    /// Opens `event` alone and closes it; nil on success, else the errno.
    static func tryOpen(_ event: CounterEvent, userOnly: Bool) -> Int32? {
        switch PerfGroup.open([event], userOnly: userOnly) {
        case .success(let g): g.close(); return nil
        case .failure(let e): return e.errno
        }
    }

    public static func readParanoid() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8) else {
            return nil
        }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether the kernel lists a CPU PMU ("cpu" on x86, "cpu_core" and
    /// "cpu_atom" on hybrid Intel, "armv8_..." on ARM). A KVM guest
    /// without a virtual PMU lists only software, tracepoint, breakpoint...
    public static func hasCPUPMU() -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/event_source/devices") else {
            return false
        }
        return names.contains { $0 == "cpu" || $0.hasPrefix("cpu_") || $0.hasPrefix("armv") || $0.contains("pmu") }
    }
}
