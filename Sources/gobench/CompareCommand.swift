import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two result files (gobench CSV or Go benchmark text).",
        discussion: "Exit status: 0 no regression, 2 regression, 1 bad input.")

    @Argument(help: "Base results (CSV or Go benchmark text), or history:REV / history:latest from the store.")
    var base: String

    @Argument(help: "New results (CSV or Go benchmark text).")
    var new: String

    @Option(name: .long, help: "Default regression threshold in percent.")
    var threshold: Double?

    @Option(name: .long, help: "Suite manifest whose per-benchmark thresholds apply.")
    var suite: String?

    @Option(name: .long, help: "Significance level of the Mann-Whitney U test.")
    var alpha: Double = Comparer.defaultAlpha

    @Option(name: .shortAndLong, help: "Also write the comparison as CSV to this file.")
    var output: String?

    @OptionGroup var history: HistoryLocation

    func run() throws {
        let comparison = try reportingErrors { () throws -> Comparison in
            if let t = threshold, t < 0 || !t.isFinite { throw SelectionError("--threshold must be a non-negative number") }
            guard alpha > 0 && alpha < 1 else { throw SelectionError("--alpha must be between 0 and 1") }
            // A side may be history:REV or history:latest (this machine's runs in the store).
            let baseResults = try History.baseline(base, otherSide: new, location: history.history) ?? loadResults(path: base)
            let newResults = try History.baseline(new, otherSide: base, location: history.history) ?? loadResults(path: new)
            var thresholds = Thresholds(defaultPercent: threshold ?? 5)
            if let path = suite {
                let s = try Suite.load(path: path)
                thresholds = Thresholds(defaultPercent: threshold ?? s.threshold) { name in
                    s.entry(for: name)?.threshold
                }
            }
            let c = try Comparer.compare(base: baseResults, new: newResults, thresholds: thresholds, alpha: alpha)
            if let out = output { try AtomicFile.write(Comparer.csv(c), to: out) }
            return c
        }
        print(Comparer.table(comparison), terminator: "")
        for w in comparison.warnings {
            FileHandle.standardError.write(Data("gobench: warning: \(w)\n".utf8))
        }
        let regressions = comparison.rows.filter { $0.verdict == .regression }
        if !regressions.isEmpty {
            print("\(regressions.count) regression(s): " + regressions.map { "\($0.name) \($0.unit)" }.joined(separator: ", "))
            throw ExitCode(2)
        }
        print("no regression")
    }
}
