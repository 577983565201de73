// A run session: plans in, files and a report out. This is what `gobench
// run` and `gobench all` do once their arguments are parsed:
//   1. capture the run context (machine, toolchain, revision, instruments);
//   2. run the plans (calibration, then interleaved repetitions);
//   3. write results.csv, results.txt (Go text) and context.json into
//      results/runs/<timestamp>/, each through a temporary file and rename;
//   4. print the report in the chosen format.

import Foundation

public enum OutputFormat: String, CaseIterable, Sendable {
    case table
    case go
    case csv
}

public struct SessionOptions: Sendable {
    /// Parent of the per-run folders; nil writes no files.
    public var runsDirectory: String? = "results/runs"
    public var format: OutputFormat = .table
    public var showProgress: Bool = Console.stderrIsTerminal

    public init() {}
}

public struct SessionResult: Sendable {
    public var environment: RunEnvironment
    public var results: [RepetitionResult]
    /// The run folder written, if any.
    public var runDirectory: String?
}

public enum Session {
    /// A folder name for a run started at `date`: 20261129T063000Z, plus a
    /// counter if that exists already.
    public static func runFolderName(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }

    /// Go's reference suite, run one round after each of ours.
    public struct Reference {
        public var rounds: Int
        public var runRound: (Int) throws -> [RepetitionResult]
        public var context: [(key: String, value: String)]

        public init(rounds: Int, context: [(key: String, value: String)], runRound: @escaping (Int) throws -> [RepetitionResult]) {
            self.rounds = rounds
            self.runRound = runRound
            self.context = context
        }
    }

    public static func run(_ plans: [BenchmarkPlan], instruments: [Instrument] = [],
                           options: SessionOptions,
                           extraContext: [(key: String, value: String)] = [],
                           reference: Reference? = nil) throws -> SessionResult {
        let started = Date()
        // Drift and peak memory first: their /proc reads then fall outside
        // the counters' window (probes start in order and stop in
        // reverse). Allocation counting last, innermost: nothing another
        // probe allocates in start or stop is counted.
        let instruments: [Instrument] = [DriftInstrument(), PeakMemoryInstrument()]
            + instruments.filter { !($0 is AllocInstrument) } + instruments.filter { $0 is AllocInstrument }
        var env = RunEnvironment.capture(date: started)
        for i in instruments { for (k, v) in i.contextLines { env[k] = v } }
        for (k, v) in extraContext { env[k] = v }
        for (k, v) in reference?.context ?? [] { env[k] = v }

        // Create the run folder before measuring, so that a bad path fails
        // in a second rather than after minutes of benchmarks.
        var runDir: String?
        if let parent = options.runsDirectory {
            var dir = "\(parent)/\(runFolderName(started))"
            var k = 1
            while FileManager.default.fileExists(atPath: dir) {
                k += 1
                dir = "\(parent)/\(runFolderName(started))-\(k)"
            }
            try AtomicFile.makeDirectory(dir)
            runDir = dir
        }

        let runner = Runner(instruments: instruments)
        if options.showProgress {
            runner.progress = { Console.progress($0) }
        }
        if let reference {
            runner.minimumRounds = reference.rounds
            runner.afterRound = { round in
                round < reference.rounds ? try reference.runRound(round) : []
            }
        }
        let results: [RepetitionResult]
        do {
            results = try runner.run(plans)
        } catch {
            // Leave no empty run folder behind a failed run.
            if let dir = runDir { try? FileManager.default.removeItem(atPath: dir) }
            if options.showProgress { Console.clearProgress() }
            throw error
        }
        // Wall time per op, then CPU per op where both sides were counted
        // (task-clock: on a busy machine the steadier of the two).
        let sideBySide = results.contains { $0.impl == "go" } && results.contains { $0.impl != "go" }
            ? ["ns/op", "task-clock-ns/op"].map { SideBySide(results, unit: $0) }.filter { !$0.rows.isEmpty } : []
        // Allocations: a table of their own (Go's figure is often 0, so no
        // ratio); the CSV gets their rows too.
        let allocSide = sideBySide.isEmpty ? nil : AllocSideBySide(results)
        let allocTable = allocSide.map { $0.rows.isEmpty ? "" : "\nallocations ours beside Go (Go truncates to whole numbers)\n" + $0.table() } ?? ""
        let allocCSV = sideBySide.isEmpty ? "" : ["allocs/op", "B/op"].map { SideBySide(results, unit: $0).csv(header: false) }.joined()
        if options.showProgress { Console.clearProgress() }
        env["elapsed"] = String(format: "%.1fs", Date().timeIntervalSince(started))
        for i in instruments { for (k, v) in i.closingContextLines { env[k] = v } }

        if let dir = runDir {
            try AtomicFile.write(CSV.write(results), to: "\(dir)/results.csv")
            try AtomicFile.write(GoText.write(environment: env, results: results), to: "\(dir)/results.txt")
            try AtomicFile.write(env.json(), to: "\(dir)/context.json")
            if !sideBySide.isEmpty {
                try AtomicFile.write(SideBySide.csvHeader + sideBySide.map { $0.csv(header: false) }.joined() + allocCSV,
                                     to: "\(dir)/side-by-side.csv")
                try AtomicFile.write(sideBySide.map { $0.table() }.joined(separator: "\n") + allocTable,
                                     to: "\(dir)/side-by-side.txt")
            }
            for i in instruments { try i.finish(runDirectory: dir) }
        } else {
            for i in instruments { try i.finish(runDirectory: nil) }
        }

        let report: String
        switch options.format {
        case .go: report = GoText.write(environment: env, results: results)
        case .csv: report = CSV.write(results)
        case .table:
            var header = ""
            for key in ["cpu", "cores", "kernel", "git", "date"] {
                if let v = env[key] { header += "\(key): \(v)\n" }
            }
            for (k, v) in env.entries where !["goos", "goarch", "pkg", "cpu", "cores", "kernel", "git", "date", "host", "swift", "elapsed"].contains(k) {
                header += "\(k): \(v)\n"
            }
            report = header + "\n" + Console.summaryTable(results) + Console.flagReport(results)
                + (sideBySide.isEmpty ? "" : "\nours beside Go (ratio below 1: the port is faster)\n"
                    + sideBySide.map { $0.table() }.joined(separator: "\n") + allocTable)
                + (runDir.map { "\nresults: \($0)/\n" } ?? "")
        }
        FileHandle.standardOutput.write(Data(report.utf8))
        return SessionResult(environment: env, results: results, runDirectory: runDir)
    }
}
