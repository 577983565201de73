// Go's own CPU profile beside ours: with `gobench all --with-go`, each Go
// twin also runs once under `-test.cpuprofile`, and its pprof (plus our
// SVG of it) lands in the run's profiles/ next to our profile of the same
// benchmark: <name>.go.pb.gz and <name>.go.svg. Go's profile shows Go's
// runtime frames (runtime.chansend, runtime.mapaccess1_fast64,
// sync.(*Mutex).lockSlow), so a user can see where each side spends a
// benchmark's time.
//
// Go samples at 100 Hz (runtime/pprof's fixed rate), a tenth of ours, so
// the profiled run is at least `minimumProfileTime` long to get a few
// dozen samples; it is a run of its own, not one of the timed rounds.

import Foundation
import GoBenchKit

extension GoReference {
    /// The shortest profiled run of a Go twin.
    public static let minimumProfileTime = BenchTime.nanoseconds(500_000_000)

    /// Profiles the Go twin of each of `names` once; returns the pprof
    /// files written. A twin that fails is skipped with a warning line.
    @discardableResult
    public func writeProfiles(names: [String], benchTime: BenchTime, profilesDirectory: String,
                              log: (String) -> Void = { FileHandle.standardError.write(Data(("gobench: " + $0 + "\n").utf8)) })
        throws -> [String] {
        try AtomicFile.makeDirectory(profilesDirectory)
        var time = benchTime
        if case .nanoseconds(let ns) = benchTime, case .nanoseconds(let min) = GoReference.minimumProfileTime, ns < min {
            time = GoReference.minimumProfileTime
        }
        var written: [String] = []
        for name in names {
            let stem = "\(profilesDirectory)/\(Profiler.fileName(name)).go"
            let tmp = NSTemporaryDirectory() + "gobench-goprof-\(getpid())-\(written.count).pb.gz"
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let r = try GoReference.run(testBinary, [
                "-test.run", "^$", "-test.bench", GoReference.exactBenchPattern(forName: name),
                "-test.count", "1", "-test.benchtime", time.description, "-test.cpuprofile", tmp,
            ], in: moduleDirectory)
            guard r.status == 0, let data = FileManager.default.contents(atPath: tmp) else {
                log("warning: Go profile of \(name) failed (exit \(r.status))")
                continue
            }
            try AtomicFile.write(data, to: stem + ".pb.gz")
            if let p = try? PprofProfile.decode(data) {
                let f = FoldedStacks(pprof: p)
                try AtomicFile.write(FlameGraph.svg(f, title: "\(name) (Go 1.19)",
                                                    subtitle: "go test -cpuprofile, \(f.total) samples at 100 Hz, \(time)"),
                                     to: stem + ".svg")
            }
            written.append(stem + ".pb.gz")
        }
        return written
    }
}
