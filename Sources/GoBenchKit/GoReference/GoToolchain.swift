// Go's own benchmarks, run and read by gobench: the yardstick for the ports.
//
// suites/go/ is a Go module of testing.B benchmarks whose names mirror ours
// (our `chan/buffered/cap=64` is Go's `BenchmarkChan/buffered/cap=64`).
// GoReference compiles it once with `go test -c` and runs the test binary
// one round at a time (`-test.count 1`), so that `gobench all --with-go`
// can interleave Go's rounds with ours and both sides meet the same drift.
// Go's output is parsed by GoText and stored with impl = "go".
//
// Selection: our regex is matched against our names after the run. Go's
// -bench flag matches each '/'-separated level separately, so only a
// pattern anchored at a top-level name (`^mutex/...`) is passed through
// (as ^Benchmark plus the name with its first letter capitalised) to save time; anything else runs
// every Go benchmark and filters afterwards.

import Foundation

public struct GoReference: Sendable {
    /// The `go` executable.
    public let goPath: String
    /// `go version` output.
    public let version: String
    /// The module folder (suites/go).
    public let moduleDirectory: String
    /// The compiled test binary.
    public let testBinary: String

    /// Finds `go` on PATH or at Debian's golang-1.19-go location.
    public static func locateGo() -> String? {
        Subprocess.find("go", alsoIn: ["/usr/lib/go-1.19/bin"])
    }

    /// Locates Go and compiles the reference suite. Errors are one line:
    /// no Go installed, no module folder, or a compile failure.
    public static func prepare(moduleDirectory: String) throws -> GoReference {
        guard let go = locateGo() else {
            throw FormatError("Go is not installed (install golang-1.19-go: scripts/bootstrap does it as root)")
        }
        guard FileManager.default.fileExists(atPath: "\(moduleDirectory)/go.mod") else {
            throw FormatError("\(moduleDirectory): no go.mod (the Go reference suite lives in suites/go)")
        }
        let version = try run(go, ["version"], in: moduleDirectory).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let binary = NSTemporaryDirectory() + "gobench-go-\(getpid()).test"
        let build = try run(go, ["test", "-c", "-o", binary, "."], in: moduleDirectory)
        guard build.status == 0 else {
            let first = build.stderr.split(separator: "\n").first.map(String.init) ?? "exit \(build.status)"
            throw FormatError("go test -c failed in \(moduleDirectory): \(first)")
        }
        return GoReference(goPath: go, version: version, moduleDirectory: moduleDirectory, testBinary: binary)
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
    /// Repetition numbers are set to `round`.
    public func runRound(_ round: Int, pattern: String, benchTime: BenchTime) throws -> [RepetitionResult] {
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
            throw FormatError("Go reference benchmarks failed (exit \(r.status)): \(tail)")
        }
        let parsed = try GoText.parse(r.stdout, impl: "go")
        // Go's -N suffix is GOMAXPROCS, not the benchmark's thread count:
        // take the threads from the name ("threads=2"), as our side does.
        return parsed.results.filter { $0.name.contains(regex) }.map {
            var x = $0
            x.repetition = round
            x.threads = GoReference.threadsInName($0.name)
            return x
        }
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
        var env = ProcessInfo.processInfo.environment
        if env["GOCACHE"] == nil && env["HOME"] == nil && env["XDG_CACHE_HOME"] == nil {
            env["GOCACHE"] = NSTemporaryDirectory() + "gobench-gocache"
        }
        return try Subprocess.run(executable, args, in: dir, environment: env)
    }
}
