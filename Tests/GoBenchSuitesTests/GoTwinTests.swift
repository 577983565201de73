// The name mapping between our benchmarks and Go's reference suite is
// total: every benchmark that should have a Go twin has one of the same
// name, and every Go reference benchmark has a twin here.

import Foundation
import GoBenchKit
import GoBenchReference
import GoBenchSuites
import Testing

func repositoryRoot() -> String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}

@Suite struct GoTwinTests {
    @Test func everyExemptionMatchesSomething() {
        let names = Suites.registry().benchmarks.map(\.name)
        for e in Suites.withoutGoTwin {
            #expect(names.contains { $0.contains(try! Regex(e.pattern)) }, "exemption \(e.pattern) matches nothing")
        }
    }

    @Test(.enabled(if: GoReference.locateGo() != nil, "needs the Go 1.19 toolchain (golang-1.19-go) to list Go's reference benchmarks"))
    func namesMapBothWays() throws {
        // Every Go benchmark once (-benchtime 1x) just to learn its name.
        let reference = try GoReference.prepare(moduleDirectory: repositoryRoot() + "/suites/go")
        defer { reference.cleanUp() }
        let goNames = Set(try reference.runRound(0, pattern: ".", benchTime: .iterations(1)).map(\.name))
        let ours = Set(Suites.registry().benchmarks.map(\.name).filter(Suites.hasGoTwin))
        #expect(ours.subtracting(goNames).sorted() == [], "ours without a Go twin")
        #expect(goNames.subtracting(ours).sorted() == [], "Go benchmarks without a twin here")
    }
}

@Suite struct GoTwinAllocTests {
    /// Every Go twin calls b.ReportAllocs(), so its rows carry B/op and
    /// allocs/op even without -benchmem (here: the test binary run without
    /// it), and GoText reads them into Go's rows.
    @Test(.enabled(if: GoReference.locateGo() != nil, "Go is not installed"))
    func everyGoRowReportsAllocations() throws {
        let reference = try GoReference.prepare(moduleDirectory: repositoryRoot() + "/suites/go")
        defer { reference.cleanUp() }
        let out = try Subprocess.run(reference.testBinary, ["-test.run", "^$", "-test.bench", ".", "-test.benchtime", "1x"],
                                     in: reference.moduleDirectory)
        #expect(out.status == 0, "\(out.stderr)")
        let rows = try GoText.parse(out.stdout, impl: "go").results
        #expect(rows.count > 50)
        let missing = rows.filter { $0.metric("allocs/op") == nil || $0.metric("B/op") == nil }.map(\.name)
        #expect(missing == [], "Go rows without allocs/op or B/op")
    }
}
