// `gobench ab --profile`: both builds profiled with the same settings, and
// a differential flame graph (ProfileDiff) for every benchmark the paired
// comparison called a regression.
//
// The profiled runs come after the paired rounds and apart from them (one
// `gobench run PATTERN --profile --count 1` per side), so the sampler's
// slowdown touches neither side's timed rounds; per-op normalization makes
// the two sides comparable although each calibrates its own n.

import Foundation

public enum ABProfiles {
    public struct Outcome: Sendable {
        /// profiles/ folder of each side.
        public var baseProfiles: String
        public var candidateProfiles: String
        /// The differential SVGs written (regressed benchmarks with both profiles).
        public var diffs: [String]
    }

    /// Profiles `base` and `candidate` on `pattern` into `directory`/{base,candidate}
    /// and writes the differential files for `regressions` into `directory`/diff.
    /// `profileArgs` are passed to both sides (`--profile-rate`, `--unwind`, ...).
    public static func run(base: ABSide, candidate: ABSide, pattern: String, benchTime: BenchTime,
                           profileArgs: [String] = [], regressions: [String], directory: String,
                           log: (String) -> Void = { _ in }) throws -> Outcome {
        try AtomicFile.makeDirectory(directory)
        var folders: [String] = []
        for side in [base, candidate] {
            log("profiling \(side.label)")
            let out = "\(directory)/\(side.label)"
            var env = ProcessInfo.processInfo.environment
            for (k, v) in side.environment { env[k] = v }
            let r = try Subprocess.run(side.binary, ["run", pattern, "--profile", "--count", "1", "--benchtime", benchTime.description,
                                                     "--results-dir", out, "--format", "csv"] + profileArgs, environment: env)
            guard r.status == 0 else {
                let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
                throw FormatError("\(side.label) (\(side.binary)) failed to profile with exit \(r.status): \(line)")
            }
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: out))?.sorted() ?? []
            guard let run = runs.last, FileManager.default.fileExists(atPath: "\(out)/\(run)/profiles") else {
                throw FormatError("\(side.label) (\(side.binary)) wrote no profiles/ under \(out)")
            }
            folders.append("\(out)/\(run)/profiles")
        }
        let diffs = try ProfileDiff.writeForRegressions(regressions, baseProfiles: folders[0], newProfiles: folders[1],
                                                        outDirectory: "\(directory)/diff")
        return Outcome(baseProfiles: folders[0], candidateProfiles: folders[1], diffs: diffs)
    }
}
