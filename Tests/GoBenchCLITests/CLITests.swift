import Foundation
import Testing

@Suite(.serialized) struct CLITests {
    let fixtures = repositoryRoot() + "/Tests/GoBenchKitTests/Fixtures"

    @Test func listPrintsRegisteredBenchmarks() throws {
        let r = try gobench(["list"])
        #expect(r.status == 0)
        let names = r.stdout.split(separator: "\n").map(String.init)
        #expect(names.contains("harness/empty"))
        #expect(names.contains("atomic/cas/contended/threads=2"))
        let filtered = try gobench(["list", "^spin/"])
        #expect(filtered.stdout == "spin/procyield/n=30\n")
    }

    @Test func unknownSelectionsFailWithOneLine() throws {
        for args in [["list", "^no-such-benchmark$"], ["run", "^no-such-benchmark$"], ["run", "("],
                     ["run", "harness/empty", "--benchtime", "soon"], ["run", "harness/empty", "--format", "xml"]] {
            let r = try gobench(args + ["--no-save"].filter { _ in args[0] == "run" })
            #expect(r.status == 1, "\(args): \(r.status)")
            #expect(r.stderr.hasPrefix("gobench: "), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }

    @Test func runWritesTheRunFolderAndCSV() throws {
        let dir = try scratchDirectory("run")
        let r = try gobench(["run", "^harness/empty$|^atomic/cas/contended", "--benchtime", "2000x", "--count", "3",
                             "--format", "csv", "--results-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "name,impl,threads,repetition,n,metric,value,unit,better,exact,kind,process")
        #expect(lines.contains { $0.hasPrefix("harness/empty,swift,1,2,2000,ns,") })
        #expect(lines.contains { $0.hasPrefix("atomic/cas/contended/threads=2,swift,2,0,2000,parallelism,") })
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(runs.count == 1)
        let run = "\(dir)/\(runs[0])"
        #expect(try FileManager.default.contentsOfDirectory(atPath: run).sorted() == ["context.json", "report.html", "results.csv", "results.txt"])
        #expect(try String(contentsOfFile: "\(run)/results.csv", encoding: .utf8) == r.stdout)
        let goText = try String(contentsOfFile: "\(run)/results.txt", encoding: .utf8)
        #expect(goText.hasPrefix("goos: linux\ngoarch: "))
        #expect(goText.contains("\nBenchmarkHarness/empty-1 "))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/context.json"))) as? [String: String]
        #expect(json?["cores"] != nil && json?["kernel"] != nil && json?["git"] != nil)
    }

    @Test func goFormatOnStdout() throws {
        let r = try gobench(["run", "^spin/", "--benchtime", "100x", "--count", "2", "--format", "go", "--no-save"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Unit ns/op better=lower"))
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("BenchmarkSpin/procyield/n=30-1") }.count == 2)
    }

    @Test func compareExitCodes() throws {
        let aa = try gobench(["compare", "\(fixtures)/base.csv", "\(fixtures)/aa.csv"])
        #expect(aa.status == 0, "\(aa.stdout)\(aa.stderr)")
        #expect(aa.stdout.contains("no regression"))

        let out = try scratchDirectory("compare") + "/cmp.csv"
        let slow = try gobench(["compare", "\(fixtures)/base.csv", "\(fixtures)/slow10.csv", "--output", out])
        #expect(slow.status == 2)
        #expect(slow.stdout.contains("chan/pingpong"))
        #expect(slow.stdout.contains("regression"))
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        #expect(csv.hasPrefix("name,impl,metric,unit,kind,better,base_median"))
        #expect(csv.contains("chan/pingpong,swift,ns,ns/op,time,lower,"))

        let lax = try gobench(["compare", "\(fixtures)/base.csv", "\(fixtures)/slow10.csv", "--threshold", "20"])
        #expect(lax.status == 0)

        for bad in [["\(fixtures)/base.csv", "/no/such/file.csv"], ["\(fixtures)/base.csv", "\(fixtures)/malformed.csv"],
                    ["\(fixtures)/base.csv", "\(fixtures)/go119-bench.txt"]] {
            let r = try gobench(["compare"] + bad)
            #expect(r.status == 1, "\(bad)")
            #expect(r.stderr.hasPrefix("gobench: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
    }

    @Test func compareReadsGoBenchmarkText() throws {
        let r = try gobench(["compare", "\(fixtures)/go119-bench.txt", "\(fixtures)/go119-bench.txt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("mutex/uncontended"))
    }

    @Test func allRunsTheSuitesInAFolder() throws {
        let dir = try scratchDirectory("all")
        try """
            name = "tiny"
            benchtime = "500x"
            count = 2
            [[benchmark]]
            pattern = "^harness/"
            """.write(toFile: "\(dir)/tiny.toml", atomically: true, encoding: .utf8)
        let r = try gobench(["all", "--suites", dir, "--no-save", "--format", "go"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("suites: tiny"))
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("BenchmarkHarness/empty-1") }.count == 2)

        try "name = \"broken\"\n[[benchmark]]\nname = \"harness/renamed\"\n".write(toFile: "\(dir)/zz.toml", atomically: true, encoding: .utf8)
        let bad = try gobench(["all", "--suites", dir, "--no-save"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("unknown benchmark \"harness/renamed\""))

        let missing = try gobench(["all", "--suites", "\(dir)/nope", "--no-save"])
        #expect(missing.status == 1 && missing.stderr.contains("no such folder"))
    }

    @Test func reportRebuildsAndCompares() throws {
        let dir = try scratchDirectory("report")
        let run = "\(fixtures)/report-run"
        let r = try gobench(["report", run, "-o", "\(dir)/one.html"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("27 benchmarks, 162 repetitions"))
        #expect(try String(contentsOfFile: "\(dir)/one.html", encoding: .utf8).contains("<svg class=\"plot\""))
        let same = try gobench(["report", run, run, "-o", "\(dir)/two.html"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("verdict: no regression (exit 0)"))
        let bad = try gobench(["report", "\(dir)/nope"])
        #expect(bad.status == 1 && bad.stderr.hasPrefix("gobench: ") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    @Test func runWithABaselineExitsAsCompare() throws {
        let dir = try scratchDirectory("baseline")
        let args = ["run", "^harness/empty$", "--benchtime", "20000x", "--count", "6", "--results-dir", dir]
        let saved = try scratchDirectory("baseline-run")
        let base = try gobench(["run", "^harness/empty$", "--benchtime", "20000x", "--count", "6", "--results-dir", saved,
                                "--format", "csv"])
        #expect(base.status == 0, "\(base.stderr)")
        // The baseline's context (its machine fingerprint) beside it.
        let folder = "\(saved)/\(try FileManager.default.contentsOfDirectory(atPath: saved)[0])"
        try FileManager.default.copyItem(atPath: "\(folder)/context.json", toPath: "\(dir)/base-context.json")
        // The same benchmark against a base 1000 times faster: a regression.
        var rows = base.stdout.split(separator: "\n").map(String.init)
        for i in rows.indices.dropFirst() where rows[i].contains(",ns/op,") {
            var f = rows[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            f[6] = String((Double(f[6]) ?? 1) / 1000)
            rows[i] = f.joined(separator: ",")
        }
        try (rows.joined(separator: "\n") + "\n").write(toFile: "\(dir)/base.csv", atomically: true, encoding: .utf8)
        let r = try gobench(args + ["--baseline", "\(dir)/base.csv"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("regression: harness/empty ns/op"))
        #expect(r.stdout.contains("report:  \(dir)/"))
        let missing = try gobench(args + ["--baseline", "\(dir)/nope.csv"])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
    }
}
