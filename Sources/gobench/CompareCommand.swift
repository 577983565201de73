import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit
import GoBenchReference

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two result files (gobench CSV or Go benchmark text).",
        discussion: """
            Judges primary metrics only (ns/op, cpu-ns/op, instructions/op, allocs/op, B/op and what a \
            benchmark declares); conditions and counters are shown with --show-all and in --output. \
            Each judged row gets Yuen's trimmed-mean test over worker processes; the p-values are adjusted \
            together (--error-control, Benjamini-Hochberg by default). A regression needs an adjusted p below \
            --alpha and a change beyond the larger of the threshold and the smallest change the row could \
            detect. Timings from two machine fingerprints are refused unless --cross-machine. \
            allocs/op is exact: one more allocation per op is a regression. \
            Exit status: 0 no regression, 2 regression, 1 bad input.
            """)

    @Argument(help: "Base results (CSV or Go benchmark text), or history:REV / history:latest from the store.")
    var base: String

    @Argument(help: "New results (CSV or Go benchmark text).")
    var new: String

    @OptionGroup var verdict: VerdictFlags

    @Option(name: .shortAndLong, help: "Also write the comparison as CSV to this file.")
    var output: String?

    @OptionGroup var history: HistoryLocation

    func run() throws {
        let comparison = try reportingErrors { () throws -> Comparison in
            var policy = try verdict.policy()
            // A side may be history:REV or history:latest (this machine's runs in the store).
            let a = try historySet(base, otherSide: new) ?? loadResultSet(path: base, foreign: .go)
            let b = try historySet(new, otherSide: base) ?? loadResultSet(path: new, foreign: .go)
            var warnings: [String] = []
            if try Comparer.checkMachines(a, b, crossMachine: verdict.crossMachine, warnings: &warnings) {
                policy.crossMachine = true
            }
            var c = try Comparer.compare(base: a.results, new: b.results, policy: policy)
            c.warnings = warnings + c.warnings
            if let out = output { try AtomicFile.write(Comparer.csv(c), to: out) }
            return c
        }
        print(Comparer.table(comparison, showAll: verdict.showAll), terminator: "")
        let regressions = comparison.regressions
        // Both runs profiled (gobench all does by default): a differential
        // flame graph per regression.
        if !regressions.isEmpty, let bp = ProfileDiff.profilesBeside(base), let np = ProfileDiff.profilesBeside(new) {
            do {
                for s in try ProfileDiff.writeForRegressions(regressions.map(\.name), baseProfiles: bp, newProfiles: np, outDirectory: np + "/diff") {
                    print("differential flame graph: \(s)")
                }
            } catch { FileHandle.standardError.write(Data("gobench: warning: no differential flame graphs: \(error)\n".utf8)) }
        }
        try finishVerdict(regressions: regressions.map { ($0.key.series, $0.unit) }, warnings: comparison.warnings)
    }

    /// A `history:REV` side: the store's run for this machine, so it
    /// carries this machine's fingerprint.
    func historySet(_ spec: String, otherSide: String) throws -> ResultSet? {
        guard let results = try History.baseline(spec, otherSide: otherSide, location: history.history) else { return nil }
        return ResultSet(results: results, machine: MachineFingerprint.current(), path: spec)
    }
}
