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
        ] {
            for b in group { r.register(b) }
        }
        return r
    }
}
