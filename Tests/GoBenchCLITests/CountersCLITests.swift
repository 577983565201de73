// End-to-end: `gobench counters`, counters in a run's context and metrics,
// and exact instruction counts through callgrind, by running the built
// gobench binary.

import Foundation
import Testing

/// "1562.1 instructions/op" values of `benchmark` in Go text, in order.
private func values(_ unit: String, of benchmark: String, in text: String) -> [Double] {
    text.split(separator: "\n").filter { $0.hasPrefix(benchmark + "-") }.compactMap { line in
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let i = f.firstIndex(where: { $0 == unit }), i > 0 else { return nil }
        return Double(f[i - 1])
    }
}

private let haveValgrind = FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/valgrind")

@Suite(.serialized) struct CountersCLITests {
    @Test func countersPreflightListsEveryDefaultEvent() throws {
        let o = try gobench(["counters"])
        #expect(o.status == 0, "\(o.stderr)")
        for name in ["cycles", "instructions", "branch-misses", "cache-misses",
                     "task-clock", "context-switches", "cpu-migrations", "page-faults"] {
            #expect(o.stdout.contains("\n\(name) "), "\(name) missing from:\n\(o.stdout)")
        }
        #expect(o.stdout.contains("counters: hw="))
        #expect(o.stdout.contains("sw=ok"))
        #expect(o.stdout.contains("perf_event_paranoid: "))
        // The self-test counted the 4 MiB it touched (1024 pages).
        let selfTest = o.stdout.components(separatedBy: "self-test").last ?? ""
        let faults = selfTest.split(separator: "\n").first { $0.hasPrefix("page-faults ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect((faults ?? 0) >= 1000, "\(o.stdout)")
    }

    @Test func runContextAndMetricsCarryCounters() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let o = try gobench(["run", "^harness/empty$", "--benchtime", "20000x", "--count", "1", "--format", "go",
                             "--results-dir", dir.path, "--counters", "cycles,default"])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.contains("\ncounters: hw="))
        // An unknown name is an error (WorkerCLITests); a known event this
        // machine cannot count is n/a, with the reason.
        #expect(values("task-clock-ns/op", of: "BenchmarkHarness/empty", in: o.stdout).count == 1)
        #expect(values("page-faults/op", of: "BenchmarkHarness/empty", in: o.stdout).count == 1)
        let cyclesCounted = !values("cycles/op", of: "BenchmarkHarness/empty", in: o.stdout).isEmpty
        #expect(cyclesCounted || o.stdout.contains("cycles=n/a("))
        // The same summary goes into context.json beside results.csv.
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let run = try #require(runs.first)
        let json = try String(contentsOfFile: "\(dir.path)/\(run)/context.json", encoding: .utf8)
        #expect(json.contains("\"counters\": \"hw="))
        let csv = try String(contentsOfFile: "\(dir.path)/\(run)/results.csv", encoding: .utf8)
        #expect(csv.contains(",task-clock-ns,"))

        let off = try gobench(["run", "^harness/empty$", "--benchtime", "1000x", "--no-save", "--format", "go",
                               "--counters", "none"])
        #expect(off.status == 0)
        #expect(off.stdout.contains("counters: off (--counters none); hw="))
        #expect(!off.stdout.contains("task-clock-ns/op"))
    }

    @Test(.enabled(if: haveValgrind, "valgrind is not installed"))
    func callgrindCountsAreExactAndScaleWithWork() throws {
        let common = ["--benchtime", "1x", "--no-save", "--format", "go", "--counters", "none",
                      "--instructions", "callgrind", "--callgrind-iterations", "200"]
        let small = try gobench(["run", "^harness/xorshift/steps=32$", "--count", "2"] + common)
        #expect(small.status == 0, "\(small.stderr)")
        #expect(small.stdout.contains("Unit instructions/op better=lower assume=exact"))
        let a = values("instructions/op", of: "BenchmarkHarness/xorshift/steps=32", in: small.stdout)
        #expect(a.count == 2, "\(small.stdout)\n\(small.stderr)")
        #expect(a.count == 2 && a[0] == a[1] && a[0] > 0, "two callgrind runs must agree exactly: \(a)")

        let large = try gobench(["run", "^harness/xorshift/steps=64$", "--count", "1"] + common)
        #expect(large.status == 0, "\(large.stderr)")
        let b = values("instructions/op", of: "BenchmarkHarness/xorshift/steps=64", in: large.stdout)
        #expect(b.count == 1)
        if let x = a.first, let y = b.first {
            #expect(y / x > 1.7 && y / x < 2.1, "twice the rounds, about twice the instructions: \(x) -> \(y)")
        }
    }
}
