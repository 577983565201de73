import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchReference
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

    @Flag(name: .long, help: "Skip the extra profiled repetition per benchmark that writes profiles/ (--profile samples every repetition instead).")
    var noProfile = false

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
            var reference: GoReferenceSuite?
            if withGo {
                let counters = instruments.lazy.compactMap { $0 as? CounterInstrument }.first
                let ref = try GoReference.prepare(moduleDirectory: goFlags.goSuite)
                // Go runs every benchmark of its suite at the suite's
                // default bench time; per-benchmark overrides are ours only.
                let benchTime = try flags.benchTimeOverride() ?? manifests[0].benchTime
                let names = plans.map { NSRegularExpression.escapedPattern(for: $0.benchmark.name) }
                reference = GoReferenceSuite(reference: ref, rounds: plans.map(\.count).max() ?? 1,
                                             pattern: "^(" + names.joined(separator: "|") + ")$",
                                             benchTime: benchTime, counters: counters)
            }
            defer { reference?.reference.cleanUp() }
            if noProfile && flags.profileFlags.profile { throw SelectionError("--profile and --no-profile contradict each other") }
            // A --baseline comparison is judged by the (first) suite's policy.
            let policy = VerdictPolicy(suite: manifests.first, registry: registry)
            let session = try Session.run(plans, instruments: instruments, options: try flags.sessionOptions(policy: policy),
                                          extraContext: [("suites", manifests.map(\.name).joined(separator: ","))],
                                          reference: reference)
            // Flame graphs by default: one untimed profiled repetition each,
            // in this process (a profile, not a timing).
            if !noProfile && !flags.profileFlags.profile, let dir = session.runDirectory {
                try ProfiledPass.run(plans, results: session.results, config: try flags.profileFlags.config(),
                                     granularity: try flags.profileFlags.granularityValue(), runDirectory: dir)
            }
            // Go's -cpuprofile beside ours, one run per Go twin.
            if !noProfile, let ref = reference?.reference, let dir = session.runDirectory {
                var names: [String] = []
                for r in session.results where r.impl == .go && !names.contains(r.name) { names.append(r.name) }
                try ref.writeProfiles(names: names, benchTime: try flags.benchTimeOverride() ?? manifests[0].benchTime,
                                      profilesDirectory: dir + "/profiles")
            }
            try history.recordAndReport(session, suite: manifests.map(\.name).joined(separator: ","))
            try flags.exitForVerdict(session)
        }
    }
}
