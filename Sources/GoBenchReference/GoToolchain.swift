// Go's own benchmarks, run and read by gobench: the yardstick for the ports.
//
// suites/go/ is a Go module of testing.B benchmarks whose names mirror ours
// (our `chan/buffered/cap=64` is Go's `BenchmarkChan/buffered/cap=64`).
// GoReference compiles it once with `go test -c` and runs the test binary
// one round at a time (`-test.count 1`), so that `gobench all --with-go`
// can interleave Go's rounds with ours and both sides meet the same drift.
// Go's output is parsed by GoText and stored with impl = .go.
//
// Counters: Go's benchmarks run in a process of their own, so the perf
// counters follow that process (ProcessCounters: held before exec, events
// with inherit + enable_on_exec) instead of a worker thread. A process
// count holds more than the timed loop: start-up, the runtime's own
// threads, the benchmark's setup. So after each round's timed run, each
// Go benchmark runs twice more under the counters at a fixed iteration
// count, -test.benchtime Sx and Bx with B - S = D, the N of the timed run
// or more where setup would drown it (countedMetrics), and the difference
// of the two counts, divided by D, is the per-op figure. Both processes
// start, set up and run the b.N = 1 probe alike, so those cancel; what
// stays is D iterations' worth, including the Go runtime's
// background work in that time (GC, sysmon) and any work the benchmark
// hides from its timer with b.StopTimer. A difference below zero (noise in
// a count that barely moves, such as context switches) is reported as 0.
//
// Selection: our regex is matched against our names after the run. Go's
// -bench flag matches each '/'-separated level separately, so only a
// pattern anchored at a top-level name (`^mutex/...`) is passed through
// (as ^Benchmark plus the name with its first letter capitalised) to save time; anything else runs
// every Go benchmark and filters afterwards.

import Foundation
import GoBenchKit

extension Implementation {
    /// Go 1.19's runtime, measured by its own testing.B benchmarks.
    public static let go = Implementation("go")
}

public struct GoReference: Sendable {
    /// The `go` executable.
    public let goPath: String
    /// `go version` output.
    public let version: String
    /// The module folder (suites/go).
    public let moduleDirectory: String
    /// The compiled test binary.
    public let testBinary: String
    /// Counter warnings already printed (one line each per run).
    private let warnings = WarnOnce()

    /// Finds `go` on PATH or at Debian's golang-1.19-go location.
    public static func locateGo() -> String? {
        Subprocess.find("go", alsoIn: ["/usr/lib/go-1.19/bin"])
    }

    /// Locates Go and compiles the reference suite. Errors are one line:
    /// no Go installed, no module folder, or a compile failure.
    public static func prepare(moduleDirectory: String) throws -> GoReference {
        guard let go = locateGo() else {
            throw ToolchainError("Go is not installed (install golang-1.19-go: scripts/bootstrap does it as root)")
        }
        guard FileManager.default.fileExists(atPath: "\(moduleDirectory)/go.mod") else {
            throw InputError("\(moduleDirectory): no go.mod (the Go reference suite lives in suites/go)")
        }
        let version = try run(go, ["version"], in: moduleDirectory).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let binary = NSTemporaryDirectory() + "gobench-go-\(getpid()).test"
        let build = try run(go, ["test", "-c", "-o", binary, "."], in: moduleDirectory)
        guard build.status == 0 else {
            let first = build.stderr.split(separator: "\n").first.map(String.init) ?? "exit \(build.status)"
            throw BuildError("go test -c failed in \(moduleDirectory): \(first)")
        }
        return GoReference(goPath: go, version: version, moduleDirectory: moduleDirectory, testBinary: binary)
    }

    private init(goPath: String, version: String, moduleDirectory: String, testBinary: String) {
        self.goPath = goPath
        self.version = version
        self.moduleDirectory = moduleDirectory
        self.testBinary = testBinary
    }

    /// The run-context line that says how Go's rows were counted.
    public static func counterContext(_ counters: CounterInstrument?) -> [(key: String, value: String)] {
        guard let c = counters, c.isCounting else { return [("go-counters", "off")] }
        return [("go-counters", "whole test process, difference of two fixed-N runs per round "
                    + "(includes Go's GC and background threads); events: "
                    + c.countedEvents.map(\.name).joined(separator: ","))]
    }

    /// Go's -bench pattern for our regex: the regex itself when it is
    /// anchored at a lower-case top-level name, else "." (all).
    public static func goBenchPattern(for pattern: String) -> String {
        // Go matches the top level against the function name, with its
        // "Benchmark" prefix.
        let chars = Array(pattern)
        guard chars.count >= 2, chars[0] == "^", chars[1].isLowercase, chars[1].isLetter else { return "." }
        return "^Benchmark" + chars[1].uppercased() + String(chars[2...])
    }

    /// One round: every selected Go benchmark once, at `benchTime`.
    /// Repetition numbers are set to `round`. With `counters` counting,
    /// each row also gets the per-op counts of its two counted runs.
    public func runRound(_ round: Int, pattern: String, benchTime: BenchTime,
                         counters: CounterInstrument? = nil) throws -> [RepetitionResult] {
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch {
            throw SelectionError("invalid benchmark pattern \"\(pattern)\"")
        }
        let r = try GoReference.run(testBinary, [
            "-test.run", "^$", "-test.bench", GoReference.goBenchPattern(for: pattern),
            "-test.benchmem", "-test.count", "1", "-test.benchtime", benchTime.description,
        ], in: moduleDirectory)
        guard r.status == 0 else {
            let tail = (r.stdout + r.stderr).split(separator: "\n").suffix(1).joined()
            throw WorkerError("Go reference benchmarks failed (exit \(r.status)): \(tail)")
        }
        let parsed = try GoText.parse(r.stdout, impl: .go)
        // Go's -N suffix is GOMAXPROCS, not the benchmark's thread count:
        // take the threads from the name ("threads=2"), as our side does.
        let rows = parsed.results.filter { $0.name.contains(regex) }.map {
            var x = $0
            x.repetition = round
            x.threads = GoReference.threadsInName($0.name)
            return x
        }
        guard let counters, counters.isCounting else { return rows }
        return try rows.map { row in
            var x = row
            x.metrics += try countedMetrics(row, counters: counters)
            return x
        }
    }

    /// Per-op counter metrics for one row: counted runs at S and S + D
    /// iterations (see the file comment). D is the row's N, or more when
    /// the S run's whole-process CPU time (start-up plus two setups) is
    /// large beside N iterations: a 1M-entry map's setup varies by more
    /// than N lookups cost, and the difference would be noise. D grows
    /// until the timed work is `GoReference.workOverSetup` times the S
    /// run's total, at most `maxIterationFactor` x N; a row still
    /// dominated by its setup gets no counters (with a warning). Empty,
    /// with a warning, when a counted run did not run exactly that
    /// benchmark or no event opened.
    func countedMetrics(_ row: RepetitionResult, counters: CounterInstrument) throws -> [Metric] {
        let n = max(row.n, 1)
        let small = max(2, n / 8)  // S >= 2: -test.benchtime 1x skips the second launch
        guard let a = try countedRun(row.name, iterations: small, counters: counters) else { return [] }
        var d = n
        if let nsPerOp = row.metric("ns/op")?.value, nsPerOp > 0, let overhead = a["task-clock"] {
            let wanted = GoReference.workOverSetup * overhead / nsPerOp
            d = max(n, Int(min(wanted, Double(n) * GoReference.maxIterationFactor)))
            if Double(d) * nsPerOp < overhead {
                warnings.warn("Go counters: \(row.name): setup outweighs \(d) iterations; no counts")
                return []
            }
        }
        guard let b = try countedRun(row.name, iterations: small + d, counters: counters) else { return [] }
        var totals: [String: Double] = [:]
        var metrics: [Metric] = []
        for e in counters.countedEvents {
            guard let x = a[e.name], let y = b[e.name] else { continue }
            totals[e.name] = max(0, y - x)
            metrics.append(Metric(max(0, y - x) / Double(d), unit: e.unit, kind: e.metricKind))
        }
        return metrics + DerivedCounters.metrics(totals: totals)
    }

    /// How many times the S run's total the counted difference should be.
    static let workOverSetup = 4.0
    /// The most iterations a counted difference may take, in N's.
    static let maxIterationFactor = 10.0

    /// One counted run of exactly the Go twin of `name` at a fixed
    /// iteration count: event name -> whole-process count, or nil.
    private func countedRun(_ name: String, iterations: Int, counters: CounterInstrument) throws -> [String: Double]? {
        let outcome = try ProcessCounters.run(testBinary, [
            "-test.run", "^$", "-test.bench", GoReference.exactBenchPattern(forName: name),
            "-test.benchmem", "-test.count", "1", "-test.benchtime", "\(iterations)x",
        ], in: moduleDirectory, environment: GoReference.environment(),
           events: counters.countedEvents, userOnly: counters.availability.userOnly)
        guard outcome.output.status == 0 else {
            let tail = (outcome.output.stdout + outcome.output.stderr).split(separator: "\n").suffix(1).joined()
            throw WorkerError("Go reference benchmark \(name) failed under the counters (exit \(outcome.output.status)): \(tail)")
        }
        for e in outcome.errors { warnings.warn("Go counters: \(e.description)") }
        let ran = try GoText.parse(outcome.output.stdout, impl: .go).results
        guard ran.count == 1, ran[0].name == name, ran[0].n == iterations else {
            warnings.warn("Go counters: \(name): the counted run ran \(ran.map { "\($0.name) x\($0.n)" }) instead; no counts")
            return nil
        }
        return outcome.counts.isEmpty ? nil : outcome.counts
    }

    /// Go's -bench pattern that selects exactly the Go twin of our `name`:
    /// each '/' level anchored and quoted (Go matches level by level).
    static func exactBenchPattern(forName name: String) -> String {
        var levels = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        levels[0] = "Benchmark" + levels[0].prefix(1).uppercased() + levels[0].dropFirst()
        return levels.map { "^" + quoteMeta($0) + "$" }.joined(separator: "/")
    }

    /// Go's regexp.QuoteMeta.
    static func quoteMeta(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\.+*?()|[]{}^$".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// N from a "threads=N" component of a benchmark name, else 1.
    static func threadsInName(_ name: String) -> Int {
        guard let r = name.range(of: "threads=") else { return 1 }
        return Int(name[r.upperBound...].prefix { $0.isNumber }) ?? 1
    }

    /// Removes the compiled test binary.
    public func cleanUp() {
        try? FileManager.default.removeItem(atPath: testBinary)
    }

    /// Runs the go tool or the test binary. `go` needs a build cache;
    /// without HOME (some CI shells) it would refuse to build, so give it
    /// one under the temporary folder.
    static func run(_ executable: String, _ args: [String], in dir: String) throws -> Subprocess.Output {
        try Subprocess.run(executable, args, in: dir, environment: environment())
    }

    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        if env["GOCACHE"] == nil && env["HOME"] == nil && env["XDG_CACHE_HOME"] == nil {
            env["GOCACHE"] = NSTemporaryDirectory() + "gobench-gocache"
        }
        return env
    }
}

/// Prints each distinct warning once.
final class WarnOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = Set<String>()

    func warn(_ message: String) {
        let first = lock.withLock { seen.insert(message).inserted }
        if first { FileHandle.standardError.write(Data("gobench: warning: \(message)\n".utf8)) }
    }
}
