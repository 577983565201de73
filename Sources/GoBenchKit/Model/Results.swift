// The results model: what a run asks for (a plan per benchmark, with its
// bench time and repetition count) and what it returns (one
// RepetitionResult per counted repetition, each a list of typed metrics).
// Every writer (CSV, Go text, console, HTML) and every comparison reads
// these types; nothing else carries results between stages.

import Foundation

/// How long to run each benchmark: a target duration (calibrated) or a
/// fixed iteration count, like `go test -benchtime 1s` / `-benchtime 100x`.
public enum BenchTime: Sendable, Equatable, Codable, CustomStringConvertible {
    case nanoseconds(Int64)
    case iterations(Int)

    /// Parses "100ms", "1.5s", "250us", "10ns", "1m" or "500x".
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("x"), let n = Int(t.dropLast()), n > 0 {
            self = .iterations(n)
            return
        }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            if let v = Double(number), v > 0, v.isFinite {
                self = .nanoseconds(Int64(v * scale))
                return
            }
        }
        throw SelectionError("invalid bench time \"\(text)\" (want e.g. 100ms, 1s or 500x)")
    }

    public var description: String {
        switch self {
        case .iterations(let n): return "\(n)x"
        case .nanoseconds(let ns):
            if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
            if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
            if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
            return "\(ns)ns"
        }
    }
}

/// One benchmark as the runner will run it.
public struct BenchmarkPlan: Sendable {
    public var benchmark: Benchmark
    public var benchTime: BenchTime
    public var count: Int

    public init(_ benchmark: Benchmark, benchTime: BenchTime, count: Int) {
        self.benchmark = benchmark
        self.benchTime = benchTime
        self.count = max(1, count)
    }
}

/// The measured result of one counted repetition.
public struct RepetitionResult: Sendable, Equatable, Codable {
    public var name: String
    /// `.swift` for our own benchmarks; a reference implementation's value
    /// for its rows.
    public var impl: Implementation
    public var threads: Int
    public var repetition: Int
    public var n: Int
    public var metrics: [Metric]
    /// The worker process that measured it (0 ..< processes), or nil when
    /// unknown (measured in the parent, or read from a file without the
    /// column). Repetitions of one process share its address-space layout
    /// and heap state, so the statistics treat a process, not a
    /// repetition, as the unit that is replicated (VerdictPolicy).
    public var process: Int?

    public init(name: String, impl: Implementation = .swift, threads: Int, repetition: Int, n: Int,
                metrics: [Metric], process: Int? = nil) {
        self.name = name
        self.impl = impl
        self.threads = threads
        self.repetition = repetition
        self.n = n
        self.metrics = metrics
        self.process = process
    }

    public var series: SeriesKey { SeriesKey(name: name, implementation: impl) }
    public var key: RepetitionKey { RepetitionKey(series: series, repetition: repetition) }

    public func metric(_ unit: String) -> Metric? { metrics.first { $0.unit == unit } }
}

