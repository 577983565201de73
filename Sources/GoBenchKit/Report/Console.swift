// The console report, what a person reads after `gobench all`: one line per
// benchmark, the way `go test -bench` and google/benchmark print, grouped by
// subsystem. A line holds the wall time per op with the half-width of its
// 95% confidence interval as a percentage, the benchmark's headline metrics
// (Benchmark.primaryMetrics), a ratio against the port for the lines shown
// beside it (its twins, another implementation's series of the same name),
// and flags. Everything else a benchmark reports (counters, run
// conditions) goes to `--verbose` and to the CSV. The report ends with a
// summary: how many benchmarks, how long, where the files are, and the
// verdict against a baseline when there is one.
//
// The progress line is shown only on a terminal (standard error), one line
// rewritten in place: benchmark k/N, round r/R and an ETA.

import Foundation

public enum Console {
    /// Whether standard error is a terminal (progress lines go there).
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Overwrites the progress line on standard error.
    public static func progress(_ text: String) {
        let clipped = text.count > 100 ? String(text.prefix(97)) + "..." : text
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }

    public static func clearProgress() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// Pads columns; the first `leftAligned` columns align left, numbers
    /// align right.
    public static func table(_ rows: [[String]], leftAligned: Int = 1) -> String {
        table(rows, left: Set(0..<leftAligned))
    }

    /// Pads columns; the columns in `left` align left, the others right.
    public static func table(_ rows: [[String]], left: Set<Int>) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            var line = ""
            for (i, c) in r.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += left.contains(i) ? c + pad : pad + c
                if i + 1 < r.count { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

// MARK: - Formatting numbers

extension Console {
    /// A duration in nanoseconds with three significant digits and a unit
    /// that keeps it between 1 and 1000: "0.321 ns", "15.2 ns", "2.40 µs".
    public static func duration(_ ns: Double) -> String {
        guard ns.isFinite else { return ns.isNaN ? "NaN" : "inf" }
        let units: [(Double, String)] = [(1e9, "s"), (1e6, "ms"), (1e3, "µs")]
        for (scale, unit) in units where abs(ns) >= scale {
            return significant(ns / scale) + " " + unit
        }
        return significant(ns) + " ns"
    }

    /// Three significant digits, no exponent for ordinary magnitudes.
    public static func significant(_ v: Double) -> String {
        if v == 0 { return "0" }
        guard v.isFinite else { return v.isNaN ? "NaN" : "inf" }
        let mag = abs(v)
        if mag >= 1000 { return String(format: "%.0f", v) }
        if mag < 0.001 { return String(format: "%.2e", v) }
        let digits = max(0, 2 - Int(floor(log10(mag))))
        return String(format: "%.\(digits)f", v)
    }

    /// A metric's median in its unit: durations for time metrics, three
    /// significant digits for the rest.
    public static func value(_ v: Double, kind: MetricKind) -> String {
        kind == .time ? duration(v) : significant(v)
    }

    /// The "±" column: the 95% interval's half-width as a percentage of
    /// the median, or "-" when it means nothing: a median of about zero
    /// (below a thousandth of the unit, where 105% is rounding, not
    /// spread) or too few repetitions for the interval to reach 95%.
    public static func spread(_ s: Summary) -> String {
        guard abs(s.median) >= 1e-3, s.intervalIsValid else { return "-" }
        return String(format: "%.1f%%", s.spreadPercent)
    }
}

// MARK: - The report

/// Renders a `RunReport` as the console table.
public struct ConsoleReport {
    public var report: RunReport
    public var verbose: Bool
    /// Shown in the summary when the run was compared with a baseline.
    public var baselineName: String?
    /// This machine's caches, for the complexity lines of --verbose.
    public var caches: [CacheLevel]

    public init(_ report: RunReport, verbose: Bool = false, baselineName: String? = nil,
                caches: [CacheLevel] = CacheLevel.current()) {
        self.report = report
        self.verbose = verbose
        self.baselineName = baselineName
        self.caches = caches
    }

    /// A 95% interval of the median needs at least 6 repetitions.
    static let repetitionsForInterval = 6

    public func render() -> String {
        header() + "\n" + body() + summary()
    }

    /// Three lines of context: machine, counters, revision and date.
    func header() -> String {
        let env = report.environment
        var out = ""
        if let fp = MachineFingerprint(context: env) {
            out += "machine: \(fp.summary) [\(fp.hash)]\n"
        } else {
            out += "machine: " + ["cpu", "cores", "kernel", "swift"].compactMap { k in env[k].map { "\(k) \($0)" } }
                .joined(separator: ", ") + "\n"
        }
        var line = [String]()
        if let c = env["counters"] { line.append("counters: \(c)") }
        if let d = env["drift"] { line.append("drift: \(d)") }
        if !line.isEmpty { out += line.joined(separator: "; ") + "\n" }
        line = []
        for k in ["git", "date", "suites", "go"] { if let v = env[k] { line.append("\(k) \(v)") } }
        if !line.isEmpty { out += line.joined(separator: ", ") + "\n" }
        if verbose {
            let shown: Set<String> = ["counters", "drift", "git", "date", "suites", "go", "goos", "goarch", "pkg", "elapsed"]
            let fingerprint = Set(MachineFingerprint(context: env)?.contextEntries.map(\.key) ?? [])
            for (k, v) in env.entries where !shown.contains(k) && !fingerprint.contains(k) { out += "\(k): \(v)\n" }
        }
        return out
    }

    /// The table: a header row, then per subsystem a "-- name" line and one
    /// line per benchmark (its twins and references indented below it).
    func body() -> String {
        var rows: [[String]] = [["benchmark", "time/op", "±", "headline", "ours/this", "flags"]]
        var verboseAfter: [Int: [String]] = [:]
        var groupStarts: [Int: String] = [:]
        let families = verbose ? report.scalingFamilies : []
        for group in report.groups {
            let count = group.rows.reduce(0) { $0 + 1 + $1.twins.count + $1.references.count }
            groupStarts[rows.count] = "-- \(group.subsystem) (\(count))"
            for row in group.rows {
                let ours = row.primary.time.map { Statistics.median($0.values) }
                rows.append(line(row.primary, indent: "", ours: nil))
                if verbose { verboseAfter[rows.count - 1] = details(row.primary) }
                for s in row.twins + row.references {
                    rows.append(line(s, indent: "  ", ours: ours))
                    if verbose { verboseAfter[rows.count - 1] = details(s) }
                }
            }
            if verbose {
                let fits = families.filter { $0.name.hasPrefix(group.subsystem + "/") }
                if !fits.isEmpty {
                    verboseAfter[rows.count - 1, default: []] += fits.map {
                        "    fit " + $0.describe(caches: caches, bytesPerElement: report.layout.bytesPerElement($0.name))
                    }
                }
            }
        }
        let lines = Console.table(rows, left: [0, 3, 5]).split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, l) in lines.enumerated() where i < rows.count {
            if let g = groupStarts[i] { out += g + "\n" }
            out += l + "\n"
            for d in verboseAfter[i] ?? [] { out += d + "\n" }
        }
        return out
    }

    /// One benchmark's cells.
    func line(_ s: SeriesSummary, indent: String, ours: Double?) -> [String] {
        let name = indent + s.key.description
        guard let time = s.time else {
            return [name, "-", "-", headline(s), "", flags(s)]
        }
        let t = Statistics.summarize(time.values)
        var ratio = ""
        if let o = ours, t.median > 0 {
            ratio = String(format: "%.2fx", o / t.median)
        }
        return [name, Console.duration(t.median), Console.spread(t), headline(s), ratio, flags(s)]
    }

    /// "spins/op 12.3, p99-wait-ns 1.20 ms".
    func headline(_ s: SeriesSummary) -> String {
        report.primaryUnits(of: s).compactMap { u in
            guard let sample = s.sample(u) else { return nil }
            return "\(u) \(Console.value(Statistics.median(sample.values), kind: sample.kind))"
        }.joined(separator: ", ")
    }

    /// "drift 2/6" (repetitions run under markedly different conditions),
    /// "reps 3<6" (too few for a 95% interval), "noisy" (interval wider
    /// than ±25%).
    func flags(_ s: SeriesSummary) -> String {
        var f: [String] = []
        if !s.flagged.isEmpty { f.append("drift \(s.flagged.count)/\(s.repetitions)") }
        if s.repetitions < ConsoleReport.repetitionsForInterval {
            f.append("reps \(s.repetitions)<\(ConsoleReport.repetitionsForInterval)")
        } else if let time = s.time {
            let t = Statistics.summarize(time.values)
            if abs(t.median) >= 1e-3 && t.spreadPercent > 25 { f.append("noisy") }
        }
        return f.joined(separator: " ")
    }

    /// --verbose: every other metric, one line each, and why repetitions
    /// were flagged.
    func details(_ s: SeriesSummary) -> [String] {
        let shown = Set(["ns/op"] + report.primaryUnits(of: s))
        var rows: [[String]] = []
        for sample in s.samples where !shown.contains(sample.unit) {
            let sum = Statistics.summarize(sample.values)
            rows.append(["      " + sample.unit, Console.value(sum.median, kind: sample.kind), Console.spread(sum),
                         sample.kind.rawValue])
        }
        var out = rows.isEmpty ? [] : Console.table(rows, leftAligned: 1).split(separator: "\n").map(String.init)
        for f in s.flagged { out.append("      flagged #\(f.repetition): \(f.why)") }
        return out
    }

    /// The closing lines: counts, time, files, the baseline verdict.
    func summary() -> String {
        var out = "\n"
        let reps = report.results.filter { $0.impl == .swift }.count
        var first = "\(report.benchmarkCount) benchmark\(report.benchmarkCount == 1 ? "" : "s"), \(reps) repetition\(reps == 1 ? "" : "s")"
        let references = report.series.count - report.benchmarkCount
        if references > 0 { first += " (and \(references) series of other implementations)" }
        if let e = report.elapsedSeconds { first += ", \(ConsoleReport.elapsed(e))" }
        out += first + "\n"
        let flagged = report.series.filter { !$0.flagged.isEmpty }.count
        let few = report.series.filter { $0.repetitions < ConsoleReport.repetitionsForInterval }.count
        if flagged > 0 || few > 0 {
            var legend: [String] = []
            if flagged > 0 {
                legend.append("drift k/R: k of R repetitions ran under markedly different conditions (\(flagged) benchmarks"
                              + (verbose ? ")" : "; --verbose says why)"))
            }
            if few > 0 { legend.append("reps k<6: too few repetitions for a 95% interval (\(few) benchmarks)") }
            out += "flags: " + legend.joined(separator: "; ") + "\n"
        }
        if !report.sideBySide.isEmpty, let s = report.sideBySide.first {
            out += "ours/this below 1: ours is faster. geomean ours/\(s.reference): " + s.geomeans.map {
                "\($0.subsystem) \(String(format: "%.2f", $0.ratio))"
            }.joined(separator: ", ") + "\n"
        }
        if let dir = report.runDirectory {
            out += "results: \(dir)/\n"
            out += "report:  \(dir)/report.html\n"
        }
        if let c = report.comparison { out += ConsoleReport.verdict(c, baseline: baselineName) }
        return out
    }

    /// "3m58s", "42.1s".
    static func elapsed(_ s: Double) -> String {
        s >= 60 ? "\(Int(s) / 60)m\(String(format: "%02d", Int(s) % 60))s" : String(format: "%.1fs", s)
    }

    /// The verdict against a baseline: counts, then each regression and
    /// improvement of a judged metric (at most 10 of each listed).
    public static func verdict(_ c: Comparison, baseline: String?) -> String {
        let reg = c.rows.filter { $0.verdict == .regression }.sorted { abs($0.deltaPercent) > abs($1.deltaPercent) }
        let imp = c.rows.filter { $0.verdict == .improvement }.sorted { abs($0.deltaPercent) > abs($1.deltaPercent) }
        let judged = c.rows.filter { $0.verdict != .info }.count
        var out = "against \(baseline ?? "the baseline"): \(reg.count) regression(s), \(imp.count) improvement(s), "
            + "\(judged - reg.count - imp.count) unchanged or inconclusive\n"
        func rowLine(_ r: ComparisonRow) -> String {
            let p = r.pValue.map { String(format: "p=%.3f", $0) } ?? "exact"
            return "  \(r.verdict == .regression ? "regression" : "improvement"): \(r.name) \(r.unit) "
                + String(format: "%+.1f%%", r.deltaPercent) + " (\(p), threshold \(String(format: "%.0f%%", r.threshold)))\n"
        }
        for r in reg.prefix(10) { out += rowLine(r) }
        if reg.count > 10 { out += "  ... and \(reg.count - 10) more regressions\n" }
        for r in imp.prefix(10) { out += rowLine(r) }
        if imp.count > 10 { out += "  ... and \(imp.count - 10) more improvements\n" }
        for w in c.warnings { out += "warning: \(w)\n" }
        out += reg.isEmpty ? "verdict: no regression (exit 0)\n" : "verdict: \(reg.count) regression(s) (exit 2)\n"
        return out
    }
}

// MARK: - Progress

/// Turns the runner's progress messages ("calibrating NAME", "round r/R
/// NAME", "round r/R: reference suite") into "[k/N] round r/R NAME, ETA
/// 2m10s". The ETA assumes every step of a round costs the same: the time
/// since the first counted round began, over the steps done, times the
/// steps left.
public final class ProgressLine: @unchecked Sendable {
    let names: [String: Int]
    let total: Int
    var roundsStarted: Date?
    var stepsDone = 0

    public init(benchmarks: [String]) {
        var names: [String: Int] = [:]
        for (i, n) in benchmarks.enumerated() where names[n] == nil { names[n] = i + 1 }
        self.names = names
        self.total = benchmarks.count
    }

    public func render(_ message: String, now: Date = Date()) -> String {
        if message.hasPrefix("calibrating ") {
            let name = String(message.dropFirst("calibrating ".count))
            return "[\(names[name].map(String.init) ?? "?")/\(total)] calibrating \(name)"
        }
        guard message.hasPrefix("round "), let slash = message.firstIndex(of: "/") else { return message }
        let r = Int(message[message.index(message.startIndex, offsetBy: 6)..<slash]) ?? 0
        let rest = message[message.index(after: slash)...]
        let rDigits = rest.prefix { $0.isNumber }
        let rounds = Int(rDigits) ?? 0
        let name = rest.dropFirst(rDigits.count).trimmingCharacters(in: .whitespaces)
        let k = names[name]
        if roundsStarted == nil { roundsStarted = now }
        let done = (r - 1) * total + (k.map { $0 - 1 } ?? total)
        let left = rounds * total - done
        var eta = ""
        if done > 0, let t0 = roundsStarted {
            let perStep = now.timeIntervalSince(t0) / Double(done)
            eta = ", ETA " + ConsoleReport.elapsed(perStep * Double(left)).replacingOccurrences(of: ".0s", with: "s")
        }
        if let k { return "[\(k)/\(total)] round \(r)/\(rounds) \(name)\(eta)" }
        return "round \(r)/\(rounds) \(name.hasPrefix(":") ? String(name.dropFirst()).trimmingCharacters(in: .whitespaces) : name)\(eta)"
    }
}
