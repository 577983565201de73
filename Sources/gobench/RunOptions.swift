// Flags shared by the commands that run benchmarks.

import ArgumentParser
import GoBenchKit
import GoBenchSuites

struct RunFlags: ParsableArguments {
    @Option(name: .long, help: "Time per repetition (100ms, 1s) or a fixed count (500x). Overrides the suite.")
    var benchtime: String?

    @Option(name: .long, help: "Repetitions per benchmark. Overrides the suite.")
    var count: Int?

    @Option(name: .long, help: "Output on stdout: table, go (benchstat-ready text) or csv.")
    var format: String = "table"

    @Option(name: .long, help: "Folder for per-run result folders.")
    var resultsDir: String = "results/runs"

    @Flag(name: .long, help: "Write no result files, only stdout.")
    var noSave = false

    @Flag(name: .long, help: "Show every metric (counters, run conditions), why repetitions were flagged, and complexity fits.")
    var verbose = false

    @Option(name: .long, help: "Compare with this results file (CSV or Go text) in the same run; exit 2 on a regression, as `compare`.")
    var baseline: String?

    @OptionGroup var counterFlags: CounterFlags
    @OptionGroup var profileFlags: ProfileFlags

    /// Counters first: they are opened before the sampler is armed and
    /// closed after it is disarmed (probes stop in reverse order).
    func instruments() throws -> [Instrument] {
        try counterFlags.instruments() + profileFlags.instruments()
    }

    /// `thresholds` judge a --baseline comparison (the suite's, for `all`).
    func sessionOptions(thresholds: Thresholds = Thresholds()) throws -> SessionOptions {
        var o = SessionOptions()
        o.verbose = verbose
        o.layout = Suites.reportLayout()
        if let path = baseline {
            o.baseline = (name: path, results: try loadResults(path: path), thresholds: thresholds)
        }
        guard let f = OutputFormat(rawValue: format) else {
            throw SelectionError("unknown format \"\(format)\" (want table, go or csv)")
        }
        o.format = f
        o.runsDirectory = noSave ? nil : resultsDir
        return o
    }

    func benchTimeOverride() throws -> BenchTime? {
        try benchtime.map { try BenchTime(parsing: $0) }
    }

    func countOverride() throws -> Int? {
        if let c = count, c < 1 { throw SelectionError("--count must be at least 1") }
        return count
    }

    /// Exit status 2 when a --baseline comparison found a regression (the
    /// verdict itself is in the report).
    func exitForVerdict(_ result: SessionResult) throws {
        if result.comparison?.hasRegression == true { throw ExitCode(2) }
    }
}
