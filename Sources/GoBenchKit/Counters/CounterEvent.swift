// Counter events: what the user names (`cycles`, `task-clock`,
// `L1-dcache-load-misses`, `INST_RETIRED:ANY`), what libpfm4 encodes it to,
// and which perf_event group it joins.
//
// Two groups per worker thread, never one: the kernel schedules a group as
// a unit, and a hardware member makes a software-led group fail to open
// (measured on the no-PMU VM, PLATFORM.md). So software events (type
// PERF_TYPE_SOFTWARE) go into one group that always opens, and every other
// type (hardware, hardware-cache, raw, PMU-specific) into another that may
// be missing.

import Foundation

/// The group an event belongs to.
public enum CounterKind: String, Sendable, Equatable {
    /// Needs a PMU: cycles, instructions, caches, raw PMU events.
    case hardware = "hw"
    /// Kernel-maintained: task-clock, context-switches, page-faults...
    case software = "sw"
}

/// One event, encoded and ready to open.
public struct CounterEvent: Sendable, Equatable {
    /// As requested: "cycles", "L1-dcache-load-misses".
    public var name: String
    /// perf_event_attr.type / config / config1 / config2.
    public var type: UInt32
    public var config: UInt64
    public var config1: UInt64
    public var config2: UInt64
    /// libpfm4's fully qualified spelling, for `gobench counters`.
    public var encodedAs: String

    public init(name: String, type: UInt32, config: UInt64, config1: UInt64 = 0, config2: UInt64 = 0,
                encodedAs: String = "") {
        self.name = name
        self.type = type
        self.config = config
        self.config1 = config1
        self.config2 = config2
        self.encodedAs = encodedAs
    }

    public var kind: CounterKind { type == PerfType.software ? .software : .hardware }

    /// Clock events are times; every other event is a count of events.
    public var metricKind: MetricKind {
        name == "task-clock" || name == "cpu-clock" ? .time : .count
    }

    /// The metric unit of this event's per-op value. Clock events count
    /// nanoseconds and say so; everything else is a count.
    public var unit: String {
        switch name {
        case "task-clock", "cpu-clock": return "\(name)-ns/op"
        default: return "\(name.replacingOccurrences(of: " ", with: "_"))/op"
        }
    }
}

/// What `--counters` asks for.
public enum CounterSelection {
    /// Hardware events of the default set: measured where the machine has
    /// a PMU, reported as n/a where it has none.
    public static let defaultHardware = ["cycles", "instructions", "branch-misses", "cache-misses"]
    /// Software events of the default set: available on every Linux kernel.
    public static let defaultSoftware = ["task-clock", "context-switches", "cpu-migrations", "page-faults"]
    public static let defaultNames = defaultHardware + defaultSoftware

    /// Parses a `--counters` value: "default", "none", or a comma separated
    /// list of event names in which "default" expands to the default set.
    /// Duplicates are dropped; order is kept.
    public static func parse(_ spec: String) throws -> [String] {
        let items = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if items.isEmpty { throw SelectionError("--counters needs event names, \"default\" or \"none\"") }
        if items.contains("none") {
            guard items.count == 1 else { throw SelectionError("--counters none cannot be combined with events") }
            return []
        }
        var names: [String] = []
        for item in items {
            for name in item == "default" ? defaultNames : [item] where !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }
}
