import ArgumentParser
import Foundation
import GoBenchKit

struct ABCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Paired A/B of two gobench builds (git revisions or binaries), run alternately round by round.",
        discussion: "Exit status: 0 no regression, 2 regression, 1 bad input.")

    @Option(name: .long, help: "Base: a git revision or a path to a gobench binary.")
    var base: String

    @Option(name: .long, help: "Candidate: a git revision or a path to a gobench binary.")
    var candidate: String

    @Argument(help: "Unanchored regular expression over benchmark names.")
    var pattern: String = "."

    @Option(name: .long, help: "Run the benchmarks of this suite manifest instead of a pattern (its thresholds apply too).")
    var benchmarksOf: String?

    @Option(name: .long, help: "Time per repetition for calibrating n (e.g. 100ms) or a fixed n (500x).")
    var benchtime: String = "100ms"

    @Option(name: .long, help: "Rounds (each runs base then candidate once).")
    var count: Int = 10

    @OptionGroup var verdict: VerdictFlags

    @Option(name: .long, help: "Environment for the candidate only, NAME=VALUE (repeatable).")
    var candidateEnv: [String] = []

    @Option(name: .long, help: "Folder for builds of git revisions.")
    var scratch: String = ".build-ab"

    @Option(name: .shortAndLong, help: "Also write the comparison as CSV to this file.")
    var output: String?

    @Flag(name: .long, help: "After the rounds, profile both builds alike; a differential flame graph per regression (results/ab-profiles/).")
    var profile = false

    func run() throws {
        let comparison = try reportingErrors { () throws -> PairedComparison in
            guard count >= 1 else { throw SelectionError("--count must be at least 1") }
            let bt = try BenchTime(parsing: benchtime)
            var pattern = self.pattern
            if let path = benchmarksOf { pattern = try Suite.load(path: path).selectionPattern }
            var env: [String: String] = [:]
            for e in candidateEnv {
                guard let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                    throw SelectionError("--candidate-env wants NAME=VALUE, got \"\(e)\"")
                }
                env[String(e[..<eq])] = String(e[e.index(after: eq)...])
            }
            let log: (String) -> Void = { FileHandle.standardError.write(Data("gobench ab: \($0)\n".utf8)) }
            let repo = FileManager.default.currentDirectoryPath
            let baseBinary = try ABBuild.resolve(base, repository: repo, scratchRoot: scratch, log: log)
            let candBinary = try ABBuild.resolve(candidate, repository: repo, scratchRoot: scratch, log: log)
            var runner = ABRunner(base: ABSide(label: "base", binary: baseBinary),
                                  candidate: ABSide(label: "candidate", binary: candBinary, environment: env),
                                  pattern: pattern, benchTime: bt, rounds: count)
            runner.log = log
            if Console.stderrIsTerminal { runner.progress = { Console.progress($0) } }
            let outcome = try runner.run()
            if Console.stderrIsTerminal { Console.clearProgress() }
            let c = try PairedComparison(base: outcome.base, candidate: outcome.candidate, policy: try verdict.policy(defaultSuite: benchmarksOf))
            if let out = output { try AtomicFile.write(c.csv(), to: out) }
            if profile {
                let p = try ABProfiles.run(base: runner.base, candidate: runner.candidate, pattern: pattern, benchTime: bt,
                                           regressions: c.rows.filter { $0.verdict == .regression }.map(\.name),
                                           directory: "results/ab-profiles/\(Session.runFolderName(Date()))", log: log)
                log("profiles: \(p.baseProfiles) \(p.candidateProfiles)" + p.diffs.map { "\n  differential: \($0)" }.joined())
            }
            return c
        }
        print(comparison.table(showAll: verdict.showAll), terminator: "")
        try finishVerdict(regressions: comparison.regressions.map { ($0.key.series, $0.unit) }, warnings: comparison.warnings)
    }
}
