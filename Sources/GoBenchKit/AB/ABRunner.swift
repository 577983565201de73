// `gobench ab`: two builds of gobench measured alternately on one machine.
//
// Stages:
//   1. resolve each side to a gobench binary: a path to an executable, or a
//      git revision, exported with `git archive` into .build-ab/<commit>/
//      and built there in release mode (kept for reuse);
//   2. calibrate once, with the base binary, and fix n per benchmark;
//   3. for each round: the base binary runs every selected benchmark once
//      at its n, then the candidate does the same (a suite manifest of
//      exact names and `<n>x` bench times, so both sides run the same
//      iterations);
//   4. pair the rounds (PairedComparison).

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

    public func run() throws -> Outcome {
        // Stage 2: calibrate with the base binary.
        log("calibrating with \(base.label)")
        let calibration = try invoke(base, ["run", pattern, "--benchtime", benchTime.description, "--count", "1"])
        var iterations: [(String, Int)] = []
        for r in calibration where !iterations.contains(where: { $0.0 == r.name }) { iterations.append((r.name, r.n)) }
        guard !iterations.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\" in \(base.label)") }

        // A suite that fixes n per benchmark, for both sides.
        let dir = NSTemporaryDirectory() + "gobench-ab-\(getpid())"
        try AtomicFile.makeDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var toml = "name = \"ab\"\ncount = 1\n"
        for (name, n) in iterations {
            toml += "\n[[benchmark]]\nname = \(jsonString(name))\nbenchtime = \"\(n)x\"\n"
        }
        try AtomicFile.write(toml, to: "\(dir)/ab.toml")

        // Stage 3: alternate, round by round.
        var a: [RepetitionResult] = [], b: [RepetitionResult] = []
        for round in 0..<rounds {
            log("round \(round + 1)/\(rounds): \(base.label)")
            a += try invoke(base, ["all", "--suites", dir]).map { var r = $0; r.repetition = round; return r }
            log("round \(round + 1)/\(rounds): \(candidate.label)")
            b += try invoke(candidate, ["all", "--suites", dir]).map { var r = $0; r.repetition = round; return r }
        }
        return Outcome(base: a, candidate: b, iterations: iterations.map { (name: $0.0, n: $0.1) })
    }

    func invoke(_ side: ABSide, _ args: [String]) throws -> [RepetitionResult] {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in side.environment { env[k] = v }
        let r = try Subprocess.run(side.binary, args + ["--format", "csv", "--no-save"], environment: env)
        guard r.status == 0 else {
            let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            throw WorkerError("\(side.label) (\(side.binary)) failed with exit \(r.status): \(line)")
        }
        return try CSV.parse(r.stdout)
    }
}
