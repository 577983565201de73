// A smoke test of every registered benchmark: the whole registry goes
// through the real Runner at n = 1 (`--benchtime 1x`), one warm-up run and
// two counted repetitions, interleaved round by round as `gobench all` runs
// them. Every repetition must report ns/op, cpu-ns/op, parallelism when the
// benchmark has more than one thread, and exactly the metrics the benchmark
// declares in `declaredMetrics` below (what its setup hands to run.report),
// with finite, non-negative values; both repetitions report the same
// metrics. The body's own checks run too (lost increments, the stack
// model's verified recursion, the allocator's double-free detection): one
// that fails stops the child process, and the test reports its stderr.
//
// Why a child process. The benchmarks drive process-wide state of the
// ports (the sync and channel event counters, the semaphore table, the
// stack pools) that GoRuntimeTests, running in parallel in the same test
// process, compare exactly. An exit test runs the benchmarks alone in a
// fresh copy of the test binary, which hands its results back as JSON
// lines on stdout; the expectations are checked here, in the parent.
//
// What n = 1 can and cannot show. One op is enough to prove that a body
// runs, that its setup and teardown pair up, and which metrics it reports;
// it is not a measurement. So values are checked only for what one op
// decides: a fresh 2 KiB stack recursing 100 frames of 64 bytes must copy,
// a segmented one must link a segment, a stack already grown must not
// copy, a map made with its capacity never evacuates, an allocator maps
// its heap, a share lies in [0, 1]. Ratios such as parallelism (thread CPU
// time over wall time, where two clock reads outweigh one op) are only
// checked to be present and non-negative.

import Foundation
import GoBenchKit
import GoBenchSuites
import Testing

/// One counted repetition as the child reports it.
struct SmokeRecord: Codable {
    var name: String
    var threads: Int
    var repetition: Int
    var n: Int
    var metrics: [Metric]
}

/// What the child prints: one line per repetition, then one with its time.
enum SmokeLine {
    static let record = "SMOKE-RECORD "
    static let seconds = "SMOKE-SECONDS "
}

/// The child process's work: run the whole registry and print the results.
func runSmokeChild() throws {
    let plans = Suites.registry().benchmarks.map {
        BenchmarkPlan($0, benchTime: .iterations(1), count: 2)
    }
    // Seconds per benchmark, from the runner's progress lines ("calibrating
    // NAME", "round 1/2 NAME"): each line starts that benchmark's next run.
    var spent: [String: Double] = [:]
    var current: (name: String, since: Int64)?
    func charge(until now: Int64) {
        if let c = current { spent[c.name, default: 0] += Double(now - c.since) / 1e9 }
    }
    let runner = Runner()
    runner.progress = { line in
        let now = monotonicNanos()
        charge(until: now)
        current = (String(line.split(separator: " ").last ?? ""), now)
    }
    let start = monotonicNanos()
    let results = try runner.run(plans)
    let end = monotonicNanos()
    charge(until: end)
    let seconds = Double(end - start) / 1e9
    let slowest = spent.sorted { $0.value > $1.value }.prefix(6)
        .map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }.joined(separator: ", ")
    let encoder = JSONEncoder()
    for r in results {
        let record = SmokeRecord(name: r.name, threads: r.threads, repetition: r.repetition, n: r.n, metrics: r.metrics)
        print(SmokeLine.record + String(decoding: try encoder.encode(record), as: UTF8.self))
    }
    // CPU time too: on a loaded machine the wall time is mostly waiting.
    var usage = rusage()
    getrusage(__rusage_who_t(0), &usage)   // RUSAGE_SELF
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    print(SmokeLine.seconds + String(format: "%.1f s wall, %.1f s CPU", seconds, cpu) + " (slowest: \(slowest))")
}

/// The metrics each benchmark reports besides ns/op, cpu-ns/op and
/// parallelism, by name pattern (unanchored); a benchmark declares the
/// union of the lists whose pattern it matches. Adding a run.report to a
/// benchmark means adding its unit here.
let declaredMetrics: [(pattern: String, units: [String])] = {
    let syncEvents = ["slow/op", "spins/op", "pauses/op", "sleeps/op", "wakeups/op", "handoffs/op", "starvations/op"]
    let waits = ["p50-wait-ns", "p99-wait-ns", "p999-wait-ns", "max-wait-ns"]
    let chanEvents = ["parks/op", "sleeps/op", "handoffs/op", "spins/op", "futex-wakes/op"]
    let stackCounts = ["copies/op", "bytes-copied/op", "segments/op", "ptrs-adjusted/op"]
    let schedEvents = ["parks/op", "runnext-hits/op", "global-takes/op", "steals/op", "spin-wakeups/op", "os-ctxsw/op"]
    return [
        ("^harness/empty$", ["ns/run"]),
        ("^atomic/cas/contended/", ["retries/op"]),
        ("^(mutex|rwmutex)/(?!goroutine/)", syncEvents),
        ("^(goroutine|sched|waitgroup)/|^[a-z]+/goroutine/", schedEvents),
        ("/starvation", waits),
        ("^chan/(pingpong|buffered/)", chanEvents),
        ("^chan/select/two-ready$", ["first-case-share"]),
        ("^malloc/(size=|tiny/|noscan/|threads=)", ["refills/op", "waste-B/op", "heap-MiB"]),
        ("^map/(assign|string16/assign)/", ["evacuated/op", "overflow/op"]),
        ("^map/(access/|string16/(hit|miss)/)", ["probes/op"]),
        ("^stack/(grow|grown|hotsplit)/", stackCounts),
    ]
}()

/// Value checks that one op decides (see the file comment).
let singleOpChecks: [(pattern: String, unit: String, holds: (Double) -> Bool, meaning: String)] = [
    ("^stack/grow/depth=(100|1000|10000)$", "copies/op", { $0 >= 1 }, "a fresh 2 KiB stack grows by copying"),
    ("^stack/grow/depth=1000/mode=segmented$", "segments/op", { $0 >= 1 }, "a segmented stack links a segment"),
    ("^stack/grown/", "copies/op", { $0 == 0 }, "a stack already grown does not copy"),
    ("^map/assign/sized/", "evacuated/op", { $0 == 0 }, "a map made with its capacity never grows"),
    ("^malloc/(size=|tiny/|noscan/|threads=)", "heap-MiB", { $0 > 0 }, "the allocator mapped its heap"),
    ("^chan/select/two-ready$", "first-case-share", { $0 >= 0 && $0 <= 1 }, "a share lies in [0, 1]"),
    ("", "ns/op", { $0 > 0 }, "every timed region takes time"),
]

@Suite struct SmokeTests {
    @Test("every declared pattern names a registered benchmark")
    func declarationsMatchTheRegistry() throws {
        let names = Suites.registry().benchmarks.map(\.name)
        for d in declaredMetrics + singleOpChecks.map({ ($0.pattern, [$0.unit]) }) {
            let r = try Regex(d.pattern)
            #expect(names.contains { $0.contains(r) }, "pattern \(d.pattern) matches no benchmark")
        }
    }

    @Test("every registered benchmark runs at n=1 and reports its declared metrics")
    func everyBenchmarkRuns() async throws {
        let result = await #expect(processExitsWith: .success,
                                   observing: [\.standardOutputContent]) {
            try runSmokeChild()
        }
        // nil when the child did not exit 0: a body's check stopped it (run
        // `gobench run <name> --benchtime 1x` to see which), and the failed
        // #expect above says how it ended.
        guard let result else { return }
        let stdout = String(decoding: result.standardOutputContent, as: UTF8.self)
        let decoder = JSONDecoder()
        var records: [String: [SmokeRecord]] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix(SmokeLine.record) {
            let r = try decoder.decode(SmokeRecord.self, from: Data(line.dropFirst(SmokeLine.record.count).utf8))
            records[r.name, default: []].append(r)
        }
        if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(SmokeLine.seconds) }) {
            print("smoke: \(records.count) benchmarks at n=1, 1 warm-up + 2 repetitions each, in the child: \(line.dropFirst(SmokeLine.seconds.count))")
        }

        let registry = Suites.registry()
        #expect(records.count == registry.benchmarks.count, "benchmarks with results out of those registered")
        let declared = try declaredMetrics.map { (try Regex($0.pattern), $0.units) }
        let checks = try singleOpChecks.map { (try Regex($0.pattern), $0) }
        for b in registry.benchmarks {
            guard let reps = records[b.name] else {
                Issue.record("\(b.name): no results")
                continue
            }
            #expect(reps.map(\.repetition) == [0, 1], "\(b.name): repetitions")
            // n = 1, or one whole structure for a benchmark with an iteration quantum.
            #expect(reps.allSatisfy { $0.n == b.iterationQuantum && $0.threads == b.threads }, "\(b.name): n and threads")
            var expected: Set<String> = ["ns/op", "cpu-ns/op"]
            if b.threads > 1 || b.startsThreads { expected.insert("parallelism") }
            for (r, units) in declared where b.name.contains(r) { expected.formUnion(units) }
            for rep in reps {
                let units = rep.metrics.map(\.unit)
                #expect(Set(units).count == units.count, "\(b.name) rep \(rep.repetition): a metric reported twice: \(units)")
                #expect(Set(units) == expected,
                        "\(b.name) rep \(rep.repetition): missing \(expected.subtracting(units).sorted()), undeclared \(Set(units).subtracting(expected).sorted())")
                for m in rep.metrics {
                    #expect(m.value.isFinite && m.value >= 0, "\(b.name) rep \(rep.repetition): \(m.unit) = \(m.value)")
                }
                for (r, c) in checks where b.name.contains(r) {
                    if let v = rep.metrics.first(where: { $0.unit == c.unit })?.value {
                        #expect(c.holds(v), "\(b.name) rep \(rep.repetition): \(c.unit) = \(v), but \(c.meaning)")
                    }
                }
            }
        }
    }
}
