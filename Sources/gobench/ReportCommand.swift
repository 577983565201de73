import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit
import GoBenchSuites

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a run folder's report.html and print its table; with a base run folder, compare the two.",
        discussion: "Exit status: 0 no regression, 2 regression (with BASE_DIR), 1 bad input.")

    @Argument(help: "A run folder (results/runs/<timestamp>) holding results.csv and context.json.")
    var runDir: String

    @Argument(help: "A base run folder to compare with.")
    var baseDir: String?

    @OptionGroup var verdict: VerdictFlags

    @Option(name: .shortAndLong, help: "Write the HTML here instead of RUN_DIR/report.html.")
    var output: String?

    @Flag(name: .long, help: "Show every metric, flagged repetitions and complexity fits.")
    var verbose = false

    @OptionGroup var history: HistoryLocation

    @Flag(name: .long, help: "Leave the history store's series out of the report.")
    var noHistory = false

    func run() throws {
        let (report, path) = try reportingErrors { () throws -> (RunReport, String) in
            let run = try RunFolder.read(runDir)
            let layout = Suites.reportLayout()
            var report = RunReport(environment: run.environment, results: run.results, layout: layout,
                                   runDirectory: runDir, elapsedSeconds: RunFolder.elapsedSeconds(run.environment))
            if let baseDir {
                let base = try RunFolder.read(baseDir)
                var policy = try verdict.policy()
                var warnings: [String] = []
                if try Comparer.checkMachines(ResultSet(results: base.results, environment: base.environment, path: baseDir),
                                              ResultSet(results: run.results, environment: run.environment, path: runDir),
                                              crossMachine: verdict.crossMachine, warnings: &warnings) {
                    policy.crossMachine = true
                }
                var c = try Comparer.compare(base: base.results, new: run.results, policy: policy)
                c.warnings = warnings + c.warnings
                report.comparison = c
                report.baseResults = base.results
                report.differentialFlameGraphs = try RunFolder.writeDifferentialFlameGraphs(
                    run: runDir, base: baseDir, benchmarks: report.series.map(\.name))
            }
            RunFolder.findFlameGraphs(of: &report, in: runDir)
            if !noHistory { history.addHistory(to: &report, currentRun: nil) }
            let path = output ?? "\(runDir)/report.html"
            try AtomicFile.write(HTMLReport(report, baseName: baseDir ?? "base").render(), to: path)
            return (report, path)
        }
        var text = ConsoleReport(report, verbose: verbose, baselineName: baseDir).render()
        if output != nil { text += "report written to \(path)\n" }
        print(text, terminator: "")
        if report.comparison?.hasRegression == true { throw ExitCode(2) }
    }
}
