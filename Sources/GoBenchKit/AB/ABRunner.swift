// `gobench ab`: two builds of gobench measured alternately on one machine.
//
// Stages:
//   1. resolve each side to a gobench binary: a path to an executable, or a
//      git revision, exported with `git archive` into .build-ab/<commit>/
//      and built there in release mode (kept for reuse);
//   2. ask the base binary which of its benchmarks match the pattern, and
//      calibrate n once per benchmark with it (worker protocol,
//      WorkerSpec); both sides then run the same iterations;
//   3. for each round, for each benchmark: a fresh base worker and a fresh
//      candidate worker each run a warm-up and one counted repetition at
//      that n, the base first in even rounds and the candidate first in
//      odd ones, so that neither side always runs second;
//   4. pair the rounds (PairedComparison).
// Every child is a `gobench worker` fed a typed spec: no flag strings, so a
// build whose CLI flags differ still speaks the same protocol. Builds from
// before the protocol existed cannot be driven.

import Foundation

public struct ABSide: Sendable {
    public var label: String
    public var binary: String
    public var environment: [String: String]

    public init(label: String, binary: String, environment: [String: String] = [:]) {
        self.label = label
        self.binary = binary
        self.environment = environment
    }
}

public enum ABBuild {
    /// A binary for `spec`: an executable path as-is, else a git revision
    /// of the repository at `repository`, built once into `scratchRoot`.
    public static func resolve(_ spec: String, repository: String, scratchRoot: String,
                               log: (String) -> Void) throws -> String {
        if spec.contains("/"), FileManager.default.isExecutableFile(atPath: spec) {
            return spec
        }
        let rev = try Subprocess.run("/usr/bin/env", ["git", "rev-parse", "--verify", "--quiet", "\(spec)^{commit}"], in: repository)
        guard rev.status == 0 else {
            throw SelectionError("\"\(spec)\" is neither an executable gobench binary nor a git revision of \(repository)")
        }
        let sha = rev.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Absolute, because the build below runs inside the folder.
        let root = scratchRoot.hasPrefix("/") ? scratchRoot : FileManager.default.currentDirectoryPath + "/" + scratchRoot
        let dir = "\(root)/\(sha)"
        let binary = "\(dir)/.build/release/gobench"
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        try AtomicFile.makeDirectory(dir)
        log("building \(spec) (\(sha.prefix(12))) in \(dir)")
        let export = try Subprocess.run("/bin/sh", ["-c", "git -C \"$0\" archive \"$1\" | tar -x -C \"$2\"", repository, sha, dir],
                                         in: repository)
        guard export.status == 0 else {
            throw BuildError("cannot export \(spec): \(export.stderr.split(separator: "\n").first ?? "git archive failed")")
        }
        let build = try Subprocess.run("/usr/bin/env", ["swift", "build", "-c", "release", "--product", "gobench",
                                                         "--package-path", dir], in: dir)
        guard build.status == 0, FileManager.default.isExecutableFile(atPath: binary) else {
            let line = (build.stdout + build.stderr).split(separator: "\n").first { $0.contains("error") } ?? "exit \(build.status)"
            throw BuildError("building \(spec) failed: \(line)")
        }
        return binary
    }
}

public struct ABRunner {
    public var base: ABSide
    public var candidate: ABSide
    public var pattern: String
    public var benchTime: BenchTime
    public var rounds: Int
    /// What the workers measure besides time (no perf counters by default:
    /// ab judges times).
    public var instruments: InstrumentSpec = .timeOnly
    public var log: (String) -> Void = { _ in }

    public init(base: ABSide, candidate: ABSide, pattern: String, benchTime: BenchTime, rounds: Int) {
        self.base = base
        self.candidate = candidate
        self.pattern = pattern
        self.benchTime = benchTime
        self.rounds = rounds
    }

    public struct Outcome: Sendable {
        public var base: [RepetitionResult]
        public var candidate: [RepetitionResult]
        /// n per benchmark, the same on both sides.
        public var iterations: [(name: String, n: Int)]
    }

    /// Time a worker may take beyond its own work.
    public var timeoutSeconds: Double = 300
    /// Called after each worker with a short status.
    public var progress: (String) -> Void = { _ in }

    public func run() throws -> Outcome {
        // Stage 2: what to run, and n, from the base binary.
        log("calibrating with \(base.label)")
        let listing = try invoke(base, WorkerSpec(items: [], instruments: .timeOnly, process: 0, listPattern: pattern))
        guard !listing.listed.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\" in \(base.label)") }
        var iterations: [(String, Int)] = []
        for name in listing.listed {
            progress("calibrating \(name)")
            switch benchTime {
            case .iterations(let n):
                iterations.append((name, n))
            case .nanoseconds:
                let c = try invoke(base, WorkerSpec(items: [.init(benchmark: name, benchTime: benchTime, repetitions: [])],
                                                    instruments: .timeOnly, process: 0))
                guard let n = c.calibrated[name] else { throw WorkerError("\(base.label) did not calibrate \(name)") }
                iterations.append((name, n))
            }
        }

        // Stage 3: alternate, round by round, a fresh worker per side.
        var a: [RepetitionResult] = [], b: [RepetitionResult] = []
        for round in 0..<rounds {
            log("round \(round + 1)/\(rounds)")
            for (k, (name, n)) in iterations.enumerated() {
                progress("round \(round + 1)/\(rounds) benchmark \(k + 1)/\(iterations.count) \(name)")
                let spec = WorkerSpec(items: [.init(benchmark: name, benchTime: .iterations(n), warmup: true, repetitions: [round])],
                                      instruments: instruments, process: round)
                let sides = round % 2 == 0 ? [(base, true), (candidate, false)] : [(candidate, false), (base, true)]
                for (side, isBase) in sides {
                    let r = try invoke(side, spec).results
                    if isBase { a += r } else { b += r }
                }
            }
        }
        return Outcome(base: a, candidate: b, iterations: iterations.map { (name: $0.0, n: $0.1) })
    }

    func invoke(_ side: ABSide, _ spec: WorkerSpec) throws -> WorkerOutcome {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in side.environment { env[k] = v }
        do {
            return try WorkerProcess.run(executable: side.binary, spec: spec, timeoutSeconds: timeoutSeconds, environment: env)
        } catch let e as WorkerError {
            throw WorkerError("\(side.label) (\(side.binary)): \(e.description)")
        }
    }
}
