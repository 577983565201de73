// The history through the gobench binary: runs recorded by `gobench run`
// read back exactly; `history`, `history --since` with compare's exit
// codes, `compare history:...`, `export`, on a synthetic history imported
// at the commits of a temporary git repository.

import Foundation
@testable import GoBenchHistory
import GoBenchKit
import Testing

@Suite struct HistoryCLITests {
    /// `gobench run` records its run (unless --no-history), and the store
    /// holds exactly what results.csv holds; `compare history:latest`
    /// takes the run before the one being compared.
    @Test func runRecordsItsRunExactly() throws {
        let cwd = try scratch("cli-run")
        var dirs: [String] = []
        for pct in ["0", "50"] {
            let r = try gobench(["run", "^harness/calibrate$", "--benchtime", "300x", "--count", "3"], cwd: cwd,
                                environment: ["GOBENCH_CALIBRATE_SLOWDOWN_PCT": pct])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("recorded as run"), "\(r.stderr)")
            let runs = try FileManager.default.contentsOfDirectory(atPath: "\(cwd)/results/runs").sorted()
            dirs = runs.map { "\(cwd)/results/runs/\($0)" }
        }
        let none = try gobench(["run", "^harness/calibrate$", "--benchtime", "100x", "--count", "1", "--no-history"], cwd: cwd)
        #expect(none.status == 0 && !none.stderr.contains("recorded"))

        let store = try History.open("\(cwd)/results/history.sqlite")
        defer { store.close() }
        let runs = try store.runs(machine: MachineFingerprint.current().hash)
        #expect(runs.count == 2)
        let read = try store.results(runs: runs.map(\.id))
        for (run, dir) in zip(runs.sorted { $0.date < $1.date || ($0.date == $1.date && $0.id < $1.id) }, dirs.prefix(2)) {
            #expect(run.runDirectory == dir)
            #expect(read[run.id] == (try loadResults(path: "\(dir)/results.csv")))
            #expect(run.suite == "run ^harness/calibrate$")
        }

        let cmp = try gobench(["compare", "history:latest", "\(dirs[1])/results.csv", "--threshold", "1000"], cwd: cwd)
        #expect(cmp.status == 0, "\(cmp.stdout)\(cmp.stderr)")
        #expect(cmp.stderr.contains("history:latest is run \(runs.min { $0.id < $1.id }!.id)"), "\(cmp.stderr)")
        let missing = try gobench(["compare", "history:deadbeef", "\(dirs[1])/results.csv"], cwd: cwd)
        #expect(missing.status == 1 && missing.stderr.hasPrefix("gobench: no run of deadbeef"), "\(missing.stderr)")
    }

    /// A synthetic history of 14 commits whose ns/op steps up 10% at
    /// commit 7: `history` names that commit and the ab command,
    /// `--since` exits 2 from before it and 0 from after it.
    @Test func historyFindsTheStepAndSinceGates() throws {
        let (repo, commits) = try gitRepository(commits: 14)
        let store = "\(repo)/results/history.sqlite"
        var rng = SplitMix64(seed: 99)
        for (i, c) in commits.enumerated() {
            let level = i >= 7 ? 110.0 : 100.0
            let results = (0..<3).map { rep in
                RepetitionResult(name: "tiny/step", threads: 1, repetition: rep, n: 1000,
                                 metrics: [Metric(level * (1 + 0.005 * gaussian(&rng)), unit: "ns/op", kind: .time),
                                           Metric(level * 1e6 * (1 + 0.005 * gaussian(&rng)), unit: "ops/s", better: .higher, kind: .count)])
            }
            let dir = try writeRunFolder("\(repo)/results/runs/r\(i)", results: results,
                                         context: syntheticContext(git: String(c.prefix(12))))
            let r = try gobench(["history", "--history", store, "--import", dir], cwd: repo)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let h = try gobench(["history", "--history", store, "tiny/"], cwd: repo)
        #expect(h.status == 0, "\(h.stderr)")
        let at = String(commits[7].prefix(12)), before = String(commits[6].prefix(12))

        // The HTML report of the last run draws the series with its change
        // point, and marks that run; --no-history leaves the section out.
        let last = "\(repo)/results/runs/r13"
        let rep = try gobench(["report", last, "--history", store], cwd: repo)
        #expect(rep.status == 0, "\(rep.stdout)\(rep.stderr)")
        let html = try String(contentsOfFile: "\(last)/report.html", encoding: .utf8)
        #expect(html.contains("<section id=\"history\">"))
        #expect(html.contains("14 run(s) of 14 commit(s)"), "provenance line")
        #expect(html.contains("aria-label=\"tiny/step ns/op\""), "no history plot of tiny/step")
        #expect(html.contains("<td>tiny/step</td><td>ns/op</td><td>\(at)</td><td class=\"num\">+"), "no change-point row at \(at)")
        #expect(html.contains("<line class=\"marker regression\""), "the change point's line")
        #expect(html.contains("data-name=\"this run\""), "the report's own run is not marked")
        _ = try gobench(["report", last, "--history", store, "--no-history"], cwd: repo)
        #expect(!(try String(contentsOfFile: "\(last)/report.html", encoding: .utf8)).contains("<section id=\"history\">"))
        #expect(h.stdout.contains("tiny/step ns/op: lands at \(at) (after \(before)): +"), "\(h.stdout)")
        #expect(h.stdout.contains("confirm: gobench ab --base \(before) --candidate \(at) '^tiny/step$'"), "\(h.stdout)")
        #expect(h.stdout.contains("14 run(s) of 14 commit(s)"))

        let gate = try gobench(["history", "--history", store, "--since", commits[3]], cwd: repo)
        #expect(gate.status == 2, "\(gate.stdout)\(gate.stderr)")
        // ops/s rose with ns/op (both scale with the level): an improvement.
        #expect(gate.stdout.contains("1 regression(s): tiny/step ns/op\n"), "\(gate.stdout)")
        let after = try gobench(["history", "--history", store, "--since", commits[9]], cwd: repo)
        #expect(after.status == 0 && after.stdout.contains("change points since"), "\(after.stdout)\(after.stderr)")
        let bad = try gobench(["history", "--history", store, "--since", "no-such-rev"], cwd: repo)
        #expect(bad.status == 1 && bad.stderr.hasPrefix("gobench: unknown revision"), "\(bad.stderr)")

        // compare takes a commit's run from the store: the +10% step lies
        // between these two commits, and 3 values a side at 0.5% noise
        // establish it.
        let cmp = try gobench(["compare", "history:\(commits[2].prefix(8))", "history:\(commits[12].prefix(8))"], cwd: repo)
        #expect(cmp.status == 2, "\(cmp.stdout)\(cmp.stderr)")
        #expect(cmp.stdout.contains("1 regression(s): tiny/step ns/op"), "\(cmp.stdout)")
        #expect(cmp.stdout.contains("tiny/step"), "\(cmp.stdout)\(cmp.stderr)")
    }

    /// A query where nothing was recorded says so and creates no store.
    @Test func aQueryCreatesNoStore() throws {
        let cwd = try scratch("cli-nostore")
        let r = try gobench(["history"], cwd: cwd)
        #expect(r.status == 0 && r.stdout.contains("no store at results/history.sqlite"), "\(r.stdout)\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(cwd)/results"))
    }

    @Test func exportWritesEachFormatAndRejectsBadOnes() throws {
        let cwd = try scratch("cli-export")
        var rng = SplitMix64(seed: 4)
        let dir = try writeRunFolder("\(cwd)/run", results: syntheticResults(reps: 3, rng: &rng), context: syntheticContext())
        for f in ExportFormat.allCases {
            let r = try gobench(["export", "--format", f.rawValue, dir, "-o", "\(cwd)/out.\(f.rawValue)"], cwd: cwd)
            #expect(r.status == 0, "\(f): \(r.stderr)")
            #expect(try String(contentsOfFile: "\(cwd)/out.\(f.rawValue)", encoding: .utf8)
                == (try Export.export(f, runDirectory: dir)))
        }
        let bad = try gobench(["export", "--format", "xml", dir], cwd: cwd)
        #expect(bad.status == 1 && bad.stderr.hasPrefix("gobench: unknown export format"), "\(bad.stderr)")
        let notRun = try gobench(["export", "--format", "bmf", cwd + "/nothing"], cwd: cwd)
        #expect(notRun.status == 1 && notRun.stderr.contains("not a run folder"), "\(notRun.stderr)")
    }
}
