// `gobench profile <regex>`: `gobench run <regex> --profile`, then the
// top functions of each profile on stdout.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Run the benchmarks matching a regex with the stack sampler attached.")

    @Argument(help: "Unanchored regular expression over benchmark names.")
    var pattern: String

    @Option(name: .long, help: "Functions to list per profile (by self samples).")
    var top: Int = 10

    @OptionGroup var flags: RunFlags

    func run() throws {
        try reportingErrors {
            let selected = try Suites.registry().select(pattern)
            guard !selected.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\" (see `gobench list`)") }
            let benchTime = try flags.benchTimeOverride() ?? .nanoseconds(1_000_000_000)
            let count = try flags.countOverride() ?? 1
            let plans = selected.map { BenchmarkPlan($0, benchTime: benchTime, count: count) }
            // --profile is implied here; counters (if asked) come first.
            let profiler = Profiler(config: try flags.profileFlags.config())
            let instruments = try flags.counterFlags.spec().makeInstruments() + [profiler as Instrument]
            // The profiler gathers every sample in this process.
            var options = try flags.sessionOptions()
            options.workers = nil
            let result = try Session.run(plans, instruments: instruments, options: options)
            try exitOnFailures(result)
            guard top > 0 else { return }
            var text = ""
            for p in profiler.profiles() {
                let total = max(p.folded.total, 1)
                text += "\n\(p.benchmark): top \(top) by self samples of \(p.folded.total)\n"
                for (name, n) in p.folded.topLeaves(top) {
                    text += String(format: "%8d %6.2f%%  %@\n", n, Double(n) * 100 / Double(total), name)
                }
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
