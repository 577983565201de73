// Flags shared by the commands that run benchmarks, and their defaults in
// one place.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchReference
import GoBenchSuites

extension OutputFormat: ExpressibleByArgument {}
extension Unwinder: ExpressibleByArgument {}
extension SampleSource: ExpressibleByArgument {}
extension InstructionMode: ExpressibleByArgument {}

/// `--processes`: a count, or `auto` (one worker process per repetition).
enum ProcessCount: ExpressibleByArgument, Equatable {
    case auto
    case count(Int)

    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let n = Int(argument), n >= 0 else { return nil }
        self = .count(n)
    }
}

/// `--order given|reverse|shuffle|shuffle:SEED`.
struct OrderArgument: ExpressibleByArgument {
    var order: RunOrder
    init?(argument: String) {
        switch argument {
        case "given": order = .given
        case "reverse": order = .reverse
        case "shuffle": order = .shuffle(seed: UInt64.random(in: 0..<UInt64.max))
        default:
            guard argument.hasPrefix("shuffle:"), let seed = UInt64(argument.dropFirst("shuffle:".count)) else { return nil }
            order = .shuffle(seed: seed)
        }
    }
    init(_ order: RunOrder) { self.order = order }
    var defaultValueDescription: String { "given" }
}

struct RunFlags: ParsableArguments {
    @Option(name: .long, help: "Time per repetition (100ms, 1s) or a fixed count (500x). Overrides the suite.")
    var benchtime: String?

    @Option(name: .long, help: "Repetitions per benchmark. Overrides the suite.")
    var count: Int?

    @Option(name: .long, help: "Output on stdout: table, go (benchstat-ready text) or csv.")
    var format: OutputFormat = .table

    @Option(name: .long, help: "Folder for per-run result folders.")
    var resultsDir: String = "results/runs"

    @Flag(name: .long, help: "Write no result files, only stdout.")
    var noSave = false

    @Option(name: .long, help: ArgumentHelp(
        "Worker processes per benchmark: auto (one fresh process per repetition, so every repetition is an "
            + "independent unit and no benchmark sees another's heap or page state), a number K (repetition r "
            + "runs in process r % K; the comparisons average each process's repetitions into one unit), or 0 "
            + "(every repetition in this process, the old behaviour). --profile runs in this process.",
        valueName: "auto|K"))
    var processes: ProcessCount = .auto

    @Option(name: .long, help: "Order of the benchmarks in each round: given, reverse, shuffle or shuffle:SEED.")
    var order: OrderArgument = OrderArgument(.given)

    @Option(name: .long, help: "Seconds a worker process may take beyond its benchmark's own time before it is killed.")
    var workerTimeout: Double = 300

    @Flag(name: .long, help: "Show every metric (counters, run conditions), why repetitions were flagged, and complexity fits.")
    var verbose = false

    @Option(name: .long, help: "Compare with this results file (CSV or Go text) in the same run; exit 2 on a regression, as `compare`.")
    var baseline: String?

    @OptionGroup var counterFlags: CounterFlags
    @OptionGroup var profileFlags: ProfileFlags

    /// What to measure besides time.
    func instrumentSpec() throws -> InstrumentSpec {
        var spec = try counterFlags.spec()
        if profileFlags.profile { spec.profile = ProfileSpec(try profileFlags.config()) }
        return spec
    }

    /// Counters first: they are opened before the sampler is armed and
    /// closed after it is disarmed (probes stop in reverse order).
    func instruments() throws -> [Instrument] {
        try instrumentSpec().makeInstruments()
    }

    /// `policy` judges a --baseline comparison (the suite's, for `all`).
    func sessionOptions(policy: VerdictPolicy = VerdictPolicy()) throws -> SessionOptions {
        var o = SessionOptions()
        o.format = format
        o.verbose = verbose
        o.layout = Suites.reportLayout()
        if let path = baseline {
            o.baseline = SessionOptions.Baseline(name: path, set: try loadResultSet(path: path, foreign: .go), policy: policy)
        }
        o.runsDirectory = noSave ? nil : resultsDir
        o.order = order.order
        guard workerTimeout > 0, workerTimeout.isFinite else { throw SelectionError("--worker-timeout must be positive") }
        let spec = try instrumentSpec()
        switch processes {
        case .count(0): break
        case _ where spec.profile != nil: break  // one process gathers every sample
        case .auto:
            o.workers = WorkerConfig(processes: nil, instruments: spec)
        case .count(let k):
            o.workers = WorkerConfig(processes: k, instruments: spec)
        }
        o.workers?.timeoutSeconds = workerTimeout
        return o
    }

    func benchTimeOverride() throws -> BenchTime? {
        try benchtime.map { try BenchTime(parsing: $0) }
    }

    func countOverride() throws -> Int? {
        if let c = count, c < 1 { throw SelectionError("--count must be at least 1") }
        return count
    }

    /// Exit status 1 when a worker failed, else 2 when a --baseline
    /// comparison found a regression (the verdict itself is in the report).
    func exitForVerdict(_ result: SessionResult) throws {
        try exitOnFailures(result)
        if result.comparison?.hasRegression == true { throw ExitCode(2) }
    }
}

/// `gobench worker`: the child side of the worker protocol (WorkerSpec as
/// JSON on standard input, one WorkerMessage per line on standard output).
/// Hidden: only gobench itself starts it.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker spec from standard input (internal).",
        shouldDisplay: false)

    func run() throws {
        try reportingErrors { try WorkerMain.serve(registry: Suites.registry()) }
    }
}
