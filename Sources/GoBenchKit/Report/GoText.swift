// Go's benchmark text format (golang.org/design/14313-benchmark-format and
// x/perf/benchfmt's Unit lines): configuration lines `key: value`, unit
// metadata lines `Unit ns/op better=lower`, and one line per repetition:
//
//     BenchmarkChan/buffered/cap=64-2   1000000   52.3 ns/op   1.9 parallelism
//
// benchstat reads what `GoText.write` produces unchanged; `GoText.parse`
// reads our own output and Go's `go test -bench` output.

import Foundation

public enum GoText {
    /// Our name "chan/buffered/cap=64" as a Go benchmark name
    /// "BenchmarkChan/buffered/cap=64".
    public static func goName(_ name: String) -> String {
        guard let first = name.first else { return "Benchmark" }
        return "Benchmark" + first.uppercased() + name.dropFirst()
    }

    /// The reverse of `goName`, without the -N suffix.
    public static func ourName(_ goName: String) -> String {
        var s = Substring(goName)
        if s.hasPrefix("Benchmark") { s = s.dropFirst("Benchmark".count) }
        guard let first = s.first else { return "" }
        return first.lowercased() + s.dropFirst()
    }

    /// Formats a value the way Go does for benchmark lines: enough
    /// significant digits to be useful, no exponent for ordinary sizes.
    public static func formatValue(_ v: Double) -> String {
        if v == 0 { return "0" }
        if !v.isFinite { return v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf") }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        let mag = abs(v)
        let digits: Int
        if mag >= 100 { digits = 1 }
        else if mag >= 10 { digits = 2 }
        else if mag >= 1 { digits = 3 }
        else {
            // keep four significant digits below 1
            digits = min(12, 3 - Int(floor(log10(mag))))
        }
        var s = String(format: "%.\(digits)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// The whole file: context, units, then every repetition in order.
    public static func write(environment: RunEnvironment, results: [RepetitionResult]) -> String {
        var out = ""
        for (k, v) in environment.entries {
            let key = k.replacingOccurrences(of: " ", with: "-")
            out += "\(key): \(v.replacingOccurrences(of: "\n", with: " "))\n"
        }
        var seen = Set<String>()
        for r in results {
            for m in r.metrics where !seen.contains(m.unit) {
                seen.insert(m.unit)
                if m.better == .neither { continue }
                // benchfmt keeps unknown key=value pairs on Unit lines, so
                // kind= round-trips through benchstat-read files.
                out += "Unit \(m.unit) better=\(m.better.rawValue)\(m.exact ? " assume=exact" : "") kind=\(m.kind.rawValue)\n"
            }
        }
        let width = (results.map { goName($0.name).count + 1 + String($0.threads).count }.max() ?? 0)
        for r in results {
            let label = "\(goName(r.name))-\(r.threads)"
            var line = label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0)
            line += "\t\(r.n)"
            for m in r.metrics {
                line += "\t\(formatValue(m.value)) \(m.unit)"
            }
            out += line + "\n"
        }
        return out
    }

    /// What `parse` returns: the context lines seen and every benchmark
    /// line as a repetition (numbered per name in order of appearance).
    public struct Parsed: Sendable {
        public var environment: RunEnvironment
        public var results: [RepetitionResult]
    }

    /// Parses Go benchmark text. Lines that are neither configuration,
    /// Unit nor benchmark lines (PASS, ok, test output) are skipped, as
    /// benchfmt does. A benchmark line with a bad iteration count or an
    /// odd value/unit list is an error naming the line.
    public static func parse(_ text: String, impl: Implementation = .swift) throws -> Parsed {
        var env = RunEnvironment()
        var better: [String: Better] = [:]
        var exact: Set<String> = []
        var kinds: [String: MetricKind] = [:]
        var results: [RepetitionResult] = []
        var repetitions: [String: Int] = [:]
        for (lineNo, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields[0] == "Unit", fields.count >= 2 {
                for f in fields.dropFirst(2) {
                    if f == "better=lower" { better[fields[1]] = .lower }
                    if f == "better=higher" { better[fields[1]] = .higher }
                    if f == "assume=exact" { exact.insert(fields[1]) }
                    if f.hasPrefix("kind="), let k = MetricKind(rawValue: String(f.dropFirst(5))) { kinds[fields[1]] = k }
                }
                continue
            }
            if fields[0].hasPrefix("Benchmark") && fields[0].count > "Benchmark".count {
                // A line like "BenchmarkFoo" alone is Go's chatty header: skip.
                guard fields.count >= 2, let n = Int(fields[1]) else { continue }
                guard (fields.count - 2) % 2 == 0, fields.count >= 4 else {
                    throw FormatError("line \(lineNo + 1): benchmark line needs value/unit pairs: \(line)")
                }
                var full = fields[0]
                var threads = 1
                if let dash = full.lastIndex(of: "-"), let p = Int(full[full.index(after: dash)...]) {
                    threads = p
                    full = String(full[..<dash])
                }
                let name = ourName(full)
                var metrics: [Metric] = []
                var i = 2
                while i + 1 < fields.count {
                    guard let v = Double(fields[i]) else {
                        throw FormatError("line \(lineNo + 1): \"\(fields[i])\" is not a number")
                    }
                    let unit = fields[i + 1]
                    guard v.isFinite else {
                        throw FormatError("line \(lineNo + 1): \(unit) value \"\(fields[i])\" is not finite")
                    }
                    let b = better[unit] ?? defaultBetter(unit)
                    let kind = kinds[unit] ?? .legacy(unit: unit, better: b, exact: exact.contains(unit))
                    if kind == .time && v < 0 {
                        throw FormatError("line \(lineNo + 1): \(unit) is a time and cannot be negative (\(fields[i]))")
                    }
                    metrics.append(Metric(v, unit: unit, better: b, kind: kind))
                    i += 2
                }
                let rep = repetitions[name, default: 0]
                repetitions[name] = rep + 1
                results.append(RepetitionResult(name: name, impl: impl, threads: threads,
                                                repetition: rep, n: n, metrics: metrics))
                continue
            }
            // Configuration line: lower-case key without spaces, then ": ".
            if let colon = line.firstIndex(of: ":"), let f = line.first, f.isLowercase {
                let key = String(line[..<colon])
                if !key.contains(" ") {
                    env[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return Parsed(environment: env, results: results)
    }

    /// Direction of improvement for units seen without a Unit line, as
    /// benchstat assumes: throughput-like units are better higher.
    public static func defaultBetter(_ unit: String) -> Better {
        if conditionUnits.contains(unit) { return .neither }
        if unit.hasSuffix("/s") { return .higher }
        return .lower
    }

    /// Units that describe the conditions of a run rather than its result;
    /// written without a Unit line, read back as `.neither`.
    public static let conditionUnits: Set<String> = ["parallelism", "steal-pct", "invol-cs", "loadavg-1m", "cpu-mhz", "counter-scale", "profile-hz"]
}
