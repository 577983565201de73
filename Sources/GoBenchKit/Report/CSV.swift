// Results as CSV: one row per benchmark x repetition x metric, RFC 4180
// quoting, a header row, nothing else in the file, so Python's csv module,
// pandas and spreadsheets read it as-is. The run context lives beside it in
// context.json.
//
//     name,impl,threads,repetition,n,metric,value,unit,better,exact,kind,process
//     chan/buffered/cap=64,swift,2,0,1000000,ns,52.3,ns/op,lower,false,time,1
//
// `process` is the worker process that measured the repetition (empty when
// it was measured in the parent). Reading checks every value: a NaN or an
// infinity anywhere, or a negative time, is an error naming the line.

import Foundation

public enum CSV {
    public static let header = ["name", "impl", "threads", "repetition", "n", "metric", "value", "unit", "better", "exact",
                                "kind", "process"]

    /// Quotes a field when it holds a comma, quote or line break.
    public static func field(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    /// Values keep full precision: %.17g round-trips a Double.
    public static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.17g", v)
    }

    public static func write(_ results: [RepetitionResult]) -> String {
        var out = row(header)
        for r in results {
            for m in r.metrics {
                out += row([r.name, r.impl.rawValue, String(r.threads), String(r.repetition), String(r.n),
                            m.name, number(m.value), m.unit, m.better.rawValue, m.exact ? "true" : "false",
                            m.kind.rawValue, r.process.map(String.init) ?? ""])
            }
        }
        return out
    }

    /// Splits CSV text into records (RFC 4180: quoted fields may hold
    /// commas, doubled quotes and line breaks). Errors name the line.
    public static func records(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var it = Array(text.unicodeScalars)[...]
        while let c = it.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" { it.removeFirst(); field.unicodeScalars.append("\"") }
                    else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty && !fieldWasQuoted else {
                    throw FormatError("CSV line \(line): stray quote inside a field")
                }
                inQuotes = true
                fieldWasQuoted = true
            case ",":
                record.append(field); field = ""; fieldWasQuoted = false
            case "\r":
                continue
            case "\n":
                record.append(field); field = ""; fieldWasQuoted = false
                records.append(record); record = []
                line += 1
            default:
                guard !fieldWasQuoted else {
                    throw FormatError("CSV line \(line): text after a closing quote")
                }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw FormatError("CSV line \(line): unterminated quoted field") }
        if !field.isEmpty || fieldWasQuoted || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records.filter { !($0.count == 1 && $0[0].isEmpty) }
    }

    /// Parses a results CSV written by `write` (columns found by header
    /// name; `impl`, `threads`, `metric`, `better` and `exact` optional).
    public static func parse(_ text: String) throws -> [RepetitionResult] {
        let recs = try records(text)
        guard let head = recs.first else { throw FormatError("CSV is empty (no header row)") }
        func col(_ name: String) -> Int? { head.firstIndex(of: name) }
        guard let cName = col("name"), let cRep = col("repetition"), let cN = col("n"),
              let cValue = col("value"), let cUnit = col("unit") else {
            throw FormatError("CSV header must have name, repetition, n, value and unit columns; got: \(head.joined(separator: ","))")
        }
        let cImpl = col("impl"), cThreads = col("threads"), cBetter = col("better"), cExact = col("exact")
        let cKind = col("kind"), cProcess = col("process")
        var order: [RepetitionKey] = []
        var byKey: [RepetitionKey: RepetitionResult] = [:]
        for (i, r) in recs.dropFirst().enumerated() {
            let lineNo = i + 2
            guard r.count == head.count else {
                throw FormatError("CSV line \(lineNo): \(r.count) fields, header has \(head.count)")
            }
            guard let rep = Int(r[cRep]), rep >= 0 else {
                throw FormatError("CSV line \(lineNo): repetition \"\(r[cRep])\" is not a non-negative integer")
            }
            guard let n = Int(r[cN]), n >= 0 else {
                throw FormatError("CSV line \(lineNo): n \"\(r[cN])\" is not a non-negative integer")
            }
            guard let value = Double(r[cValue]) else {
                throw FormatError("CSV line \(lineNo): value \"\(r[cValue])\" is not a number")
            }
            guard value.isFinite else {
                throw FormatError("CSV line \(lineNo): value \"\(r[cValue])\" is not finite")
            }
            let name = r[cName]
            guard !name.isEmpty else { throw FormatError("CSV line \(lineNo): empty benchmark name") }
            let unit = r[cUnit]
            guard !unit.isEmpty else { throw FormatError("CSV line \(lineNo): empty unit") }
            let impl = Implementation(cImpl.map { r[$0] } ?? "swift")
            var threads = 1
            if let c = cThreads {
                guard let t = Int(r[c]), t >= 1 else {
                    throw FormatError("CSV line \(lineNo): threads \"\(r[c])\" is not a positive integer")
                }
                threads = t
            }
            var better = GoText.defaultBetter(unit)
            if let c = cBetter {
                guard let b = Better(rawValue: r[c]) else {
                    throw FormatError("CSV line \(lineNo): better \"\(r[c])\" is not lower, higher or none")
                }
                better = b
            }
            let exact = cExact.map { r[$0] == "true" } ?? false
            var kind = MetricKind.legacy(unit: unit, better: better, exact: exact)
            if let c = cKind, !r[c].isEmpty {
                guard let k = MetricKind(rawValue: r[c]) else {
                    throw FormatError("CSV line \(lineNo): kind \"\(r[c])\" is not time, count, exact or condition")
                }
                kind = k
            }
            if kind == .time && value < 0 {
                throw FormatError("CSV line \(lineNo): \(unit) is a time and cannot be negative (\(r[cValue]))")
            }
            var process: Int?
            if let c = cProcess, !r[c].isEmpty {
                guard let p = Int(r[c]), p >= 0 else {
                    throw FormatError("CSV line \(lineNo): process \"\(r[c])\" is not a non-negative integer")
                }
                process = p
            }
            let key = RepetitionKey(series: SeriesKey(name: name, implementation: impl), repetition: rep)
            if byKey[key] == nil {
                order.append(key)
                byKey[key] = RepetitionResult(name: name, impl: impl, threads: threads, repetition: rep, n: n, metrics: [],
                                              process: process)
            }
            byKey[key]!.metrics.append(Metric(value, unit: unit, better: better, kind: kind))
        }
        return order.map { byKey[$0]! }
    }
}

/// Reads a results file in any format gobench writes or reads: CSV by its
/// header, else Go benchmark text. A missing or unreadable file, or one
/// with no results, is a one-line `FormatError`.
public func loadResults(path: String, foreign: Implementation = "external") throws -> [RepetitionResult] {
    try loadResultSet(path: path, foreign: foreign).results
}

/// Like `loadResults`, with the run context: Go text carries it in its
/// configuration lines; a CSV has it beside it, as `context.json` in the
/// same folder (a run folder's results.csv) or `<name>-context.json` /
/// `<name>.context.json` (a baseline such as baseline.csv).
///
/// Go text that gobench did not write (no `pkg: gobench` line) measured
/// another implementation: its rows get `foreign` (the CLI passes Go's).
public func loadResultSet(path: String, foreign: Implementation = "external") throws -> ResultSet {
    let text = try readResultsText(path: path)
    let firstLine = text.prefix { $0 != "\n" }
    if firstLine.hasPrefix("name,") || firstLine.contains(",repetition,") {
        let results = try parseResults(text, path: path, foreign: foreign)
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let stem = url.deletingPathExtension().lastPathComponent
        var env = RunEnvironment()
        for candidate in ["\(dir)/\(stem)-context.json", "\(dir)/\(stem).context.json", "\(dir)/context.json"]
        where FileManager.default.fileExists(atPath: candidate) {
            env = try RunEnvironment.load(json: candidate)
            break
        }
        return ResultSet(results: results, environment: env, path: path)
    }
    var parsed: GoText.Parsed
    do { parsed = try GoText.parse(text) } catch let e as FormatError { throw FormatError("\(path): \(e.description)") }
    return ResultSet(results: try parseResults(text, path: path, foreign: foreign), environment: parsed.environment, path: path)
}

private func readResultsText(path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw InputError("\(path): no such file")
    }
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw InputError("\(path): cannot read as UTF-8 text")
    }
}

private func parseResults(_ text: String, path: String, foreign: Implementation) throws -> [RepetitionResult] {
    let firstLine = text.prefix { $0 != "\n" }
    let results: [RepetitionResult]
    do {
        if firstLine.hasPrefix("name,") || firstLine.contains(",repetition,") {
            results = try CSV.parse(text)
        } else {
            // Our own Go-text files say `pkg: gobench`; anything else came
            // from another harness (`go test -bench`) and another runtime.
            var parsed = try GoText.parse(text)
            if parsed.environment["pkg"] != "gobench" {
                for i in parsed.results.indices { parsed.results[i].impl = foreign }
            }
            results = parsed.results
        }
    } catch let e as FormatError {
        throw FormatError("\(path): \(e.description)")
    }
    guard !results.isEmpty else {
        throw FormatError("\(path): no benchmark results (neither a gobench CSV nor Go benchmark text)")
    }
    return results
}
