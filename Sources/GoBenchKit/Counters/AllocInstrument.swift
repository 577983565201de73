// Heap allocations per op, as `go test -benchmem` reports them, for every
// benchmark: each worker thread counts its own malloc-family calls from
// right before its timed loop to right after it (AllocCounter), and
// `collect` sums the workers and divides by n:
//
//   allocs/op   blocks allocated per op (exact: the count of deterministic
//               code does not vary run to run)
//   B/op        bytes requested per op (what the caller asked for, not
//               glibc's chunk sizes; Go's B/op is its size-class bytes)
//   frees/op    blocks freed per op
//
// Go truncates its per-op figures to whole numbers; ours keep the
// fraction, so a per-thread allocation made once per repetition shows as
// 1/n instead of vanishing.
//
// The session runs this instrument innermost: its probes start last and
// stop first, so nothing another probe allocates (perf group reads, the
// sampler's bookkeeping, /proc reads) is counted. Time the benchmark hides
// with `worker.stopTimer()` is hidden from the counts too, as in Go.
//
// Memory that does not come from malloc is not here: the Go allocator
// port (GoRuntime/Malloc) maps its arenas with mmap and reports its own
// growth as heap-MiB, and the map port maps its large bucket arrays
// (LargeBucketArrays) itself.
//
// Cost, in instructions per op of the timed loop (callgrind, 10,000 ops,
// scripts/alloc-cost has the paired ns/op version), for a build without
// the overrides (-DCGOBENCH_NO_ALLOC_INTERPOSER), with them and
// --no-allocs, and counting:
//
//   malloc/glibc/size=16 (malloc + free)   223.5   235.5   257.5
//   malloc/swift-class/size=16             414.5   428.5   450.5
//   map/assign/grow/n=1k                   347.8   348.2   349.0
//   map/access/hit/n=1k, chan/same-thread/cap=1, mutex/uncontended:
//                                          no allocations, no difference
//
// so about 6 instructions per heap call whenever gobench runs (the
// overrides' compare and jump), and 11 more per call while counting:
// some 15% of glibc's own cheapest malloc+free pair, less for anything
// that does more than allocate.

public final class AllocInstrument: Instrument, @unchecked Sendable {
    public let name = "allocs"
    /// Whether the user asked for the counts (`--no-allocs` turns them off).
    public let requested: Bool
    public let availability: AllocCounter.Availability

    public init(requested: Bool = true, availability: AllocCounter.Availability = AllocCounter.availability) {
        self.requested = requested
        self.availability = availability
    }

    /// Whether repetitions get allocation metrics.
    public var isCounting: Bool { requested && availability == .available }

    public var contextLines: [(key: String, value: String)] {
        let what: String
        switch (requested, availability) {
        case (false, _):
            what = "off (--no-allocs)"
        case (true, .unavailable(let reason)):
            what = "unavailable: " + reason
        case (true, .available):
            what = "on: malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign/valloc/free calls of each worker "
                + "thread in its timed region (allocs/op, B/op requested, frees/op); mmap'd memory is not counted"
        }
        return [("allocs", what)]
    }

    final class Probe: InstrumentProbe {
        let counting: Bool
        var counts = AllocCounts()

        init(counting: Bool) { self.counting = counting }

        func start() {
            if counting { AllocCounter.start() }
        }

        func stop() {
            if counting { counts = AllocCounter.stop() }
        }
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        Probe(counting: isCounting)
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        guard isCounting else { return [] }
        let total = probes.compactMap { ($0 as? Probe)?.counts }.reduce(AllocCounts(), +)
        return AllocInstrument.metrics(total, n: n)
    }

    /// The per-op metrics of `total` counts over `n` ops.
    public static func metrics(_ total: AllocCounts, n: Int) -> [Metric] {
        let perOp = Double(max(n, 1))
        return [
            // Deterministic for deterministic code, as in go test -benchmem:
            // judged without a test (allocs/op in whole allocations).
            Metric(Double(total.allocations) / perOp, unit: "allocs/op", kind: .exact),
            Metric(Double(total.bytes) / perOp, unit: "B/op", kind: .exact),
            Metric(Double(total.frees) / perOp, unit: "frees/op", kind: .count),
        ]
    }
}
