// A run folder's results in the formats dashboards read:
//
//   bmf        Bencher Metric Format JSON (bencher.dev/docs/reference/
//              bencher-metric-format): {benchmark: {measure: {value,
//              lower_value, upper_value}}}. The value is the median of the
//              repetitions, the bounds the median's 95% confidence interval
//              (order statistics; the sample's range when too few
//              repetitions reach 95%). ns/op goes to Bencher's built-in
//              `latency` measure (nanoseconds); every other metric to a
//              measure named by its unit.
//   github-action-benchmark
//              the `customSmallerIsBetter` / `customBiggerIsBetter` input
//              of benchmark-action/github-action-benchmark: a JSON array of
//              {name, unit, value, range, extra}. One array holds one
//              direction (`better`): the action takes one tool per file.
//   benchfmt   Go benchmark text (golang.org/design/14313-benchmark-format)
//              with the run's context as configuration lines, which
//              benchstat reads.
// Run conditions (parallelism, steal-pct...) are no goal of a dashboard:
// the JSON formats leave them out; benchfmt keeps every metric, as
// results.txt does.

import Foundation
import GoBenchKit

public enum ExportFormat: String, CaseIterable, Sendable {
    case bmf
    case githubActionBenchmark = "github-action-benchmark"
    case benchfmt
}

public enum Export {
    /// A run folder's context (context.json, in its order) and results
    /// (results.csv).
    public static func loadRun(_ dir: String) throws -> (context: RunEnvironment, results: [RepetitionResult]) {
        let csv = "\(dir)/results.csv"
        guard FileManager.default.fileExists(atPath: csv) else {
            throw SelectionError("\(dir) is not a run folder (no results.csv)")
        }
        let results = try loadResults(path: csv)
        var context = RunEnvironment()
        if let text = try? String(contentsOfFile: "\(dir)/context.json", encoding: .utf8) {
            context = try parseContext(text, path: "\(dir)/context.json")
        }
        return (context, results)
    }

    /// context.json as RunEnvironment.json() writes it: one "key": "value"
    /// entry per line, read in order.
    static func parseContext(_ text: String, path: String) throws -> RunEnvironment {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else {
            throw FormatError("\(path): not a JSON object of strings")
        }
        var env = RunEnvironment()
        for line in text.split(separator: "\n") {
            var entry = line.trimmingCharacters(in: .whitespaces)
            if entry.hasSuffix(",") { entry.removeLast() }
            guard entry.hasPrefix("\""),
                  let pair = try? JSONSerialization.jsonObject(with: Data("{\(entry)}".utf8)) as? [String: String],
                  let (k, v) = pair.first else { continue }
            env[k] = v
        }
        // Anything the line scan missed (a file written by another tool).
        for k in object.keys.sorted() where env[k] == nil { env[k] = object[k] }
        return env
    }

    /// One measured quantity of a run: a series' metric and its sample.
    struct Row {
        var series: SeriesKey
        var metric: Metric
        var summary: Summary
        var repetitions: Int
        var n: Int
    }

    static func rows(_ results: [RepetitionResult]) -> [Row] {
        var order: [MetricKey] = []
        var values: [MetricKey: (Metric, [Double], Int)] = [:]
        for r in results {
            for m in r.metrics where m.kind != .condition {
                let key = MetricKey(series: r.series, unit: m.unit)
                if values[key] == nil { order.append(key); values[key] = (m, [], r.n) }
                values[key]!.1.append(m.value)
            }
        }
        return order.map { k in
            let (m, xs, n) = values[k]!
            return Row(series: k.series, metric: m, summary: Statistics.summarize(xs), repetitions: xs.count, n: n)
        }
    }

    /// Bencher's measure for a unit.
    public static func bencherMeasure(_ unit: String) -> String {
        unit == "ns/op" ? "latency" : unit
    }

    /// Bencher Metric Format JSON.
    public static func bmf(_ results: [RepetitionResult]) -> String {
        var benchmarks: [String] = []
        var measures: [String: [(String, Summary)]] = [:]
        for row in rows(results) {
            let name = row.series.description
            if measures[name] == nil { benchmarks.append(name); measures[name] = [] }
            measures[name]!.append((bencherMeasure(row.metric.unit), row.summary))
        }
        var out = "{\n"
        for (i, b) in benchmarks.enumerated() {
            out += "  \(jsonQuote(b)): {\n"
            let ms = measures[b]!
            for (j, (measure, s)) in ms.enumerated() {
                out += "    \(jsonQuote(measure)): {\"value\": \(jsonNumber(s.median)), "
                    + "\"lower_value\": \(jsonNumber(s.low)), \"upper_value\": \(jsonNumber(s.high))}"
                out += j + 1 < ms.count ? ",\n" : "\n"
            }
            out += i + 1 < benchmarks.count ? "  },\n" : "  }\n"
        }
        return out + "}\n"
    }

    /// github-action-benchmark's custom JSON: the metrics whose better
    /// direction is `better` (.lower: customSmallerIsBetter, .higher:
    /// customBiggerIsBetter).
    public static func githubActionBenchmark(_ results: [RepetitionResult], better: Better) -> String {
        let selected = rows(results).filter { $0.metric.better == better }
        var out = "[\n"
        for (i, row) in selected.enumerated() {
            let s = row.summary
            let half = (s.high - s.low) / 2
            let extra = "median of \(row.repetitions) repetitions (n=\(row.n)); "
                + "\(Int((s.confidence * 100).rounded()))% CI [\(GoText.formatValue(s.low)), \(GoText.formatValue(s.high))]"
                + (row.series.implementation == .swift ? "" : "; implementation \(row.series.implementation)")
            out += "  {\"name\": \(jsonQuote("\(row.series.description) \(row.metric.unit)")), "
                + "\"unit\": \(jsonQuote(row.metric.unit)), \"value\": \(jsonNumber(s.median)), "
                + "\"range\": \(jsonQuote("± \(GoText.formatValue(half))")), \"extra\": \(jsonQuote(extra))}"
            out += i + 1 < selected.count ? ",\n" : "\n"
        }
        return out + "]\n"
    }

    /// Go benchmark text with the run's context as configuration lines.
    /// Keys are made valid for benchfmt (lower case, no spaces).
    public static func benchfmt(context: RunEnvironment, results: [RepetitionResult]) -> String {
        var env = RunEnvironment()
        for (k, v) in context.entries {
            var key = k.lowercased().map { $0.isWhitespace ? "-" : $0 }.map(String.init).joined()
            if let first = key.first, !first.isLowercase { key = "x-" + key }
            env[key] = v
        }
        // A name is one field of a benchmark line: no spaces in it.
        let named = results.map { r -> RepetitionResult in
            var r = r
            r.name = String(r.name.map { $0.isWhitespace ? "_" : $0 })
            return r
        }
        return GoText.write(environment: env, results: named)
    }

    public static func export(_ format: ExportFormat, runDirectory: String, better: Better = .lower) throws -> String {
        let run = try loadRun(runDirectory)
        switch format {
        case .bmf: return bmf(run.results)
        case .githubActionBenchmark: return githubActionBenchmark(run.results, better: better)
        case .benchfmt: return benchfmt(context: run.context, results: run.results)
        }
    }
}

func jsonQuote(_ s: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
    let text = String(decoding: data, as: UTF8.self)
    return String(text.dropFirst().dropLast())
}

/// A JSON number that round-trips the double (JSON has no NaN or infinity;
/// results never hold them, CSV rejects them on reading).
func jsonNumber(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}
