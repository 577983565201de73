// A run session: plans in, files and a report out. This is what `gobench
// run` and `gobench all` do once their arguments are parsed:
//   1. capture the run context (machine, toolchain, revision, instruments);
//   2. run the plans (calibration, then interleaved repetitions);
//   3. build the one results model (RunReport), compared with a baseline
//      when one is given;
//   4. write the run folder (RunFolderWriter: CSV, Go text, context,
//      then the instruments' files, then report.html);
//   5. print the report in the chosen format (ConsoleReport for tables).

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
    /// Counters, run conditions and complexity fits in the table.
    public var verbose = false
    /// Twins and headline metrics; the plans' primary metrics are added.
    public var layout = ReportLayout()
    /// Compare with these results in the same process.
    public var baseline: (name: String, results: [RepetitionResult], thresholds: Thresholds)?

    public init() {}
}

public struct SessionResult: Sendable {
    public var environment: RunEnvironment
    public var results: [RepetitionResult]
    /// The run folder written, if any.
    public var runDirectory: String?
    /// Set when a baseline was given.
    public var comparison: Comparison?
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
        // Drift first: its /proc reads then fall outside the counters'
        // window (probes start in order and stop in reverse).
        let instruments: [Instrument] = [DriftInstrument()] + instruments
        var env = RunEnvironment.capture(date: started)
        for i in instruments { for (k, v) in i.contextLines { env[k] = v } }
        for (k, v) in extraContext { env[k] = v }
        for (k, v) in reference?.context ?? [] { env[k] = v }

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
        let results: [RepetitionResult]
        do {
            results = try runner.run(plans)
        } catch {
            // Leave no empty run folder behind a failed run.
            if let dir = runDir { try? FileManager.default.removeItem(atPath: dir) }
            if options.showProgress { Console.clearProgress() }
            throw error
        }
        if options.showProgress { Console.clearProgress() }
        let elapsed = Date().timeIntervalSince(started)
        env["elapsed"] = String(format: "%.1fs", elapsed)

        var layout = options.layout
        for p in plans where layout.primaryMetrics[p.benchmark.name] == nil {
            layout.primaryMetrics[p.benchmark.name] = p.benchmark.primaryMetrics
        }
        var report = RunReport(environment: env, results: results, layout: layout, runDirectory: runDir,
                               elapsedSeconds: elapsed)
        if let dir = runDir { try RunFolderWriter.writeResults(report, to: dir) }
        for i in instruments { try i.finish(runDirectory: runDir) }
        if let base = options.baseline {
            report.comparison = try Comparer.compare(base: base.results, new: results, thresholds: base.thresholds)
            report.baseResults = base.results
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
        case .table: text = ConsoleReport(report, verbose: options.verbose, baselineName: options.baseline?.name).render()
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        if options.format != .table, let c = report.comparison {
            FileHandle.standardError.write(Data(ConsoleReport.verdict(c, baseline: options.baseline?.name).utf8))
        }
        return SessionResult(environment: env, results: results, runDirectory: runDir, comparison: report.comparison)
    }
}
