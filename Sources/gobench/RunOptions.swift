// Flags shared by the commands that run benchmarks.

import ArgumentParser
import GoBenchKit

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

    @OptionGroup var counterFlags: CounterFlags
    @OptionGroup var profileFlags: ProfileFlags

    /// Counters first: they are opened before the sampler is armed and
    /// closed after it is disarmed (probes stop in reverse order).
    func instruments() throws -> [Instrument] {
        try counterFlags.instruments() + profileFlags.instruments()
    }

    func sessionOptions() throws -> SessionOptions {
        var o = SessionOptions()
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
}
