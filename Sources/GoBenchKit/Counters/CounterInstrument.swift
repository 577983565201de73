// Perf counters as a runner instrument. Every worker thread opens its own
// groups (`inherit` would report a child thread's counts only after it
// exits), enables them right around its timed loop, and reads each group
// once when the loop ends (a body that starts threads of its own, which it
// joins before it returns, gets inherited events instead: makeProbe's
// startsThreads). `collect` scales every reading by
// time_enabled/time_running (reported as `counter-scale` when the PMU was
// multiplexed), sums over threads, divides by n, and adds the derived
// ratios (IPC, miss rates) where both parts were counted.
//
// Failure policy (google/benchmark's PerfCounters): a counter that cannot
// be opened is n/a with its reason in the run context; a group that fails
// on a worker, or never ran, drops its metrics for that repetition with a
// warning on stderr. A run never fails because of a counter.

import Foundation

public final class CounterInstrument: Instrument, @unchecked Sendable {
    public let name = "counters"
    /// The preflight this instrument was built from.
    public let availability: CounterAvailability
    /// Per group, the events each worker opens (empty groups are skipped).
    let groups: [[CounterEvent]]
    /// A note added to the context ("instructions from callgrind").
    let note: String?

    private let warningsLock = HarnessLock()
    private var warned = Set<String>()

    /// Runs the preflight on the calling thread for `names` (see
    /// `CounterSelection`). An empty list makes an instrument that counts
    /// nothing but still reports what the machine could count.
    public convenience init(names: [String], note: String? = nil) {
        let shown = names.isEmpty ? CounterSelection.defaultNames : names
        let availability = CounterPreflight.run(names: shown)
        self.init(availability: availability, counting: !names.isEmpty, note: note)
    }

    /// An instrument over a finished preflight; `counting: false` opens
    /// nothing (the context still says what was available).
    public init(availability: CounterAvailability, counting: Bool = true, note: String? = nil) {
        self.availability = availability
        self.groups = counting
            ? [availability.available(.hardware), availability.available(.software)].filter { !$0.isEmpty }
            : []
        self.note = note
    }

    /// Whether any event is counted.
    public var isCounting: Bool { !groups.isEmpty }

    /// Every counted event, hardware group first: what `ProcessCounters`
    /// opens on a child process (Go's reference benchmarks).
    public var countedEvents: [CounterEvent] { groups.flatMap { $0 } }

    public var contextLines: [(key: String, value: String)] {
        var summary = availability.summary
        if !isCounting { summary = "off (--counters none); " + summary }
        if let n = note { summary += "; " + n }
        var lines: [(key: String, value: String)] = [("counters", summary)]
        if isCounting { lines.append(("counter-events", availability.eventSummary)) }
        return lines
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        makeProbe(benchmark: benchmark, worker: worker, threads: threads, startsThreads: false)
    }

    /// For a body that starts threads of its own, worker 0's events are
    /// inherited by those threads (PerfGroup.open(_:userOnly:inheritedBy:)):
    /// the counts then cover the goroutine scheduler's Ms, which the body
    /// joins before it returns, as Go's are counted over its whole process.
    public func makeProbe(benchmark: String, worker: Int, threads: Int, startsThreads: Bool) -> InstrumentProbe {
        let probe = CounterProbe()
        for events in groups {
            switch PerfGroup.open(events, userOnly: availability.userOnly, inheritedBy: startsThreads && worker == 0) {
            case .success(let g): probe.groups.append(g)
            case .failure(let e): probe.openErrors.append(e)
            }
        }
        return probe
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        guard isCounting else { return [] }
        let probes = probes.compactMap { $0 as? CounterProbe }
        var totals: [String: Double] = [:]
        var maxScale = 1.0
        for events in groups {
            var sums = [Double](repeating: 0, count: events.count)
            var complete = true
            for p in probes {
                guard let reading = p.readings[events[0].name] else {
                    complete = false
                    let why = p.openErrors.first(where: { e in events.contains { $0.name == e.event } })?.description
                        ?? p.readErrors.first?.description ?? "not read"
                    warn("\(benchmark): counter group \(events.map(\.name).joined(separator: ",")) failed on a worker: \(why)")
                    break
                }
                guard let scale = reading.scale, let values = reading.scaledValues else {
                    complete = false
                    warn("\(benchmark): counter group \(events.map(\.name).joined(separator: ",")) never ran (time_running 0)")
                    break
                }
                maxScale = max(maxScale, scale)
                for (i, v) in values.enumerated() where i < sums.count { sums[i] += v }
            }
            guard complete else { continue }
            for (i, e) in events.enumerated() { totals[e.name] = sums[i] }
        }
        let perOp = Double(max(n, 1))
        var metrics: [Metric] = []
        for events in groups {
            for e in events {
                if let t = totals[e.name] { metrics.append(Metric(t / perOp, unit: e.unit, kind: e.metricKind)) }
            }
        }
        metrics += DerivedCounters.metrics(totals: totals)
        if maxScale > 1.000_001 {
            // Multiplexed: counts are estimates over the enabled time.
            metrics.append(.condition(maxScale, unit: "counter-scale"))
        }
        return metrics
    }

    private func warn(_ message: String) {
        let first = warningsLock.withLock { warned.insert(message).inserted }
        if first { FileHandle.standardError.write(Data("gobench: warning: \(message)\n".utf8)) }
    }
}

/// One worker's groups for one repetition.
final class CounterProbe: InstrumentProbe {
    var groups: [PerfGroup] = []
    var openErrors: [PerfError] = []
    var readErrors: [PerfError] = []
    /// Readings keyed by each group's leader name.
    var readings: [String: GroupReading] = [:]

    /// Software first, hardware innermost, so that the hardware counts
    /// include as little of the other group's ioctl as possible.
    func start() {
        for g in groups.reversed() { g.start() }
    }

    func stop() {
        for g in groups { g.stop() }
        for g in groups {
            switch g.read() {
            case .success(let r): readings[g.events[0].name] = r
            case .failure(let e): readErrors.append(e)
            }
            g.close()
        }
    }
}

/// Ratios of two counted events, where both were counted.
public enum DerivedCounters {
    /// (numerator, denominator, unit, scale, better)
    public static let ratios: [(String, String, String, Double, Better)] = [
        ("instructions", "cycles", "IPC", 1, .higher),
        ("branch-misses", "branches", "branch-miss-%", 100, .lower),
        ("cache-misses", "cache-references", "cache-miss-%", 100, .lower),
        ("L1-dcache-load-misses", "L1-dcache-loads", "L1-dcache-load-miss-%", 100, .lower),
        ("L1-icache-load-misses", "L1-icache-loads", "L1-icache-load-miss-%", 100, .lower),
        ("LLC-load-misses", "LLC-loads", "LLC-load-miss-%", 100, .lower),
        ("dTLB-load-misses", "dTLB-loads", "dTLB-load-miss-%", 100, .lower),
        ("iTLB-load-misses", "iTLB-loads", "iTLB-load-miss-%", 100, .lower),
    ]

    /// The derived metrics for run totals keyed by event name.
    public static func metrics(totals: [String: Double]) -> [Metric] {
        var out: [Metric] = []
        for (num, den, unit, scale, better) in ratios {
            guard let a = totals[num], let b = totals[den], b > 0 else { continue }
            out.append(Metric(a / b * scale, unit: unit, better: better, kind: .count))
        }
        return out
    }
}
