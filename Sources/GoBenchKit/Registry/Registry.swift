// The set of benchmarks the CLI knows, and selection by regular expression
// the way `go test -bench` selects (an unanchored match anywhere in the
// name).

/// Registered benchmarks in registration order, names unique.
public struct Registry: Sendable {
    public private(set) var benchmarks: [Benchmark] = []
    private var index: [String: Int] = [:]

    public init() {}

    public init(_ benchmarks: [Benchmark]) {
        for b in benchmarks { register(b) }
    }

    /// Adds a benchmark; a duplicate name is a programming error.
    public mutating func register(_ benchmark: Benchmark) {
        precondition(index[benchmark.name] == nil, "benchmark \(benchmark.name) registered twice")
        index[benchmark.name] = benchmarks.count
        benchmarks.append(benchmark)
    }

    public subscript(name: String) -> Benchmark? {
        index[name].map { benchmarks[$0] }
    }

    /// Benchmarks whose name matches `pattern` (unanchored regex), in
    /// registration order. An invalid pattern is a `SelectionError`.
    public func select(_ pattern: String) throws -> [Benchmark] {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw SelectionError("invalid benchmark pattern \"\(pattern)\": \(error)")
        }
        return benchmarks.filter { $0.name.contains(regex) }
    }
}
