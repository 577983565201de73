// Identity of results: which implementation produced a series, and the
// keys that group repetitions into samples. Structs, not strings joined
// with a separator, so a name containing any character stays one field.

/// Which implementation a result measures. The harness knows only its own
/// (`.swift`, the ports); a reference implementation (Go's, in the
/// GoBenchReference module) declares its own value. Any other value read
/// from a file is kept as it is.
public struct Implementation: RawRepresentable, Hashable, Sendable, Codable, Comparable,
                              ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: Implementation, b: Implementation) -> Bool { a.rawValue < b.rawValue }

    /// The ports, measured by this harness in this process or its workers.
    public static let swift = Implementation("swift")
}

/// One benchmark of one implementation: the series its repetitions form.
public struct SeriesKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var name: String
    public var implementation: Implementation

    public init(name: String, implementation: Implementation = .swift) {
        self.name = name
        self.implementation = implementation
    }

    public static func < (a: SeriesKey, b: SeriesKey) -> Bool {
        (a.name, a.implementation) < (b.name, b.implementation)
    }

    /// "chan/pingpong", or "chan/pingpong [go]" for another implementation.
    public var description: String {
        implementation == .swift ? name : "\(name) [\(implementation)]"
    }
}

/// One metric of one series: the unit of comparison.
public struct MetricKey: Hashable, Sendable, Codable {
    public var series: SeriesKey
    public var unit: String

    public init(series: SeriesKey, unit: String) {
        self.series = series
        self.unit = unit
    }

    public var name: String { series.name }
    public var implementation: Implementation { series.implementation }
}

/// One repetition of one series.
public struct RepetitionKey: Hashable, Sendable {
    public var series: SeriesKey
    public var repetition: Int
}
