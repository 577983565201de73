import ArgumentParser
import Foundation
import GoBenchKit

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
            _ = try Session.run([], options: try flags.sessionOptions(), reference: Session.Reference(
                rounds: count, context: [("go", reference.version)]) { round in
                    let r = try reference.runRound(round, pattern: pattern, benchTime: benchTime)
                    if r.isEmpty { throw SelectionError("no Go reference benchmark matches \"\(pattern)\"") }
                    return r
                })
        }
    }
}
