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
            _ = try Session.run(plans, instruments: try flags.instruments(), options: try flags.sessionOptions(),
                                extraContext: [("suites", manifests.map(\.name).joined(separator: ","))])
        }
    }
}
