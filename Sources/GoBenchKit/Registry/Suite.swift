// Suite manifests: human-edited TOML files under suites/ that say which
// benchmarks to run, for how long, how many times, and how much slower a
// benchmark may get before CI calls it a regression.
//
//     name = "default"
//     benchtime = "100ms"      # per repetition; "500x" fixes n instead
//     count = 6                # repetitions
//     threshold = 5.0          # percent
//
//     [[benchmark]]
//     pattern = "^mutex/"      # unanchored regex over names (or: name = "...")
//     threshold = 10.0         # optional overrides
//     benchtime = "50ms"
//     count = 8
//     metrics = ["spins/op"]   # judged beside the primary metrics
//     judge = false            # shown in every report, never a verdict
//
// Benchmark parameters are part of their names (`chan/buffered/cap=64`),
// so an entry picks parameters by picking names. The first entry that
// matches a benchmark supplies its overrides; a benchmark is in the suite if
// any entry matches it. Unknown keys are errors, so a typo cannot silently
// drop a setting.

import Foundation
import TOMLKit

public struct Suite: Sendable {
    public struct Entry: Sendable {
        public var pattern: String
        public var isExactName: Bool
        public var benchTime: BenchTime?
        public var count: Int?
        public var threshold: Double?
        /// Metric units judged for these benchmarks beyond the primary ones.
        public var metrics: [String] = []
        /// False: shown, never judged (a bimodal benchmark kept visible).
        public var judge: Bool?

        func matches(_ name: String) -> Bool {
            if isExactName { return name == pattern }
            guard let r = try? Regex(pattern) else { return false }
            return name.contains(r)
        }
    }

    public var name: String
    public var path: String
    public var benchTime: BenchTime
    public var count: Int
    public var threshold: Double
    /// Metric units judged for every benchmark beyond the primary ones.
    public var metrics: [String] = []
    public var entries: [Entry]

    public init(name: String, path: String = "", benchTime: BenchTime = .nanoseconds(100_000_000),
                count: Int = 6, threshold: Double = 5, entries: [Entry]) {
        self.name = name
        self.path = path
        self.benchTime = benchTime
        self.count = count
        self.threshold = threshold
        self.entries = entries
    }

    /// Loads and validates a manifest. Every error is one line naming the
    /// file.
    public static func load(path: String) throws -> Suite {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError("\(path): no such file or not readable")
        }
        do {
            return try parse(text, path: path)
        } catch let e as FormatError {
            throw FormatError("\(path): \(e.description)")
        }
    }

    public static func parse(_ text: String, path: String = "") throws -> Suite {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw FormatError("TOML syntax error at line \(e.source.begin.line): \(e.description)")
        } catch {
            throw FormatError("TOML syntax error: \(error)")
        }
        let topKeys: Set<String> = ["name", "description", "benchtime", "count", "threshold", "metrics", "benchmark"]
        for k in table.keys where !topKeys.contains(k) {
            throw FormatError("unknown key \"\(k)\" (known: \(topKeys.sorted().joined(separator: ", ")))")
        }
        let fallbackName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        var suite = Suite(name: try string(table, "name") ?? fallbackName, path: path, entries: [])
        if let bt = try string(table, "benchtime") { suite.benchTime = try BenchTime(parsing: bt) }
        if let c = try int(table, "count") {
            guard c >= 1 else { throw FormatError("count must be at least 1") }
            suite.count = c
        }
        if let t = try double(table, "threshold") {
            guard t >= 0 else { throw FormatError("threshold must not be negative") }
            suite.threshold = t
        }
        suite.metrics = try strings(table, "metrics") ?? []
        guard let list = table["benchmark"] else { throw FormatError("no [[benchmark]] entries") }
        guard let array = list.array else { throw FormatError("benchmark must be an array of tables ([[benchmark]])") }
        let entryKeys: Set<String> = ["name", "pattern", "benchtime", "count", "threshold", "metrics", "judge"]
        for (i, item) in array.enumerated() {
            guard let t = item.table else { throw FormatError("benchmark entry \(i + 1) is not a table") }
            for k in t.keys where !entryKeys.contains(k) {
                throw FormatError("benchmark entry \(i + 1): unknown key \"\(k)\" (known: \(entryKeys.sorted().joined(separator: ", ")))")
            }
            let name = try string(t, "name"), pattern = try string(t, "pattern")
            guard (name == nil) != (pattern == nil) else {
                throw FormatError("benchmark entry \(i + 1): give exactly one of name or pattern")
            }
            if let p = pattern {
                do { _ = try Regex(p) } catch {
                    throw FormatError("benchmark entry \(i + 1): invalid pattern \"\(p)\"")
                }
            }
            var e = Entry(pattern: name ?? pattern!, isExactName: name != nil)
            if let bt = try string(t, "benchtime") { e.benchTime = try BenchTime(parsing: bt) }
            if let c = try int(t, "count") {
                guard c >= 1 else { throw FormatError("benchmark entry \(i + 1): count must be at least 1") }
                e.count = c
            }
            if let th = try double(t, "threshold") {
                guard th >= 0 else { throw FormatError("benchmark entry \(i + 1): threshold must not be negative") }
                e.threshold = th
            }
            e.metrics = try strings(t, "metrics") ?? []
            if let j = t["judge"] {
                guard let b = j.bool else { throw FormatError("benchmark entry \(i + 1): judge must be true or false") }
                e.judge = b
            }
            suite.entries.append(e)
        }
        return suite
    }

    private static func string(_ t: TOMLTable, _ key: String) throws -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw FormatError("\(key) must be a string") }
        return s
    }

    private static func strings(_ t: TOMLTable, _ key: String) throws -> [String]? {
        guard let v = t[key] else { return nil }
        guard let a = v.array else { throw FormatError("\(key) must be an array of strings") }
        return try a.map { item in
            guard let s = item.string else { throw FormatError("\(key) must be an array of strings") }
            return s
        }
    }

    private static func int(_ t: TOMLTable, _ key: String) throws -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int else { throw FormatError("\(key) must be an integer") }
        return i
    }

    private static func double(_ t: TOMLTable, _ key: String) throws -> Double? {
        guard let v = t[key] else { return nil }
        if let d = v.double { return d }
        if let i = v.int { return Double(i) }
        throw FormatError("\(key) must be a number")
    }

    /// One regex that selects exactly this suite's benchmarks in any
    /// registry (for `ab`, whose base binary resolves it against its own).
    public var selectionPattern: String {
        entries.map { e in
            e.isExactName ? "^" + e.pattern.map { "\\^$.|?*+()[]{}".contains($0) ? "\\\($0)" : "\($0)" }.joined() + "$" : "(?:\(e.pattern))"
        }.joined(separator: "|")
    }

    /// The first entry naming `benchmark`, if any.
    public func entry(for benchmark: String) -> Entry? {
        entries.first { $0.matches(benchmark) }
    }

    /// The regression threshold in percent for a benchmark.
    public func threshold(for benchmark: String) -> Double {
        entry(for: benchmark)?.threshold ?? threshold
    }

    /// Plans for the registered benchmarks this suite names, in registry
    /// order. An exact name that is not registered is an error (a renamed
    /// benchmark must not vanish from CI silently); so is a pattern that
    /// matches nothing.
    public func plans(from registry: Registry, benchTimeOverride: BenchTime? = nil,
                      countOverride: Int? = nil) throws -> [BenchmarkPlan] {
        for e in entries {
            if e.isExactName {
                guard registry[e.pattern] != nil else {
                    throw SelectionError("suite \(name): unknown benchmark \"\(e.pattern)\" (see `gobench list`)")
                }
            } else if !registry.benchmarks.contains(where: { e.matches($0.name) }) {
                throw SelectionError("suite \(name): pattern \"\(e.pattern)\" matches no benchmark")
            }
        }
        return registry.benchmarks.compactMap { b in
            guard let e = entry(for: b.name) else { return nil }
            return BenchmarkPlan(b, benchTime: benchTimeOverride ?? e.benchTime ?? benchTime,
                                 count: countOverride ?? e.count ?? count)
        }
    }

    /// Every *.toml under `directory`, sorted by file name.
    public static func loadAll(directory: String) throws -> [Suite] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw FormatError("\(directory): no such folder (suites are read from suites/*.toml)")
        }
        let files = names.filter { $0.hasSuffix(".toml") }.sorted()
        guard !files.isEmpty else { throw FormatError("\(directory): no *.toml suite manifests") }
        return try files.map { try load(path: "\(directory)/\($0)") }
    }
}
