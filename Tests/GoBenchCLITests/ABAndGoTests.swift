import Foundation
import GoBenchTestSupport
import Testing

@Suite(.serialized) struct ABAndGoTests {
    @Test func abOfABuildAgainstItselfIsNoRegression() throws {
        let bin = try gobenchExecutable()
        let r = try gobench(["ab", "--base", bin, "--candidate", bin, "^harness/calibrate$",
                             "--benchtime", "3000x", "--count", "6", "--threshold", "25"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("no regression"))
    }

    @Test func abFindsADeliberatelySlowerCandidate() throws {
        let bin = try gobenchExecutable()
        let out = try scratchDirectory("ab") + "/ab.csv"
        // The knob triples harness/calibrate's work in the candidate only.
        // Each side's runs last ~0.1 s, so that other tests running beside
        // this one (Swift Testing runs suites in parallel) share the CPU
        // evenly within a run; a fresh worker per side per round still
        // varies by tens of percent here.
        let r = try gobench(["ab", "--base", bin, "--candidate", bin, "^harness/calibrate$",
                             "--benchtime", "40000x", "--count", "10",
                             "--candidate-env", "GOBENCH_CALIBRATE_SLOWDOWN_PCT=200", "--output", out])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("harness/calibrate"))
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        #expect(csv.contains("harness/calibrate,swift,cpu-ns,cpu-ns/op,time,lower,10,"))
    }

    @Test func abBadInputIsExitOne() throws {
        let r = try gobench(["ab", "--base", "no-such-revision-xyz", "--candidate", "HEAD"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("gobench: ") && r.stderr.contains("neither an executable"))
    }

    @Test func goReferenceRunsWhenGoIsInstalled() throws {
        let hasGo = ["/usr/bin/go", "/usr/local/bin/go", "/usr/lib/go-1.19/bin/go"].contains {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let root = repositoryRoot()
        let r = try gobench(["go", "^atomic/cas/uncontended$", "--benchtime", "2000000x", "--count", "2",
                             "--format", "csv", "--no-save", "--counters", "task-clock"], cwd: root)
        if !hasGo {
            #expect(r.status == 1 && r.stderr.contains("Go is not installed"))
            return
        }
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("atomic/cas/uncontended,go,") }
        #expect(rows.contains { $0.contains(",ns,") && $0.contains(",2000000,") })
        #expect(rows.contains { $0.contains(",allocs,") })
        // The counters followed Go's test process: a per-op task-clock row
        // per round, from the difference of the two counted runs (2e6 CAS
        // are ~20 ms of CPU, far above the ~1 ms that two process starts
        // differ by).
        let taskClock = rows.filter { $0.contains(",task-clock-ns,") }
        #expect(taskClock.count == 2, "\(r.stdout)")
        let perOp = taskClock.compactMap { $0.split(separator: ",").dropFirst(6).first.flatMap { Double($0) } }
        #expect(perOp.count == 2 && perOp.allSatisfy { $0 > 0.5 && $0 < 500 }, "\(taskClock)")

        let missing = try gobench(["go", "--go-suite", "/nonexistent", "--no-save"], cwd: root)
        #expect(missing.status == 1 && missing.stderr.contains("no go.mod"))
    }
}
