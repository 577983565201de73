// End-to-end: allocation counts and peak memory in a run's context and
// metrics, and --no-allocs, by running the built gobench binary.

import Foundation
import Testing

@Suite struct AllocCLITests {
    /// glibc malloc+free of 16 B: exactly one allocation, 16 bytes and one
    /// free per op, in CSV and Go text alike.
    @Test func runReportsAllocationsAndPeakMemory() throws {
        let csv = try gobench(["run", "^malloc/glibc/size=16$", "--benchtime", "2000x", "--count", "2",
                               "--format", "csv", "--no-save", "--counters", "none"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        func values(_ unit: String) -> [String] { rows.filter { $0.count > 7 && $0[7] == unit }.map { String($0[6]) } }
        #expect(values("allocs/op") == ["1", "1"], "\(csv.stdout)")
        #expect(values("B/op") == ["16", "16"])
        #expect(values("frees/op") == ["1", "1"])
        #expect(rows.contains { $0.count > 9 && $0[7] == "allocs/op" && $0[9] == "true" }, "allocs/op is exact")
        #expect(values("peak-rss-MiB").count == 2)

        let text = try gobench(["run", "^malloc/glibc/size=16$", "--benchtime", "2000x", "--count", "1",
                                "--format", "go", "--no-save", "--counters", "none"])
        #expect(text.stdout.contains("\nallocs: on: "), "\(text.stdout)")
        #expect(text.stdout.contains("\npeak-rss: ") && text.stdout.contains("MiB (largest repetition's VmHWM over the worker processes)"), "\(text.stdout)")
        #expect(text.stdout.contains("Unit allocs/op better=lower assume=exact"))
        #expect(text.stdout.contains("\t16 B/op\t1 frees/op") || text.stdout.contains("1 allocs/op\t16 B/op"), "\(text.stdout)")
    }

    @Test func noAllocsTurnsThemOffAndSaysSo() throws {
        let o = try gobench(["run", "^malloc/glibc/size=16$", "--benchtime", "1000x", "--count", "1",
                             "--format", "go", "--no-save", "--counters", "none", "--no-allocs"])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.contains("\nallocs: off (--no-allocs)"), "\(o.stdout)")
        #expect(!o.stdout.contains("allocs/op"))
        #expect(o.stdout.contains("ns/op"))
    }
}
