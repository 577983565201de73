// The benchmark API: what a benchmark body sees, modelled on Go's testing.B.
//
// A benchmark is a name plus a `prepare` closure. For every run (each
// calibration step and each repetition) the runner calls `prepare` once,
// untimed, with a `RunContext`; prepare does the setup, may register a
// teardown, and returns the body. The runner then starts `threads` worker
// threads, releases them together from a barrier, and each calls the body
// with its `Worker`, whose `n` is that worker's share of the run's
// iterations (b.N). Only the bodies are timed.
//
//     Benchmark("mutex/contended/threads=2", threads: 2) { run in
//         let m = Mutex()                         // setup, untimed
//         run.teardown { run.report(..., unit: "spins/op") }
//         return { worker in                      // timed, on each thread
//             for _ in 0..<worker.n { m.lock(); m.unlock() }
//         }
//     }

#if canImport(Glibc)
import Glibc
#endif

/// A registered benchmark.
public struct Benchmark: Sendable {
    /// Hierarchical, Go-style name: `chan/buffered/cap=64`.
    public let name: String
    /// Worker threads that run the body concurrently.
    public let threads: Int
    /// Free-form description for `gobench list`.
    public let summary: String
    /// Units of the metrics this benchmark reports that matter as much as
    /// its time: shown in the console's one line per benchmark and judged
    /// by `compare`/`ab` beside ns/op and cpu-ns/op (the verdict policy's
    /// primary metrics). Everything else it reports is shown, not judged,
    /// unless a suite names it.
    public let primaryMetrics: [String]
    /// Iterations come in whole multiples of this. A benchmark whose op is
    /// one element of a fresh n-element structure (map/assign/sized/n=1M:
    /// a new map every n inserts) sets it to n, so that every structure it
    /// times is complete and its creation is amortized over exactly n ops,
    /// whatever b.N calibration (or callgrind's fixed count) would pick.
    /// Without it, b.N = 1.5M times one full map and one half-full one, and
    /// the per-op time moves with where b.N falls between multiples.
    public let iterationQuantum: Int
    /// The body starts OS threads of its own beyond `threads` (a goroutine
    /// scheduler with more than one P). What a deterministic counter counts
    /// in it (callgrind instructions, allocations on the harness thread)
    /// then depends on the thread schedule: one goroutine/spawn under
    /// valgrind counted 753 instructions per op in one run and 1,905 in
    /// the next. Its exact metrics are recorded as counts, which compare
    /// judges by a test over repetitions, not by any difference. Its
    /// cpu-ns/op is the whole process's CPU time over the timed region (the
    /// harness thread's alone would leave out every other M), and it
    /// reports `parallelism` like a multi-threaded benchmark.
    public let startsThreads: Bool
    /// Setup for one run; returns the timed body.
    public let prepare: @Sendable (RunContext) -> @Sendable (Worker) -> Void

    public init(
        _ name: String,
        threads: Int = 1,
        summary: String = "",
        primaryMetrics: [String] = [],
        iterationQuantum: Int = 1,
        startsThreads: Bool = false,
        prepare: @escaping @Sendable (RunContext) -> @Sendable (Worker) -> Void
    ) {
        precondition(threads >= 1, "a benchmark needs at least one thread")
        precondition(iterationQuantum >= 1, "an iteration quantum is at least 1")
        self.iterationQuantum = iterationQuantum
        self.startsThreads = startsThreads
        self.name = name
        self.threads = threads
        self.summary = summary
        self.primaryMetrics = primaryMetrics
        self.prepare = prepare
    }

    /// A benchmark with no setup: `body` runs `worker.n` iterations itself.
    public static func simple(
        _ name: String, threads: Int = 1, summary: String = "", primaryMetrics: [String] = [],
        body: @escaping @Sendable (Worker) -> Void
    ) -> Benchmark {
        Benchmark(name, threads: threads, summary: summary, primaryMetrics: primaryMetrics) { _ in body }
    }
}

/// One run of one benchmark (a calibration step or a repetition): the
/// setup's view of it. Not shared with workers except through the body's
/// captures; `report` and `teardown` are for the setup and teardown code.
public final class RunContext: @unchecked Sendable {
    /// Total iterations of this run, summed over the workers (b.N).
    public let n: Int
    /// Worker threads of this run.
    public let threads: Int
    /// True for calibration runs, whose results are thrown away.
    public let isCalibration: Bool

    var teardowns: [() -> Void] = []
    var reported: [Metric] = []
    /// Wall time of the timed region, known when teardowns run.
    public internal(set) var elapsedNanoseconds: Int64 = 0

    init(n: Int, threads: Int, isCalibration: Bool) {
        self.n = n
        self.threads = threads
        self.isCalibration = isCalibration
    }

    /// Code to run after the timed region (untimed), in reverse order of
    /// registration, like Go's b.Cleanup.
    public func teardown(_ body: @escaping () -> Void) {
        teardowns.append(body)
    }

    /// Go's `b.ReportMetric(value, unit)`: a custom per-run metric, already
    /// normalised by the caller (divide totals by `n` for a "/op" unit).
    /// Reporting a unit twice keeps the last value. `kind` says what it is:
    /// a count of events per op unless told otherwise (`.time` for a
    /// duration such as p99-wait-ns, `.exact` for a deterministic count);
    /// with `better: .neither` it is a condition of the run.
    public func report(_ value: Double, unit: String, better: Better = .lower, kind: MetricKind? = nil) {
        reported.removeAll { $0.unit == unit }
        reported.append(Metric(value, unit: unit, better: better,
                               kind: kind ?? (better == .neither ? .condition : .count)))
    }
}

/// What one worker thread sees inside the timed region.
public final class Worker: @unchecked Sendable {
    /// This worker's share of the run's iterations.
    public let n: Int
    /// 0 ..< threads.
    public let index: Int
    /// Worker threads in this run.
    public let threads: Int

    var pausedNs: Int64 = 0
    var pauseStart: Int64 = -1

    init(n: Int, index: Int, threads: Int) {
        self.n = n
        self.index = index
        self.threads = threads
    }

    /// Go's b.StopTimer: time from here to `startTimer()` is not counted,
    /// nor are this thread's heap allocations (AllocInstrument).
    /// Single-threaded benchmarks only (with several workers, one worker's
    /// pause says nothing about the others' wall time).
    public func stopTimer() {
        precondition(threads == 1, "stopTimer() is for single-threaded benchmarks")
        if pauseStart < 0 { pauseStart = monotonicNanos() }
        // As Go's StopTimer stops its memstats accounting.
        AllocCounter.pause()
    }

    /// Go's b.StartTimer: resume timing after `stopTimer()`.
    public func startTimer() {
        AllocCounter.resume()
        if pauseStart >= 0 {
            pausedNs += monotonicNanos() - pauseStart
            pauseStart = -1
        }
    }
}

/// Keeps `value` alive as far as the optimizer can tell, so a loop that only
/// computes it is not deleted. Costs one non-inlined call.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// Like `blackHole`, but also makes the optimizer forget what it knew about
/// `value`: the result is opaque. Use it to feed loop inputs.
@inline(never)
public func opaque<T>(_ value: T) -> T { value }

/// `clock` read in nanoseconds.
@inline(__always)
func clockNanos(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The monotonic clock in nanoseconds.
@inline(__always)
public func monotonicNanos() -> Int64 { clockNanos(CLOCK_MONOTONIC) }

/// The calling thread's CPU time in nanoseconds.
@inline(__always)
public func threadCPUNanos() -> Int64 { clockNanos(CLOCK_THREAD_CPUTIME_ID) }

/// The whole process's CPU time in nanoseconds (every thread, live or
/// exited): what a benchmark that starts threads of its own costs.
@inline(__always)
public func processCPUNanos() -> Int64 { clockNanos(CLOCK_PROCESS_CPUTIME_ID) }
