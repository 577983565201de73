// Perf counters: event names, the preflight, per-thread groups and the
// per-op metrics they give, on any machine: where there is no PMU the
// hardware events must be reported n/a and the run must still succeed;
// where there is one, they must produce numbers.

import Foundation
import Testing
@testable import GoBenchKit
#if canImport(Glibc)
import Glibc
#endif

/// Runs one benchmark for one counted repetition of `n` with `instrument`.
private func runCounted(_ b: Benchmark, n: Int, _ instrument: Instrument) -> RepetitionResult {
    Runner(instruments: [instrument]).runRepetition(b, n: n, repetition: 0)
}

/// ~`rounds` dependent xorshift rounds: CPU work with no syscalls.
@inline(never)
private func spin(_ rounds: Int) -> UInt64 {
    var x: UInt64 = 0x2545_F491_4F6C_DD1D
    for _ in 0..<rounds { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
    return x
}

/// Maps `bytes` of fresh anonymous memory, writes one byte per page (one
/// page fault each) and unmaps it.
private func touchFreshPages(_ bytes: Int) {
    guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
        Issue.record("mmap failed")
        return
    }
    let b = p.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i < bytes { b[i] = 1; i += 4096 }
    munmap(p, bytes)
}

private let spinBenchmark = Benchmark.simple("test/spin") { w in
    for _ in 0..<w.n { blackHole(spin(200)) }
}

/// Open perf_event fds of this process. Other suites run in parallel in
/// the same process and open and close their own, so callers compare with
/// slack and look for growth over many runs.
private func openPerfEventCount() -> Int {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.filter {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "")
            .contains("perf_event")
    }.count
}

@Suite struct CounterNameTests {
    @Test func encodesPerfNamesThroughLibpfm4() throws {
        let cycles = try EventNames.encode("cycles").get()
        #expect(cycles.type == PerfType.hardware && cycles.config == 0 && cycles.kind == .hardware)
        let l1 = try EventNames.encode("L1-dcache-load-misses").get()
        // PERF_COUNT_HW_CACHE_L1D | OP_READ << 8 | RESULT_MISS << 16
        #expect(l1.type == PerfType.hardwareCache && l1.config == 0x10000 && l1.kind == .hardware)
        let expected: [String: UInt64] = ["task-clock": 1, "page-faults": 2, "context-switches": 3, "cpu-migrations": 4]
        for (name, config) in expected {
            let e = try EventNames.encode(name).get()
            #expect(e.type == PerfType.software && e.config == config && e.kind == .software, "\(name)")
        }
        guard case .failure(let err) = EventNames.encode("no-such-event-anywhere") else {
            Issue.record("an unknown name encoded")
            return
        }
        #expect(err.reason.contains("not found"))
        #expect(EventNames.detectedPMUs().contains("perf"))
    }

    @Test func units() {
        #expect(CounterEvent(name: "task-clock", type: 1, config: 1).unit == "task-clock-ns/op")
        #expect(CounterEvent(name: "cycles", type: 0, config: 0).unit == "cycles/op")
        #expect(CounterEvent(name: "page-faults", type: 1, config: 2).unit == "page-faults/op")
    }

    @Test func selectionParsing() throws {
        #expect(try CounterSelection.parse("default") == CounterSelection.defaultNames)
        #expect(try CounterSelection.parse("none") == [])
        #expect(try CounterSelection.parse("cycles, default,cycles") == CounterSelection.defaultNames)
        #expect(try CounterSelection.parse("page-faults,L1-dcache-load-misses") == ["page-faults", "L1-dcache-load-misses"])
        #expect(throws: SelectionError.self) { try CounterSelection.parse("none,cycles") }
        #expect(throws: SelectionError.self) { try CounterSelection.parse(" , ") }
    }

    @Test func errnoClassification() {
        #expect(CounterStatus.classify(errno: ENOENT, paranoid: 2) == .notSupported(errno: ENOENT))
        #expect(CounterStatus.classify(errno: EOPNOTSUPP, paranoid: 2) == .notSupported(errno: EOPNOTSUPP))
        let denied = CounterStatus.classify(errno: EACCES, paranoid: 3)
        #expect(denied == .notPermitted(errno: EACCES, paranoid: 3))
        #expect(denied.explanation.contains("perf_event_paranoid is 3"))
        #expect(denied.short == "n/a(EACCES: not permitted)")
        #expect(CounterStatus.classify(errno: EPERM, paranoid: nil) == .notPermitted(errno: EPERM, paranoid: nil))
        #expect(CounterStatus.classify(errno: EINVAL, paranoid: 2) == .failed(errno: EINVAL))
    }

    @Test func scalingAndDerivedRatios() {
        let multiplexed = GroupReading(timeEnabled: 1000, timeRunning: 250, values: [10, 3])
        #expect(multiplexed.scale == 4)
        #expect(multiplexed.scaledValues == [40, 12])
        #expect(GroupReading(timeEnabled: 10, timeRunning: 10, values: [7]).scaledValues == [7])
        #expect(GroupReading(timeEnabled: 10, timeRunning: 0, values: [7]).scale == nil)

        let d = DerivedCounters.metrics(totals: ["instructions": 300, "cycles": 100, "branch-misses": 5, "branches": 50,
                                                 "cache-misses": 1])
        #expect(d.first { $0.unit == "IPC" }?.value == 3)
        #expect(d.first { $0.unit == "IPC" }?.better == .higher)
        #expect(d.first { $0.unit == "branch-miss-%" }?.value == 10)
        #expect(!d.contains { $0.unit == "cache-miss-%" }, "no cache-references: no rate")
    }

    @Test func summariesNameTheReason() {
        let hw = CounterEvent(name: "cycles", type: 0, config: 0)
        let sw = CounterEvent(name: "task-clock", type: 1, config: 1)
        let a = CounterAvailability(checks: [CounterCheck(name: "cycles", event: hw, status: .notSupported(errno: ENOENT)),
                                             CounterCheck(name: "task-clock", event: sw, status: .available)],
                                    userOnly: false, paranoid: 2, hasCPUPMU: false)
        #expect(a.summary == "hw=unavailable(ENOENT: no PMU) sw=ok")
        #expect(a.eventSummary == "cycles=n/a(ENOENT: not supported) task-clock=ok")
        #expect(a.available(.software) == [sw] && a.available(.hardware).isEmpty)
    }
}

@Suite(.serialized) struct CounterRunTests {
    /// An event of a perf type no kernel has: ENOENT on every machine.
    static let missing = CounterEvent(name: "test-missing", type: 0x7FFF_0000, config: 0)

    @Test func unsupportedEventsAreNAndTheRunSucceeds() throws {
        var events = [Self.missing]
        events.append(try EventNames.encode("cycles").get())
        events.append(try EventNames.encode("task-clock").get())
        let a = CounterPreflight.run(events: events)
        #expect(a.checks[0].status == .notSupported(errno: ENOENT))
        #expect(a.checks[2].status == .available)
        let instrument = CounterInstrument(availability: a)
        let context = instrument.contextLines.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        #expect(context.contains("test-missing=n/a(ENOENT: not supported)"))

        let r = runCounted(spinBenchmark, n: 2_000, instrument)
        #expect(r.metric("ns/op") != nil)
        #expect(r.metric("test-missing/op") == nil)
        #expect((r.metric("task-clock-ns/op")?.value ?? 0) > 0)
        // cycles: counted where this machine has a PMU, n/a where not.
        if a.checks[1].status.isAvailable {
            #expect((r.metric("cycles/op")?.value ?? 0) > 0)
        } else {
            #expect(r.metric("cycles/op") == nil)
            #expect(context.contains("cycles=n/a("))
        }
    }

    @Test func taskClockMatchesThreadCPUTime() throws {
        let instrument = CounterInstrument(names: ["task-clock", "context-switches", "page-faults"])
        try #require(instrument.isCounting)
        // About 20-40 ms of CPU in a debug build.
        let r = runCounted(spinBenchmark, n: 20_000, instrument)
        let task = try #require(r.metric("task-clock-ns/op")).value
        let cpu = try #require(r.metric("cpu-ns/op")).value
        #expect(task > 0.8 * cpu && task < 1.25 * cpu, "task-clock \(task) vs cpu \(cpu) ns/op")
        #expect(try #require(r.metric("context-switches/op")).value < 0.05)
        #expect(try #require(r.metric("page-faults/op")).value < 0.5)
    }

    /// A body that starts a thread of its own (as the goroutine rows'
    /// schedulers do) has that thread's task-clock counted when it says so
    /// (worker 0's events are inherited), and not otherwise.
    @Test func taskClockFollowsTheThreadsABodyStarts() throws {
        func taskClock(_ startsThreads: Bool) throws -> Double {
            let instrument = CounterInstrument(names: ["task-clock"])
            try #require(instrument.isCounting)
            let b = Benchmark("test/counted-child", startsThreads: startsThreads) { _ in
                { _ in runBusyChildThread(cpuNanoseconds: 20_000_000) }   // CalibrationTests.swift
            }
            return try #require(runCounted(b, n: 1, instrument).metric("task-clock-ns/op")).value
        }
        let inherited = try taskClock(true)
        #expect(inherited >= 15_000_000, "the child's 20 ms: \(inherited) ns")
        let own = try taskClock(false)
        #expect(own < 5_000_000, "the harness thread only waits in join: \(own) ns")
    }

    @Test func contextSwitchesRiseWhenSleeping() throws {
        let instrument = CounterInstrument(names: ["context-switches"])
        try #require(instrument.isCounting)
        let sleeper = Benchmark.simple("test/sleep") { w in
            for _ in 0..<w.n { usleep(200) }
        }
        let r = runCounted(sleeper, n: 30, instrument)
        let cs = try #require(r.metric("context-switches/op")).value
        #expect(cs >= 0.9, "each sleep blocks the thread once: \(cs)/op")
    }

    @Test func pageFaultsRiseForFreshMemory() throws {
        let instrument = CounterInstrument(names: ["page-faults"])
        try #require(instrument.isCounting)
        let toucher = Benchmark.simple("test/touch") { w in
            for _ in 0..<w.n { touchFreshPages(64 * 4096) }
        }
        let r = runCounted(toucher, n: 20, instrument)
        let pf = try #require(r.metric("page-faults/op")).value
        #expect(pf >= 60 && pf < 1000, "64 fresh pages per op (TSan adds shadow-page faults): \(pf) faults/op")
    }

    @Test func perThreadGroupsCountWorkerThreads() throws {
        let instrument = CounterInstrument(names: ["task-clock", "page-faults"])
        try #require(instrument.isCounting)
        // Only worker 1 touches memory; the coordinating thread does
        // nothing. Counts can only come from the workers' own groups.
        let mixed = Benchmark("test/mixed", threads: 2) { _ in
            return { w in
                for _ in 0..<w.n {
                    if w.index == 1 { touchFreshPages(64 * 4096) } else { blackHole(spin(2_000)) }
                }
            }
        }
        let fdsBefore = openPerfEventCount()
        let r = runCounted(mixed, n: 40, instrument)
        let pf = try #require(r.metric("page-faults/op")).value
        #expect(pf >= 30 && pf < 500, "worker 1 faults 64 pages per op on half the ops: \(pf)/op")
        let task = try #require(r.metric("task-clock-ns/op")).value
        let cpu = try #require(r.metric("cpu-ns/op")).value
        #expect(task > 0.8 * cpu && task < 1.25 * cpu, "both threads' task-clock \(task) vs cpu \(cpu) ns/op")
        // 2 workers x 2 events: a leak would add 4 fds per repetition.
        for _ in 0..<10 { _ = runCounted(mixed, n: 4, instrument) }
        let fdsAfter = openPerfEventCount()
        #expect(fdsAfter <= fdsBefore + 6, "groups are closed after each repetition: \(fdsBefore) -> \(fdsAfter) perf fds")
    }

    @Test func noneStillReportsAvailability() {
        let off = CounterInstrument(names: [])
        #expect(!off.isCounting)
        let line = off.contextLines.first { $0.key == "counters" }?.value ?? ""
        #expect(line.hasPrefix("off (--counters none); hw="))
        #expect(line.contains("sw=ok"))
        let r = runCounted(spinBenchmark, n: 100, off)
        #expect(r.metric("task-clock-ns/op") == nil)
    }
}

@Suite struct CallgrindOutputTests {
    static let dump = """
        # callgrind format
        version: 1
        creator: callgrind-3.19.0
        cmd:  ./gobench run ^harness/empty$
        part: 1
        desc: I1 cache: 
        desc: Timerange: Basic block 0 - 1003
        desc: Trigger: Client Request: gobench:harness/empty:rep=0:n=1000

        positions: line
        events: Ir
        summary: 0

        ob=(1) /tmp/gobench
        fn=(0) main
        0 6014

        totals: 6014
        """

    @Test func readsTotalsAndTrigger() throws {
        let d = try CallgrindDump.parse(Self.dump)
        #expect(d.requestName == "gobench:harness/empty:rep=0:n=1000")
        #expect(d.total("Ir") == 6014)
        #expect(d.total("Dr") == nil)
        #expect(CallgrindClientInstrument.triggerName(benchmark: "harness/empty", repetition: 0, n: 1000)
                == d.requestName)
        let twoEvents = try CallgrindDump.parse("events: Ir Dr\ntotals: 10 4\n")
        #expect(twoEvents.total("Dr") == 4 && twoEvents.requestName == nil)
        #expect(throws: FormatError.self) { try CallgrindDump.parse("events: Ir\n") }
        #expect(throws: FormatError.self) { try CallgrindDump.parse("events: Ir\ntotals: x\n") }
    }

    @Test func exactPatternMatchesOnlyTheName() throws {
        let names = ["map/get/size=1k", "map/get/size=1k.2", "a+b(c)", "spin/procyield/n=30"]
        let registry = Registry(names.map { n in Benchmark.simple(n) { _ in } })
        for n in names {
            #expect(try registry.select(CallgrindInstrument.exactPattern(n)).map(\.name) == [n])
        }
    }
}
