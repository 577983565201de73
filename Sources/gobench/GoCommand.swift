import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchReference

/// Flags for running Go's reference suite (suites/go).
struct GoFlags: ParsableArguments {
    @Option(name: .long, help: "Folder of the Go reference module.")
    var goSuite: String = "suites/go"
}

struct GoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "go",
        abstract: "Run Go 1.19's reference benchmarks (suites/go) and store them like ours (impl=go).")

    @Argument(help: "Unanchored regular expression over benchmark names (ours, e.g. ^mutex/).")
    var pattern: String = "."

    @OptionGroup var goFlags: GoFlags
    @OptionGroup var flags: RunFlags

    func run() throws {
        try reportingErrors {
            let reference = try GoReference.prepare(moduleDirectory: goFlags.goSuite)
            defer { reference.cleanUp() }
            let benchTime = try flags.benchTimeOverride() ?? .nanoseconds(1_000_000_000)
            let count = try flags.countOverride() ?? 1
            // The perf counters follow Go's test process; callgrind's
            // instruction counts are for our benchmarks only.
            // Go's rows carry Go's own allocation counts (b.ReportAllocs).
            let instruments = try flags.instruments().filter { !($0 is AllocInstrument) }
            guard instruments.allSatisfy({ $0 is CounterInstrument }) else {
                throw SelectionError("--instructions and --profile apply to gobench's own benchmarks, not to Go's")
            }
            let counters = instruments.lazy.compactMap { $0 as? CounterInstrument }.first
            _ = try Session.run([], instruments: instruments, options: try flags.sessionOptions(),
                                reference: GoReferenceSuite(reference: reference, rounds: count, pattern: pattern,
                                                            benchTime: benchTime, counters: counters, requireMatches: true))
        }
    }
}
