import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

struct AllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all", abstract: "Run every suite in suites/ (or the ones named with --suite).")

    @Option(name: .long, help: "Folder of suite manifests.")
    var suites: String = "suites"

    @Option(name: .long, help: "Run only this suite (by name); repeatable.")
    var suite: [String] = []

    @OptionGroup var flags: RunFlags

    @Flag(name: .long, help: "Also run Go 1.19's reference suite, one round after each of ours, and print the side-by-side table.")
    var withGo = false

    @OptionGroup var goFlags: GoFlags

    @OptionGroup var history: HistoryFlags

    func run() throws {
        try reportingErrors {
            var manifests = try Suite.loadAll(directory: suites)
            if !suite.isEmpty {
                for s in suite where !manifests.contains(where: { $0.name == s }) {
                    throw SelectionError("no suite named \"\(s)\" in \(suites)/")
                }
                manifests = manifests.filter { suite.contains($0.name) }
            }
            let registry = Suites.registry()
            var plans: [BenchmarkPlan] = []
            for m in manifests {
                for p in try m.plans(from: registry, benchTimeOverride: try flags.benchTimeOverride(),
                                     countOverride: try flags.countOverride())
                where !plans.contains(where: { $0.benchmark.name == p.benchmark.name }) {
                    plans.append(p)
                }
            }
            let instruments = try flags.instruments()
            var reference: Session.Reference?
            var goRef: GoReference?
            if withGo {
                let counters = instruments.lazy.compactMap { $0 as? CounterInstrument }.first
                let ref = try GoReference.prepare(moduleDirectory: goFlags.goSuite)
                goRef = ref
                // Go runs every benchmark of its suite at the suite's
                // default bench time; per-benchmark overrides are ours only.
                let benchTime = try flags.benchTimeOverride() ?? manifests[0].benchTime
                let names = plans.map { NSRegularExpression.escapedPattern(for: $0.benchmark.name) }
                let pattern = "^(" + names.joined(separator: "|") + ")$"
                reference = Session.Reference(rounds: plans.map(\.count).max() ?? 1,
                                              context: [("go", ref.version)] + GoReference.counterContext(counters)) { round in
                    try ref.runRound(round, pattern: pattern, benchTime: benchTime, counters: counters)
                }
            }
            defer { goRef?.cleanUp() }
            let session = try Session.run(plans, instruments: instruments, options: try flags.sessionOptions(),
                                          extraContext: [("suites", manifests.map(\.name).joined(separator: ","))],
                                          reference: reference)
            try history.record(session, suite: manifests.map(\.name).joined(separator: ","))
        }
    }
}
