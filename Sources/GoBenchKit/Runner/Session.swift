// A run session: plans in, files and a report out. This is what `gobench
// run` and `gobench all` do once their arguments are parsed:
//   1. capture the run context (machine, toolchain, revision, instruments);
//   2. run the plans: in worker processes (Runner+Processes.swift) or in
//      this process, calibration then interleaved repetitions, with the
//      reference suite's rounds between ours;
//   3. build the one results model (RunReport), compared with a baseline
//      when one is given (the same verdict policy and machine check as
//      `compare`);
//   4. write the run folder (RunFolderWriter: CSV, Go text, context, the
//      reference's files, then the instruments' files, then report.html);
//   5. print the report in the chosen format (ConsoleReport for tables).

import Foundation

public enum OutputFormat: String, CaseIterable, Sendable {
    case table
    case go
    case csv
}

public struct SessionOptions: Sendable {
    /// Results to compare the run with, in the same process.
    public struct Baseline: Sendable {
        public var name: String
        public var set: ResultSet
        public var policy: VerdictPolicy

        public init(name: String, set: ResultSet, policy: VerdictPolicy) {
            self.name = name
            self.set = set
            self.policy = policy
        }
    }

    /// Parent of the per-run folders; nil writes no files.
    public var runsDirectory: String? = "results/runs"
    public var format: OutputFormat = .table
    public var showProgress: Bool = Console.stderrIsTerminal
    /// Run the repetitions in worker processes (Runner+Processes.swift);
    /// nil runs them in this process.
    public var workers: WorkerConfig?
    /// The order of the benchmarks within each round or pass.
    public var order: RunOrder = .given
    /// Counters, run conditions and complexity fits in the table.
    public var verbose = false
    /// Twins and headline metrics; the plans' primary metrics are added.
    public var layout = ReportLayout()
    /// Compare with these results in the same process.
    public var baseline: Baseline?

    public init() {}
}

public struct SessionResult: Sendable {
    public var environment: RunEnvironment
    public var results: [RepetitionResult]
    /// The run folder written, if any.
    public var runDirectory: String?
    /// Benchmarks whose worker process failed, with the reason.
    public var failures: [String: String] = [:]
    /// Set when a baseline was given.
    public var comparison: Comparison?
    /// What report.html was made from, so that a caller that adds to the
    /// run folder afterwards (profiles, history) can write it again.
    public var report: RunReport?
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

        // Check the baseline's machine before measuring, so that a mismatch
        // fails in a second rather than after minutes of benchmarks.
        var baselineWarnings: [String] = []
        var baselinePolicy = options.baseline?.policy
        if let base = options.baseline {
            let here = ResultSet(results: [], environment: env, path: "this run")
            if try Comparer.checkMachines(base.set, here, crossMachine: base.policy.crossMachine, warnings: &baselineWarnings) {
                baselinePolicy?.crossMachine = true
            }
        }

        // Create the run folder before measuring, so that a bad path fails
        // in a second rather than after minutes of benchmarks.
        var runDir: String?
        if let parent = options.runsDirectory {
            runDir = try RunFolderWriter.create(parent: parent, started: started)
        }

        let runner = Runner(instruments: instruments)
        if options.showProgress {
            let line = ProgressLine(benchmarks: plans.map(\.benchmark.name))
            runner.progress = { Console.progress(line.render($0)) }
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
            var workers = options.workers
            workers?.runDirectory = runDir
            results = try runner.run(plans, workers: workers, order: options.order)
        } catch {
            // Leave no empty run folder behind a failed run.
            if let dir = runDir { try? FileManager.default.removeItem(atPath: dir) }
            if options.showProgress { Console.clearProgress() }
            throw error
        }
        if options.showProgress { Console.clearProgress() }
        let elapsed = Date().timeIntervalSince(started)
        env["elapsed"] = String(format: "%.1fs", elapsed)
        if options.workers == nil {
            for i in instruments { for (k, v) in i.closingContextLines { env[k] = v } }
        } else if let peak = results.compactMap({ $0.metric("peak-rss-MiB")?.value }).max() {
            // Each worker measured its own repetition: the run's peak is the
            // largest of theirs (the parent measures nothing).
            env["peak-rss"] = String(format: "%.1f MiB (largest repetition's VmHWM over the worker processes)", peak)
        }
        let referenceReport = reference?.report(results) ?? ReferenceReport()

        var layout = options.layout
        for p in plans where layout.primaryMetrics[p.benchmark.name] == nil {
            layout.primaryMetrics[p.benchmark.name] = p.benchmark.primaryMetrics
        }
        var report = RunReport(environment: env, results: results, layout: layout, runDirectory: runDir,
                               elapsedSeconds: elapsed)
        if let dir = runDir {
            try RunFolderWriter.writeResults(report, to: dir)
            for f in referenceReport.files { try AtomicFile.write(f.contents, to: "\(dir)/\(f.name)") }
        }
        // In worker mode the workers' instruments wrote their own files.
        if options.workers == nil { for i in instruments { try i.finish(runDirectory: runDir) } }
        if let base = options.baseline, let policy = baselinePolicy {
            var c = try Comparer.compare(base: base.set.results, new: results, policy: policy)
            c.warnings = baselineWarnings + c.warnings
            report.comparison = c
            report.baseResults = base.set.results
            // A baseline inside a run folder may have profiles beside it.
            if let dir = runDir {
                let baseDir = (base.name as NSString).deletingLastPathComponent
                report.differentialFlameGraphs = try RunFolder.writeDifferentialFlameGraphs(
                    run: dir, base: baseDir.isEmpty ? "." : baseDir, benchmarks: report.series.map(\.name))
            }
        }
        if let dir = runDir { try RunFolderWriter.writeHTML(report, to: dir) }

        let text: String
        switch options.format {
        case .go: text = GoText.write(environment: env, results: results)
        case .csv: text = CSV.write(results)
        case .table:
            text = ConsoleReport(report, verbose: options.verbose, baselineName: options.baseline?.name).render()
                + referenceReport.console
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        if options.format != .table, let c = report.comparison {
            FileHandle.standardError.write(Data(ConsoleReport.verdict(c, baseline: options.baseline?.name).utf8))
        }
        for (name, why) in runner.failures.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("gobench: FAILED \(name): \(why)\n".utf8))
        }
        return SessionResult(environment: env, results: results, runDirectory: runDir, failures: runner.failures,
                             comparison: report.comparison, report: report)
    }
}
