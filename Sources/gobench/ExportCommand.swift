import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run folder's results for a dashboard: Bencher BMF, github-action-benchmark, or Go benchmark text.",
        discussion: """
            bmf: {benchmark: {measure: {value, lower_value, upper_value}}}, the median and its 95% CI \
            (ns/op as Bencher's latency measure). github-action-benchmark: the custom JSON array of one \
            direction (--better lower for customSmallerIsBetter, higher for customBiggerIsBetter). \
            benchfmt: Go benchmark text with the run's context as configuration lines (benchstat reads it).
            """)

    @Option(name: .long, help: "bmf, github-action-benchmark or benchfmt.")
    var format: String

    @Argument(help: "A run folder (results/runs/<timestamp>).")
    var runDirectory: String

    @Option(name: .long, help: "github-action-benchmark: which direction's metrics (lower or higher).")
    var better: String = "lower"

    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.")
    var output: String?

    func run() throws {
        try reportingErrors { () throws -> Void in
            guard let f = ExportFormat(rawValue: format) else {
                throw SelectionError("unknown export format \"\(format)\" (want "
                                     + ExportFormat.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            guard let b = Better(rawValue: better), b != .neither else {
                throw SelectionError("--better wants lower or higher, got \"\(better)\"")
            }
            let text = try Export.export(f, runDirectory: runDirectory, better: b)
            if let out = output {
                try AtomicFile.write(text, to: out)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
