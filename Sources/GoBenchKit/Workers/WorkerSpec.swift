// The child-process protocol. A parent (a run with --processes, `ab`, the
// callgrind instrument) starts the gobench binary as `gobench worker`,
// writes one WorkerSpec as JSON on its standard input and closes it; the
// worker answers with one JSON WorkerMessage per line on standard output
// and exits 0 after `finished`. Nothing is passed as flag strings, so a
// renamed CLI flag cannot break a child at run time: both sides share
// these types.
//
// A worker runs its items in order, each in this one process:
//   1. calibrate (when the item's bench time is a duration): Go's rule,
//      and the last calibration run is the warm-up; or, for a fixed n, one
//      uncounted warm-up run at n when `warmup` is set;
//   2. the counted repetitions listed in `repetitions`, each reported as
//      soon as it is measured (so a crash loses only what was not done).

import Foundation

public struct WorkerSpec: Sendable, Codable {
    public struct Item: Sendable, Codable, Equatable {
        public var benchmark: String
        /// A duration: calibrate n first; iterations: n is fixed.
        public var benchTime: BenchTime
        /// With a fixed n: one uncounted run at n before the counted ones.
        public var warmup: Bool
        /// Indices of the counted repetitions to run.
        public var repetitions: [Int]

        public init(benchmark: String, benchTime: BenchTime, warmup: Bool = true, repetitions: [Int]) {
            self.benchmark = benchmark
            self.benchTime = benchTime
            self.warmup = warmup
            self.repetitions = repetitions
        }
    }

    public var items: [Item]
    public var instruments: InstrumentSpec
    /// Recorded on every result as its `process`.
    public var process: Int
    /// Where instruments write their files (profiles, callgrind dumps).
    public var runDirectory: String?
    /// When set, the worker runs nothing: it answers `listed` with the
    /// names of its registered benchmarks that match this regex (another
    /// build's registry may differ from the parent's).
    public var listPattern: String?

    public init(items: [Item], instruments: InstrumentSpec, process: Int, runDirectory: String? = nil,
                listPattern: String? = nil) {
        self.items = items
        self.instruments = instruments
        self.process = process
        self.runDirectory = runDirectory
        self.listPattern = listPattern
    }
}

/// One line from a worker.
public enum WorkerMessage: Sendable, Codable, Equatable {
    /// About to run this item's benchmark (a crash after it names it).
    case started(benchmark: String)
    case calibrated(benchmark: String, n: Int)
    case result(RepetitionResult)
    case listed([String])
    /// Everything ran and the instruments wrote their files.
    case finished
}

/// The worker's side: runs a spec against a registry, writing messages.
public enum WorkerMain {
    /// Runs `spec` and writes each message through `emit` (standard output
    /// in `gobench worker`). Errors before the first item (an unknown
    /// benchmark, an instrument that cannot be built) are thrown.
    public static func run(_ spec: WorkerSpec, registry: Registry, emit: (WorkerMessage) -> Void) throws {
        if let pattern = spec.listPattern {
            emit(.listed(try registry.select(pattern).map(\.name)))
            emit(.finished)
            return
        }
        let benchmarks = try spec.items.map { item -> Benchmark in
            guard let b = registry[item.benchmark] else {
                throw SelectionError("worker: unknown benchmark \"\(item.benchmark)\"")
            }
            return b
        }
        let runner = Runner(instruments: InstrumentSpec.outerInstruments() + (try spec.instruments.makeInstruments()))
        let fault = ProcessInfo.processInfo.environment[faultVariable].flatMap(Fault.init)
        for (item, benchmark) in zip(spec.items, benchmarks) {
            emit(.started(benchmark: item.benchmark))
            if let f = fault, f.benchmark == item.benchmark { f.trigger() }
            let n: Int
            switch item.benchTime {
            case .nanoseconds:
                n = runner.calibrate(BenchmarkPlan(benchmark, benchTime: item.benchTime, count: 1))
                emit(.calibrated(benchmark: item.benchmark, n: n))
            case .iterations(let fixed):
                n = MeasurementPolicy.roundUp(fixed, toMultipleOf: benchmark.iterationQuantum)
                if item.warmup { runner.warmUp(benchmark, n: n) }
            }
            for rep in item.repetitions {
                var r = runner.runRepetition(benchmark, n: n, repetition: rep)
                r.process = spec.process
                emit(.result(r))
            }
        }
        for i in runner.instruments { try i.finish(runDirectory: spec.runDirectory) }
        emit(.finished)
    }

    /// The fault-injection hook for the tests of the parent's failure
    /// handling: GOBENCH_WORKER_FAULT=crash:NAME aborts the worker when it
    /// starts benchmark NAME, hang:NAME makes it sleep there forever, and
    /// garbage:NAME makes it write a line that is not a message. Nothing
    /// sets it but the tests.
    public static let faultVariable = "GOBENCH_WORKER_FAULT"

    struct Fault {
        var kind: String
        var benchmark: String
        init?(_ spec: String) {
            guard let colon = spec.firstIndex(of: ":") else { return nil }
            kind = String(spec[..<colon])
            benchmark = String(spec[spec.index(after: colon)...])
            guard ["crash", "hang", "garbage"].contains(kind) else { return nil }
        }
        func trigger() {
            switch kind {
            case "crash": abort()
            case "hang": while true { sleep(1000) }
            default: FileHandle.standardOutput.write(Data("not a message\n".utf8))
            }
        }
    }

    /// `gobench worker`: the spec from standard input, messages on standard
    /// output, one JSON object per line.
    public static func serve(registry: Registry) throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let spec: WorkerSpec
        do {
            spec = try JSONDecoder().decode(WorkerSpec.self, from: input)
        } catch {
            throw FormatError("worker: standard input is not a worker spec (\(error))")
        }
        let encoder = JSONEncoder()
        try run(spec, registry: registry) { message in
            guard var line = try? encoder.encode(message) else { return }
            line.append(0x0A)
            FileHandle.standardOutput.write(line)
        }
    }
}
