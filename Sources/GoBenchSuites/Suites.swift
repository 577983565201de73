// Every benchmark gobench ships, one file per subsystem. This list is the
// only place that knows them all; `gobench list` prints it in this order.

import GoBenchKit

public enum Suites {
    /// All registered benchmarks.
    public static func registry() -> Registry {
        var r = Registry()
        for group in [
            harnessBenchmarks(),
            syncBenchmarks(),
            chanBenchmarks(),
            mapBenchmarks(),
            mallocBenchmarks(),
            stackBenchmarks(),
            goroutineBenchmarks(),
        ] {
            for b in group { r.register(b) }
        }
        return r
    }

    /// Benchmarks with no twin in Go's reference suite (suites/go), and
    /// why: the Swift alternatives a user would pick instead, experiments
    /// Go cannot run, and the harness's own yardsticks. Every other
    /// registered benchmark has a Go twin of the same name, and every Go
    /// reference benchmark has a twin here (checked by a test).
    public static let withoutGoTwin: [(pattern: String, reason: String)] = [
        ("^harness/(calibrate|xorshift/)", "harness yardsticks for calibration and instruction counts"),
        ("^alt/", "Swift's own locks (Synchronization.Mutex, pthread)"),
        ("^chan/alt/", "Swift alternatives to a channel"),
        ("^chan/select/nonblocking-empty/tryReceive$", "the call Go compiles a one-case select into; Go's twin is the select itself"),
        ("^mutex/starvation/mode=off$", "Go cannot switch starvation mode off"),
        ("^dict/", "Swift's Dictionary beside the Go map"),
        ("^malloc/(glibc|swift-class)/", "glibc malloc and Swift class instances beside Go's allocator"),
        ("^stack/swift-recursion/", "Swift's native stack beside the model"),
        ("mode=segmented", "segmented stacks left Go in 1.4"),
    ]

    /// Whether `name` should have a Go twin.
    public static func hasGoTwin(_ name: String) -> Bool {
        !withoutGoTwin.contains { name.contains(try! Regex($0.pattern)) }
    }
}
