// How the reports lay out these suites: which benchmark is shown beside
// which (the Swift alternative under the port it is the alternative to),
// every benchmark's headline metrics, and the approximate working set per
// element of the map families (for "where the curve bends" in the
// complexity fits).

import GoBenchKit

extension Suites {
    public static func reportLayout(_ registry: Registry = Suites.registry()) -> ReportLayout {
        var primary: [String: [String]] = [:]
        for b in registry.benchmarks { primary[b.name] = b.primaryMetrics }
        return ReportLayout(
            twins: [
                .init(twin: "dict/", of: "map/"),
                .init(twin: "alt/pthread-mutex/", of: "mutex/"),
                .init(twin: "alt/synchronization-mutex/", of: "mutex/"),
                .init(twin: "alt/pthread-rwlock/", of: "rwmutex/"),
                .init(twin: "malloc/glibc/", of: "malloc/"),
                .init(twin: "malloc/swift-class/", of: "malloc/"),
                .init(twin: "stack/swift-recursion/", of: "stack/grow/"),
            ],
            primaryMetrics: primary,
            // HashMap<Int64, Int64>: a bucket of 8 slots is 8 tophash
            // bytes + 8 keys + 8 values + an overflow pointer = 144 B, at
            // the 6.5/8 load factor growth leaves it with ~22 B per entry.
            // Dictionary<Int64, Int64>: 16 B of key and value at a 3/4
            // maximum load, ~21-32 B; 24 taken.
            footprints: [(prefix: "map/", bytesPerElement: 22), (prefix: "dict/", bytesPerElement: 24)])
    }
}
