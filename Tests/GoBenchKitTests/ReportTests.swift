import Foundation
import Testing
@testable import GoBenchKit

func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    return url.path
}

let sampleResults: [RepetitionResult] = [
    RepetitionResult(name: "chan/buffered/cap=64", threads: 2, repetition: 0, n: 1_000_000, metrics: [
        Metric(52.3125, unit: "ns/op", kind: .time), Metric(98.5, unit: "cpu-ns/op", kind: .time),
        Metric(1.88, unit: "parallelism", kind: .condition), Metric(0.25, unit: "parks/op", kind: .count),
    ]),
    RepetitionResult(name: "chan/buffered/cap=64", threads: 2, repetition: 1, n: 1_000_000, metrics: [
        Metric(51.0, unit: "ns/op", kind: .time), Metric(97.25, unit: "cpu-ns/op", kind: .time),
        Metric(1.9, unit: "parallelism", kind: .condition), Metric(0.5, unit: "parks/op", kind: .count),
    ]),
    RepetitionResult(name: "harness/empty", threads: 1, repetition: 0, n: 1_000_000_000, metrics: [
        Metric(0.3125, unit: "ns/op", kind: .time), Metric(1234.5, unit: "MB/s", better: .higher, kind: .count),
        Metric(1e6, unit: "instructions/op", kind: .exact),
    ]),
]

@Suite struct CSVTests {
    @Test func roundTrips() throws {
        let text = CSV.write(sampleResults)
        #expect(text.hasPrefix("name,impl,threads,repetition,n,metric,value,unit,better,exact,kind,process\n"))
        let back = try CSV.parse(text)
        #expect(back == sampleResults)
    }

    @Test func quotesFieldsThatNeedIt() throws {
        let odd = [RepetitionResult(name: "weird,\"name\"\nhere", threads: 1, repetition: 0, n: 1,
                                    metrics: [Metric(1.5, unit: "ns/op", kind: .time)])]
        let text = CSV.write(odd)
        #expect(text.contains("\"weird,\"\"name\"\"\nhere\""))
        #expect(try CSV.parse(text) == odd)
    }

    @Test func fullPrecisionValues() throws {
        let v = 0.1 + 0.2
        let r = [RepetitionResult(name: "x", threads: 1, repetition: 0, n: 1, metrics: [Metric(v, unit: "ns/op", kind: .time)])]
        #expect(try CSV.parse(CSV.write(r))[0].metrics[0].value == v)
    }

    @Test(arguments: [
        ("", "empty"),
        ("name,repetition\nx,0\n", "header must have"),
        ("name,repetition,n,value,unit\nx,0,10,1.0\n", "4 fields"),
        ("name,repetition,n,value,unit\nx,zero,10,1.0,ns/op\n", "repetition"),
        ("name,repetition,n,value,unit\nx,0,10,fast,ns/op\n", "not a number"),
        ("name,repetition,n,value,unit\nx,0,10,\"1.0,ns/op\n", "unterminated"),
        ("name,repetition,n,value,unit,better\nx,0,10,1.0,ns/op,sideways\n", "better"),
        ("name,repetition,n,value,unit\nx,0,10,NaN,ns/op\n", "not finite"),
        ("name,repetition,n,value,unit\nx,0,10,1e999,ns/op\n", "not finite"),
        ("name,repetition,n,value,unit\nx,0,10,-inf,parks/op\n", "not finite"),
        ("name,repetition,n,value,unit\nx,0,10,-3,ns/op\n", "cannot be negative"),
        ("name,repetition,n,value,unit,kind\nx,0,10,3,ns/op,fuzzy\n", "kind"),
        ("name,repetition,n,value,unit,process\nx,0,10,3,ns/op,-1\n", "process"),
    ])
    func rejectsMalformedInput(text: String, message: String) {
        do {
            _ = try CSV.parse(text)
            Issue.record("accepted malformed CSV")
        } catch let e as FormatError {
            #expect(e.description.contains(message), "\(e.description)")
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func readableByPythonCSV() throws {
        // Standard tools read the file as-is: Python's csv module gives the
        // same rows and values.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-csv-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("r.csv").path
        try AtomicFile.write(CSV.write(sampleResults), to: path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import csv,sys
            rows = list(csv.DictReader(open(sys.argv[1])))
            print(len(rows), sum(float(r['value']) for r in rows if r['unit'] == 'ns/op'))
            """, path]
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return }   // no python3: nothing to check
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "11 103.625")
    }
}

@Suite struct GoTextTests {
    @Test func namesMapBothWays() {
        #expect(GoText.goName("chan/buffered/cap=64") == "BenchmarkChan/buffered/cap=64")
        #expect(GoText.ourName("BenchmarkChan/buffered/cap=64") == "chan/buffered/cap=64")
    }

    @Test func writesBenchstatShapedText() {
        var env = RunEnvironment()
        env["goos"] = "linux"
        env["counters"] = "hw=unavailable sw=ok"
        let text = GoText.write(environment: env, results: sampleResults)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "goos: linux")
        #expect(lines[1] == "counters: hw=unavailable sw=ok")
        #expect(lines.contains("Unit ns/op better=lower kind=time"))
        #expect(lines.contains("Unit MB/s better=higher kind=count"))
        #expect(lines.contains("Unit instructions/op better=lower assume=exact kind=exact"))
        #expect(!lines.contains { $0.hasPrefix("Unit parallelism") })
        let bench = lines.filter { $0.hasPrefix("Benchmark") }
        #expect(bench.count == 3)
        #expect(bench[0].hasPrefix("BenchmarkChan/buffered/cap=64-2"))
        let fields = bench[0].split(whereSeparator: { $0 == " " || $0 == "\t" })
        #expect(fields[1] == "1000000")
        #expect(fields[2] == "52.31" && fields[3] == "ns/op")
    }

    @Test func roundTrips() throws {
        var env = RunEnvironment()
        env["cpu"] = "Some CPU @ 2.30GHz"
        let parsed = try GoText.parse(GoText.write(environment: env, results: sampleResults))
        #expect(parsed.environment["cpu"] == "Some CPU @ 2.30GHz")
        #expect(parsed.results.count == 3)
        for (a, b) in zip(parsed.results, sampleResults) {
            #expect(a.name == b.name && a.threads == b.threads && a.n == b.n && a.repetition == b.repetition)
            #expect(a.metrics.map(\.unit) == b.metrics.map(\.unit))
            #expect(a.metrics.map(\.better) == b.metrics.map(\.better))
            #expect(a.metrics.map(\.exact) == b.metrics.map(\.exact))
            for (x, y) in zip(a.metrics, b.metrics) {
                #expect(abs(x.value - y.value) / y.value < 1e-3)
            }
        }
    }

    @Test func parsesRealGo119Output() throws {
        let text = try String(contentsOfFile: try fixture("go119-bench.txt"), encoding: .utf8)
        let parsed = try GoText.parse(text, impl: "go")
        #expect(parsed.environment["goos"] == "linux")
        #expect(parsed.environment["pkg"] == "fix")
        #expect(parsed.results.count == 6)
        let contended = parsed.results.filter { $0.name == "mutex/contended/threads=2" }
        #expect(contended.map(\.repetition) == [0, 1])
        #expect(contended.allSatisfy { $0.threads == 2 && $0.impl == "go" })
        let map = try #require(parsed.results.first { $0.name == "mapAlloc" })
        #expect(map.metric("spins/op")?.value == 3.5)
        #expect(map.metric("allocs/op")?.value == 0)
        #expect(map.metrics.map(\.unit) == ["ns/op", "spins/op", "B/op", "allocs/op"])
    }

    @Test func rejectsBrokenBenchmarkLines() {
        #expect(throws: FormatError.self) { try GoText.parse("BenchmarkX-2 100 12.5\n") }
        #expect(throws: FormatError.self) { try GoText.parse("BenchmarkX-2 100 fast ns/op\n") }
        #expect(throws: FormatError.self) { try GoText.parse("BenchmarkX-2 100 NaN ns/op\n") }
        #expect(throws: FormatError.self) { try GoText.parse("BenchmarkX-2 100 +Inf ns/op\n") }
        #expect(throws: FormatError.self) { try GoText.parse("BenchmarkX-2 100 -5 ns/op\n") }
    }

    @Test func valueFormatting() {
        #expect(GoText.formatValue(0) == "0")
        #expect(GoText.formatValue(1234.56) == "1234.6")
        #expect(GoText.formatValue(12.345) == "12.35")
        #expect(GoText.formatValue(0.0012345) == "0.001234" || GoText.formatValue(0.0012345) == "0.001235")
        #expect(GoText.formatValue(42) == "42")
    }
}

@Suite struct AtomicFileTests {
    @Test func writesThroughRenameAndLeavesNoTemporary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-atomic-\(getpid())").path
        try AtomicFile.makeDirectory(dir)
        let path = "\(dir)/out.csv"
        try AtomicFile.write("old\n", to: path)
        try AtomicFile.write("new\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.csv"])
    }

    @Test func unwritableDestinationIsAnError() {
        #expect(throws: InputError.self) { try AtomicFile.write("x", to: "/nonexistent-dir/x.csv") }
    }
}

@Suite struct FingerprintTests {
    @Test func currentMachineIsIdentifiedByCPUNumbersNotTheName() throws {
        let f = MachineFingerprint.current()
        #expect(f.cores >= 1)
        #expect(f.hash.count == 16)
        #expect(f == MachineFingerprint.current(), "the fingerprint is stable within a process")
        var other = f
        other.stepping += 1
        #expect(other.hash != f.hash)
        #expect(other.differences(from: f) == ["cpu-stepping \(f.stepping + 1) vs \(f.stepping)"])
    }

    @Test func roundTripsThroughTheRunContext() throws {
        let f = MachineFingerprint.current()
        let env = RunEnvironment(entries: f.contextEntries)
        #expect(MachineFingerprint(context: env) == f)
        #expect(MachineFingerprint(context: RunEnvironment()) == nil)
        #expect(RunEnvironment.capture()["fingerprint"] == f.hash)
    }
}
