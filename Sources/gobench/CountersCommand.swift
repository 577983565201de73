// `gobench counters`: the preflight. Lists each requested (or default)
// event as available, not supported, not permitted or unknown, with the
// reason and what to change; then counts a short busy loop through the
// real per-thread groups to show that the available ones produce numbers.

import ArgumentParser
import Foundation
import GoBenchKit

struct CountersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counters",
        abstract: "Check which perf counters this machine can count (a preflight for runs).")

    @Option(name: .long, help: "Events to check: \"default\" or a comma list of libpfm4 names.")
    var counters: String = "default"

    func run() throws {
        let names = try reportingErrors { () throws -> [String] in
            let n = try CounterSelection.parse(counters)
            if n.isEmpty { throw SelectionError("--counters none leaves nothing to check") }
            return n
        }
        let availability = CounterPreflight.run(names: names)
        print(CounterReport.text(availability, pmus: EventNames.detectedPMUs()), terminator: "")
        print("")
        print(CounterReport.selfTest(availability), terminator: "")
    }
}
