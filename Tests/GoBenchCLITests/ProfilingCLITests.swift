// End-to-end tests of `gobench profile`, `gobench run --profile` and
// `gobench flamegraph`, running the built executable.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import GoBenchKit

/// A fresh scratch folder as a URL.
private func profTempDir(_ tag: String) throws -> URL {
    URL(fileURLWithPath: try scratchDirectory(tag))
}

/// Runs gobench (the shared runner) with an optional working folder.
private func profGobench(_ args: [String], cwd: URL? = nil) throws -> CLIResult {
    try gobench(args, cwd: cwd?.path)
}

private func profIsWellFormedXML(_ url: URL) throws -> Bool {
    XMLParser(data: try Data(contentsOf: url)).parse()
}

@Suite(.serialized)
struct ProfilingCLITests {
    @Test func flamegraphRejectsMalformedInputWithOneLineAndExit1() throws {
        let d = try profTempDir("fg-bad")
        defer { try? FileManager.default.removeItem(at: d) }
        let inputs: [(String, Data)] = [
            ("bad.folded", Data("main;work\nmain;other 3\n".utf8)),
            ("empty.folded", Data()),
            ("bad.pb.gz", Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03])),
            ("bad.pb", Data([0x0a, 0x04, 0x08, 0x01, 0x10, 0x00, 0xff, 0x00])),
        ]
        for (name, data) in inputs {
            let f = d.appendingPathComponent(name)
            try data.write(to: f)
            let r = try profGobench(["flamegraph", f.path, "-o", d.appendingPathComponent("out.svg").path])
            #expect(r.status == 1, "\(name): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("gobench: ") && lines[0].contains(name), "\(name): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: d.appendingPathComponent("out.svg").path))
        }
        let missing = try profGobench(["flamegraph", d.appendingPathComponent("nope.folded").path])
        #expect(missing.status == 1 && missing.stderr.split(separator: "\n").count == 1)
    }

    @Test func flamegraphDrawsFoldedAndDiff() throws {
        let d = try profTempDir("fg")
        defer { try? FileManager.default.removeItem(at: d) }
        let base = d.appendingPathComponent("base.folded"), new = d.appendingPathComponent("new.folded")
        try "main;a;b 10\nmain;c 5\n".write(to: base, atomically: true, encoding: .utf8)
        try "main;a;b 20\nmain;c 1\nmain;d 4\n".write(to: new, atomically: true, encoding: .utf8)
        let svg = d.appendingPathComponent("g.svg"), diff = d.appendingPathComponent("d.svg")
        let r1 = try profGobench(["flamegraph", new.path, "-o", svg.path])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(try profIsWellFormedXML(svg))
        let r2 = try profGobench(["flamegraph", "--diff", base.path, new.path, "-o", diff.path])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try profIsWellFormedXML(diff))
        #expect(try String(contentsOf: diff, encoding: .utf8).contains("vs base"))
    }

    /// `gobench profile` on a two-thread benchmark: files per benchmark,
    /// samples from both workers, a pprof that our flamegraph command and
    /// `go tool pprof` (where installed) read.
    @Test func profileWritesFoldedPprofAndSVGWithEveryWorker() throws {
        let d = try profTempDir("prof")
        defer { try? FileManager.default.removeItem(at: d) }
        let r = try profGobench(["profile", "^atomic/cas/contended/threads=2$", "--benchtime", "300ms",
                             "--results-dir", d.path, "--format", "go"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("from 2/2 workers"), "\(r.stderr)")
        #expect(r.stdout.contains("profile-hz"))
        #expect(r.stdout.contains("casIncrement(_:times:)"), "\(r.stdout)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: d.path)
        let prof = d.appendingPathComponent(try #require(runs.first)).appendingPathComponent("profiles")
        let base = prof.appendingPathComponent("atomic_cas_contended_threads=2")
        let folded = try String(contentsOf: base.appendingPathExtension("folded"), encoding: .utf8)
        #expect(folded.contains(";casIncrement(_:times:) "))
        #expect(try profIsWellFormedXML(base.appendingPathExtension("svg")))
        #expect(FileManager.default.fileExists(atPath: prof.appendingPathComponent("summary.txt").path))
        let pb = base.path + ".pb.gz"
        let svg2 = d.appendingPathComponent("from-pprof.svg")
        let fg = try profGobench(["flamegraph", pb, "-o", svg2.path])
        #expect(fg.status == 0, "\(fg.stderr)")
        #expect(try profIsWellFormedXML(svg2))
        if let go = ["/usr/local/bin/go", "/usr/bin/go", "/usr/lib/go-1.19/bin/go"].first(where: FileManager.default.isExecutableFile) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: go)
            p.arguments = ["tool", "pprof", "-top", pb]
            var env = ProcessInfo.processInfo.environment
            env["HOME"] = d.path
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(text)")
            #expect(text.contains("casIncrement(_:times:)"), "\(text)")
        }
    }

    /// `gobench all` profiles by default: one extra untimed repetition per
    /// benchmark writes profiles/ (per benchmark and suite-wide, with
    /// benchmarks as root frames); `--no-profile` writes none.
    @Test func allWritesProfilesByDefault() throws {
        let d = try profTempDir("all-prof")
        defer { try? FileManager.default.removeItem(at: d) }
        let suites = d.appendingPathComponent("suites"), results = d.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: suites, withIntermediateDirectories: true)
        try """
        name = "tiny"
        benchtime = "30ms"
        count = 2
        [[benchmark]]
        pattern = "^harness/xorshift/steps=64$"
        [[benchmark]]
        pattern = "^atomic/cas/uncontended$"
        """.write(to: suites.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        let r = try profGobench(["all", "--suites", suites.path, "--results-dir", results.path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("one profiled repetition of 2 benchmarks, not in the timings"), "\(r.stderr)")
        // The timed results do not carry the profiler's metric: it sampled no timed repetition.
        #expect(!r.stdout.contains("profile-hz"))
        let run = results.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: results.path).first))
        let prof = run.appendingPathComponent("profiles")
        for b in ["harness_xorshift_steps=64", "atomic_cas_uncontended"] {
            for ext in ["folded", "pb.gz", "svg"] {
                #expect(FileManager.default.fileExists(atPath: prof.appendingPathComponent("\(b).\(ext)").path), "\(b).\(ext)")
            }
        }
        let suite = try String(contentsOf: prof.appendingPathComponent("_all.folded"), encoding: .utf8)
        let roots = Set(suite.split(separator: "\n").map { String($0.prefix { $0 != ";" }) })
        #expect(roots == ["harness/xorshift/steps=64", "atomic/cas/uncontended"], "\(roots)")
        #expect(try profIsWellFormedXML(prof.appendingPathComponent("_all.svg")))
        let summary = try String(contentsOf: prof.appendingPathComponent("summary.txt"), encoding: .utf8)
        #expect(summary.contains("symbolization: "), "\(summary)")
        // report.html is written after the profiled pass, so it links what it wrote.
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("href=\"profiles/harness_xorshift_steps=64.svg\""), "report.html does not link the flame graph")
        #expect(html.contains("href=\"profiles/_all.svg\""))

        let none = d.appendingPathComponent("runs-none")
        let r2 = try profGobench(["all", "--suites", suites.path, "--results-dir", none.path, "--no-profile", "--format", "csv"])
        #expect(r2.status == 0, "\(r2.stderr)")
        let run2 = none.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: none.path).first))
        #expect(!FileManager.default.fileExists(atPath: run2.appendingPathComponent("profiles").path))
        let bad = try profGobench(["all", "--suites", suites.path, "--no-save", "--no-profile", "--profile"])
        #expect(bad.status == 1 && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    /// `compare` of two run folders with profiles/ writes a differential
    /// flame graph for the regressed benchmark only.
    @Test func compareWritesADifferentialGraphPerRegression() throws {
        let d = try profTempDir("cmp-diff")
        defer { try? FileManager.default.removeItem(at: d) }
        func run(_ tag: String, ns: [Double], hot: Int64) throws -> URL {
            let dir = d.appendingPathComponent(tag)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("profiles"), withIntermediateDirectories: true)
            var csv = "name,impl,threads,repetition,n,metric,value,unit,better,exact\n"
            for (i, v) in ns.enumerated() {
                csv += "x/slow,swift,1,\(i),1000,ns,\(v),ns/op,lower,false\n"
                csv += "x/same,swift,1,\(i),1000,ns,\(10 + Double(i % 2) * 0.01),ns/op,lower,false\n"
            }
            try csv.write(to: dir.appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
            for b in ["x_slow", "x_same"] {
                var p = PprofProfile()
                p.sampleTypes = [.init(type: "samples", unit: "count")]
                p.functions = [.init(id: 1, name: "main", systemName: "main", file: ""),
                               .init(id: 2, name: "hot", systemName: "hot", file: "")]
                p.locations = [.init(id: 1, mappingID: 0, address: 0x10, functionIDs: [1]),
                               .init(id: 2, mappingID: 0, address: 0x20, functionIDs: [2])]
                p.samples = [.init(locationIDs: [2, 1], values: [hot]), .init(locationIDs: [1], values: [50])]
                p.comments = ["gobench ops=1000"]
                try p.encodeGzipped().write(to: dir.appendingPathComponent("profiles/\(b).pb.gz"))
            }
            return dir
        }
        let base = try run("base", ns: [10, 10.1, 9.9, 10, 10.05, 9.95, 10, 10.02], hot: 50)
        let new = try run("new", ns: [20, 20.1, 19.9, 20, 20.05, 19.95, 20, 20.02], hot: 150)
        let r = try profGobench(["compare", base.appendingPathComponent("results.csv").path, new.appendingPathComponent("results.csv").path])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        let diff = new.appendingPathComponent("profiles/diff")
        #expect(r.stdout.contains("differential flame graph: \(diff.path)/x_slow.diff.svg"), "\(r.stdout)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: diff.path))
        #expect(files == ["x_slow.diff.svg", "x_slow.diff.folded", "x_slow.base-per-op.pb.gz", "x_slow.new.pb.gz"], "\(files)")
        let folded = try String(contentsOf: diff.appendingPathComponent("x_slow.diff.folded"), encoding: .utf8)
        #expect(folded == "main 50 50\nmain;hot 50 150\n", "\(folded)")
        #expect(try profIsWellFormedXML(diff.appendingPathComponent("x_slow.diff.svg")))
    }

    /// Go's own `go test -cpuprofile` output draws too (where Go is installed).
    @Test func flamegraphReadsGoCPUProfiles() throws {
        guard let go = ["/usr/local/bin/go", "/usr/bin/go", "/usr/lib/go-1.19/bin/go"].first(where: FileManager.default.isExecutableFile) else { return }
        let d = try profTempDir("goprof")
        defer { try? FileManager.default.removeItem(at: d) }
        try "module goprof\ngo 1.19\n".write(to: d.appendingPathComponent("go.mod"), atomically: true, encoding: .utf8)
        try """
        package goprof
        import "testing"
        //go:noinline
        func hotLoop(n int) int { s := 0; for i := 0; i < n; i++ { s += i * i % 7 }; return s }
        func BenchmarkHot(b *testing.B) { for i := 0; i < b.N; i++ { _ = hotLoop(10000) } }
        """.write(to: d.appendingPathComponent("x_test.go"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: go)
        p.arguments = ["test", "-run", "^$", "-bench", ".", "-benchtime", "300ms", "-cpuprofile", "cpu.pb.gz"]
        p.currentDirectoryURL = d
        var env = ProcessInfo.processInfo.environment
        env["GOFLAGS"] = "-mod=mod"
        env["GOPROXY"] = "off"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "go test -cpuprofile failed")
        let svg = d.appendingPathComponent("go.svg")
        let r = try profGobench(["flamegraph", d.appendingPathComponent("cpu.pb.gz").path, "-o", svg.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try profIsWellFormedXML(svg))
        #expect(try String(contentsOf: svg, encoding: .utf8).contains("goprof.hotLoop"))
    }

    /// A malformed suite manifest (a C++ exception inside TOMLKit) gives a
    /// clean error with --profile on. (The in-process twin in
    /// ProfilingTests parses a bad manifest after libunwind was loaded.)
    @Test func malformedSuiteStillGivesACleanErrorWithProfiling() throws {
        let d = try profTempDir("suite")
        defer { try? FileManager.default.removeItem(at: d) }
        try "name = \"bad\"\n[[benchmark]\npattern = \n".write(to: d.appendingPathComponent("bad.toml"), atomically: true, encoding: .utf8)
        let r = try profGobench(["all", "--suites", d.path, "--profile", "--no-save"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("gobench: "), "\(r.stderr)")
    }
}
