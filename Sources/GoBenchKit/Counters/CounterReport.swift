// The text of `gobench counters`: the preflight per event, the group
// summary that runs put into their context, and a self-test that counts a
// known workload through the same per-thread groups a run uses.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum CounterReport {
    /// The preflight as a table plus the summary lines.
    public static func text(_ a: CounterAvailability, pmus: [String]) -> String {
        var rows: [[String]] = [["event", "group", "encoding", "status"]]
        for c in a.checks {
            let group = c.event?.kind.rawValue ?? "-"
            let enc = c.event.map { e in
                "type=\(e.type) config=0x\(String(e.config, radix: 16))" + (e.encodedAs.isEmpty ? "" : " (\(e.encodedAs))")
            } ?? "-"
            rows.append([c.name, group, enc, c.status.explanation])
        }
        var out = Console.table(rows, leftAligned: 4)
        out += "\n"
        out += "counters: \(a.summary)\n"
        out += "perf_event_paranoid: \(a.paranoid.map(String.init) ?? "unreadable")"
        out += a.userOnly ? " (counting user space only)\n" : "\n"
        out += "cpu pmu: \(a.hasCPUPMU ? "listed in /sys/bus/event_source/devices" : "none listed in /sys/bus/event_source/devices (no PMU driver: a VM without a virtual PMU?)")\n"
        out += "libpfm4 pmus: \(pmus.isEmpty ? "none" : pmus.joined(separator: ","))\n"
        if !a.available(.hardware).isEmpty || a.checks.allSatisfy({ $0.event?.kind != .hardware }) {
            out += "hardware: counted per op where available\n"
        } else {
            out += "hardware: none countable here; for exact instruction counts use "
                + "`gobench run --instructions callgrind <regex>`\n"
        }
        return out
    }

    /// Counts a known workload (about 10 ms of spinning, a 2 ms sleep, and
    /// touching 4 MiB of fresh memory) on a fresh thread through the
    /// run's own instrument, and prints what each counter saw.
    public static func selfTest(_ a: CounterAvailability) -> String {
        let instrument = CounterInstrument(availability: a)
        guard instrument.isCounting else { return "self-test: no event can be counted here\n" }
        var metrics: [Metric] = []
        var cpuNs: Int64 = 0
        runOnThreads(1) { _ in
            let probe = instrument.makeProbe(benchmark: "self-test", worker: 0, threads: 1)
            let c0 = threadCPUNanos()
            probe.start()
            SelfTestWorkload.run()
            probe.stop()
            cpuNs = threadCPUNanos() - c0
            metrics = instrument.collect(benchmark: "self-test", repetition: 0, probes: [probe], n: 1,
                                         wallNanoseconds: 1)
        }
        var rows: [[String]] = [["counter", "value"]]
        for m in metrics { rows.append([m.name, GoText.formatValue(m.value)]) }
        rows.append(["(thread cpu-ns)", String(cpuNs)])
        return "self-test (10 ms spin, 2 ms sleep, 4 MiB of fresh pages, on a worker thread):\n"
            + Console.table(rows, leftAligned: 1)
    }
}

/// A workload with known effects on the software counters.
enum SelfTestWorkload {
    static func run() {
        // Spin ~10 ms of CPU: task-clock.
        let end = threadCPUNanos() + 10_000_000
        var x: UInt64 = 88172645463325252
        while threadCPUNanos() < end {
            for _ in 0..<1000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
        }
        blackHole(x)
        // Sleep: at least one context switch.
        usleep(2000)
        // Fresh pages: one page fault each.
        let size = 4 << 20
        if let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            let bytes = p.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < size { bytes[i] = 1; i += 4096 }
            munmap(p, size)
        }
    }
}
