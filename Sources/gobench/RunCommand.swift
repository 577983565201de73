import ArgumentParser
import GoBenchKit
import GoBenchSuites

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the benchmarks matching a regex, like go test -bench.")

    @Argument(help: "Unanchored regular expression over benchmark names.")
    var pattern: String

    @OptionGroup var flags: RunFlags

    @OptionGroup var history: HistoryFlags

    func run() throws {
        try reportingErrors {
            let selected = try Suites.registry().select(pattern)
            guard !selected.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\" (see `gobench list`)") }
            let benchTime = try flags.benchTimeOverride() ?? .nanoseconds(1_000_000_000)
            let count = try flags.countOverride() ?? 1
            let plans = selected.map { BenchmarkPlan($0, benchTime: benchTime, count: count) }
            let result = try Session.run(plans, instruments: try flags.instruments(), options: try flags.sessionOptions())
            try history.recordAndReport(result, suite: "run \(pattern)")
            try flags.exitForVerdict(result)
        }
    }
}
