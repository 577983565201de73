// Helpers for the history tests: scratch folders, synthetic runs with
// exact values, run folders on disk, the gobench binary, temporary git
// repositories.

import Foundation
import GoBenchTestSupport
import GoBenchHistory
import GoBenchKit
import Testing

/// A fresh scratch folder.
func scratch(_ tag: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("gobench-history-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Results of a tiny suite with exact values: `reps` repetitions of three
/// benchmarks (one of another implementation), each with a time, a count
/// and a condition, values drawn from `rng` (awkward doubles included).
func syntheticResults(reps: Int, scale: Double = 1, rng: inout SplitMix64) -> [RepetitionResult] {
    var out: [RepetitionResult] = []
    let names: [(String, Implementation)] = [("tiny/add", .swift), ("tiny/map, \"quoted\"", .swift), ("tiny/add", "go")]
    for rep in 0..<reps {
        for (k, (name, impl)) in names.enumerated() {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            let metrics = [
                Metric((10 + Double(k)) * scale * (1 + 0.01 * u), unit: "ns/op", kind: .time),
                Metric(u * 1e-7 + 0.1 + 0.2, unit: "parks/op", kind: .count),
                Metric(1 / 3 + Double(rep), unit: "allocs/op", kind: .exact),
                Metric(Double.leastNonzeroMagnitude * Double(rep + 1), unit: "ops/s", better: .higher, kind: .count),
                Metric.condition(1.5 + u, unit: "parallelism"),
            ]
            out.append(RepetitionResult(name: name, impl: impl, threads: k + 1, repetition: rep, n: 1000 + rep,
                                        metrics: metrics, process: rep % 2 == 0 ? rep / 2 : nil))
        }
    }
    return out
}

/// A context like a run's, with this machine's fingerprint.
func syntheticContext(git: String = "unknown", date: Date = Date()) -> RunEnvironment {
    var env = RunEnvironment()
    env["goos"] = "linux"
    env["goarch"] = "amd64"
    env["cpu"] = "Test CPU"
    env["date"] = ISO8601DateFormatter().string(from: date)
    env["git"] = git
    for (k, v) in MachineFingerprint.current().contextEntries { env[k] = v }
    env["suites"] = "tiny"
    return env
}

func syntheticRecord(_ results: [RepetitionResult], revision: String = "unknown", date: Date = Date(),
                     suite: String = "tiny") -> RunRecord {
    RunRecord(fingerprint: MachineFingerprint.current(), revision: revision, describe: revision, branch: "",
              commitTime: nil, date: date, suite: suite, runDirectory: nil, context: syntheticContext(date: date),
              results: results)
}

/// Writes a run folder as Session does: results.csv, context.json.
@discardableResult
func writeRunFolder(_ dir: String, results: [RepetitionResult], context: RunEnvironment) throws -> String {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try AtomicFile.write(CSV.write(results), to: "\(dir)/results.csv")
    try AtomicFile.write(context.json(), to: "\(dir)/context.json")
    return dir
}

struct Ran {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion, reading both pipes. Through the harness's
/// fork/exec/waitpid spawner, not Foundation's Process: with several tests
/// starting children at once, Process once never noticed that a child
/// (runuser) had exited, and waitUntilExit hung on the zombie.
@discardableResult
func runProgram(_ path: String, _ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Ran {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: History.environmentVariable)
    for (k, v) in environment { env[k] = v }
    let o = try ProcessCounters.run(path, args, in: cwd, environment: env, events: [], userOnly: true).output
    return Ran(status: o.status, stdout: o.stdout, stderr: o.stderr)
}

/// Runs each command on its own thread, all at once; their outcomes in order.
func runConcurrently(_ commands: [(path: String, args: [String])]) -> [Result<Ran, Error>] {
    final class Slots: @unchecked Sendable {
        let lock = NSLock()
        var results: [Int: Result<Ran, Error>] = [:]
    }
    let slots = Slots()
    DispatchQueue.concurrentPerform(iterations: commands.count) { i in
        let r = Result { try runProgram(commands[i].path, commands[i].args) }
        slots.lock.lock(); slots.results[i] = r; slots.lock.unlock()
    }
    return (0..<commands.count).map { slots.results[$0]! }
}

/// The pids of running processes whose command line contains `marker`.
func pids(withArgument marker: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\u{0}").contains { $0 == marker }
    }
}

func gobench(_ args: [String], cwd: String, environment: [String: String] = [:]) throws -> Ran {
    try runProgram(try gobenchExecutable(), args, cwd: cwd, environment: environment)
}

/// A git repository with `count` empty commits, one second apart; returns
/// its folder and the commits' hashes, oldest first.
func gitRepository(commits count: Int) throws -> (dir: String, commits: [String]) {
    let dir = try scratch("repo")
    let git = "/usr/bin/git"
    let env = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"]
    try #require(try runProgram(git, ["init", "-q", "-b", "main"], cwd: dir).status == 0)
    var hashes: [String] = []
    for i in 0..<count {
        var e = env
        let date = "\(1_700_000_000 + i * 60) +0000"
        e["GIT_AUTHOR_DATE"] = date
        e["GIT_COMMITTER_DATE"] = date
        try #require(try runProgram(git, ["commit", "-q", "--allow-empty", "-m", "c\(i)"], cwd: dir, environment: e).status == 0)
        hashes.append(try runProgram(git, ["rev-parse", "HEAD"], cwd: dir).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return (dir, hashes)
}
