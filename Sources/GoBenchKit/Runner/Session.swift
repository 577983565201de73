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
    /// Run the repetitions in worker processes (Runner+Processes.swift);
    /// nil runs them in this process.
    public var workers: WorkerConfig?
    /// The order of the benchmarks within each round or pass.
    public var order: RunOrder = .given

    public init() {}
}

public struct SessionResult: Sendable {
    public var environment: RunEnvironment
    public var results: [RepetitionResult]
    /// The run folder written, if any.
    public var runDirectory: String?
    /// Benchmarks whose worker process failed, with the reason.
    public var failures: [String: String] = [:]
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

    public static func run(_ plans: [BenchmarkPlan], instruments: [Instrument] = [],
                           options: SessionOptions,
                           extraContext: [(key: String, value: String)] = [],
                           reference: ReferenceSuite? = nil) throws -> SessionResult {
        let started = Date()
        // Drift and peak memory first: their /proc reads then fall outside
        // the counters' window (probes start in order and stop in
        // reverse). Allocation counting last, innermost: nothing another
        // probe allocates in start or stop is counted.
        let instruments: [Instrument] = InstrumentSpec.outerInstruments()
            + instruments.filter { !($0 is AllocInstrument) } + instruments.filter { $0 is AllocInstrument }
        var env = RunEnvironment.capture(date: started)
        for i in instruments { for (k, v) in i.contextLines { env[k] = v } }
        for (k, v) in extraContext { env[k] = v }
        for (k, v) in reference?.contextLines ?? [] { env[k] = v }

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
        if let w = options.workers {
            env["processes"] = w.processes.map { "\($0) worker processes per benchmark" }
                ?? "one worker process per repetition"
        } else {
            env["processes"] = "none: every repetition in the gobench process"
        }
        if options.order != .given { env["order"] = "\(options.order)" }
        let results: [RepetitionResult]
        do {
            if var w = options.workers {
                w.runDirectory = runDir
                results = try runner.runInProcesses(plans, config: w, order: options.order)
            } else {
                results = try runner.run(options.order.apply(plans))
            }
        } catch {
            // Leave no empty run folder behind a failed run.
            if let dir = runDir { try? FileManager.default.removeItem(atPath: dir) }
            if options.showProgress { Console.clearProgress() }
            throw error
        }
        let referenceReport = reference?.report(results) ?? ReferenceReport()
        if options.showProgress { Console.clearProgress() }
        env["elapsed"] = String(format: "%.1fs", Date().timeIntervalSince(started))
        if options.workers == nil {
            for i in instruments { for (k, v) in i.closingContextLines { env[k] = v } }
        } else if let peak = results.compactMap({ $0.metric("peak-rss-MiB")?.value }).max() {
            // Each worker measured its own repetition: the run's peak is the
            // largest of theirs (the parent measures nothing).
            env["peak-rss"] = String(format: "%.1f MiB (largest repetition's VmHWM over the worker processes)", peak)
        }

        if let dir = runDir {
            try AtomicFile.write(CSV.write(results), to: "\(dir)/results.csv")
            try AtomicFile.write(GoText.write(environment: env, results: results), to: "\(dir)/results.txt")
            try AtomicFile.write(env.json(), to: "\(dir)/context.json")
            for f in referenceReport.files { try AtomicFile.write(f.contents, to: "\(dir)/\(f.name)") }
            if options.workers == nil { for i in instruments { try i.finish(runDirectory: dir) } }
        } else if options.workers == nil {
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
                + referenceReport.console
                + (runDir.map { "\nresults: \($0)/\n" } ?? "")
        }
        FileHandle.standardOutput.write(Data(report.utf8))
        for (name, why) in runner.failures.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("gobench: FAILED \(name): \(why)\n".utf8))
        }
        return SessionResult(environment: env, results: results, runDirectory: runDir, failures: runner.failures)
    }
}
