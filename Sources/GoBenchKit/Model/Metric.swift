// What one measured value is: its unit, its direction, and its kind. The
// kind is decided where the metric is made (the runner knows ns/op is a
// time, the drift instrument knows steal-pct is a condition, callgrind
// knows its count is exact), never guessed later from the unit's spelling.
// The verdict policy (Compare/VerdictPolicy.swift) reads only the kind and
// the direction.

/// Which direction of a metric is an improvement.
public enum Better: String, Sendable, Codable {
    case lower
    case higher
    /// A condition of the run, not a goal (achieved parallelism, steal
    /// time): reported and compared, never judged a regression.
    case neither = "none"
}

/// What a metric measures, and so how a comparison may treat it.
public enum MetricKind: String, Sendable, Codable, CaseIterable {
    /// A duration per op or per run (ns/op, cpu-ns/op, p99-wait-ns): noisy,
    /// judged by a test of significance.
    case time
    /// A count of events or bytes per op that varies run to run
    /// (context-switches/op, spins/op, parks/op): noisy, judged by a test,
    /// and a change of less than 0.01 per op is never a verdict.
    case count
    /// A deterministic count (callgrind instructions/op, allocs/op of
    /// deterministic code): the same run after run, so any change beyond
    /// the threshold is real and no test is needed.
    case exact
    /// A condition of the run (parallelism, steal-pct, loadavg): stored and
    /// shown, never judged.
    case condition

    /// The kind of a metric read from a file that predates the `kind`
    /// column (CSV without it, Go text): exact when the file said so,
    /// a condition when its direction is none, a time for the time units
    /// this harness and Go's testing package write, else a count.
    public static func legacy(unit: String, better: Better, exact: Bool) -> MetricKind {
        if exact { return .exact }
        if better == .neither { return .condition }
        if ["ns/op", "cpu-ns/op", "task-clock-ns/op", "sec/op", "ns/run"].contains(unit) { return .time }
        return .count
    }
}

/// One measured value of one repetition, in Go's benchmark-line sense: a
/// value and a unit (`ns/op`, `spins/op`, `B/op`).
public struct Metric: Sendable, Equatable, Codable {
    /// The identity of the metric, and its unit in Go text: "ns/op".
    public var unit: String
    public var value: Double
    public var better: Better
    public var kind: MetricKind

    /// True for counts that do not vary run to run (callgrind instruction
    /// counts): compare treats any change beyond the threshold as real.
    public var exact: Bool { kind == .exact }

    public init(_ value: Double, unit: String, better: Better = .lower, kind: MetricKind) {
        self.unit = unit
        self.value = value
        self.better = kind == .condition ? .neither : better
        self.kind = kind
    }

    /// A run condition: shown, never judged.
    public static func condition(_ value: Double, unit: String) -> Metric {
        Metric(value, unit: unit, better: .neither, kind: .condition)
    }

    /// A short name for tables and CSV: the unit without a trailing "/op".
    public var name: String { Metric.shortName(unit) }

    /// "ns/op" -> "ns"; units without "/op" stay as they are.
    public static func shortName(_ unit: String) -> String {
        unit.hasSuffix("/op") ? String(unit.dropLast(3)) : unit
    }
}
