// Drift detection: the conditions every repetition ran under, stored as
// ordinary metrics (better = none) so they travel with the results:
//
//   steal-pct     CPU time the hypervisor took from this VM during the
//                 repetition, as a percent of all CPUs' time (/proc/stat)
//   invol-cs      involuntary context switches of the benchmark's worker
//                 threads (getrusage RUSAGE_THREAD): preemptions
//   loadavg-1m    the 1-minute load average at the end (/proc/loadavg)
//   cpu-mhz       the current frequency of CPU 0, where the kernel exposes
//                 cpufreq (not in this VM)
// plus `parallelism`, which the runner records for multi-threaded runs.
//
// `DriftFlags` marks repetitions whose conditions differ markedly from the
// rest of their benchmark's repetitions; reports and comparisons say when a
// verdict rests on flagged repetitions.

import Foundation

public final class DriftInstrument: Instrument, @unchecked Sendable {
    public let name = "drift"
    private let cpuFreqPath = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"
    private let hasCPUFreq: Bool

    public init() {
        hasCPUFreq = FileManager.default.isReadableFile(atPath: cpuFreqPath)
    }

    public var contextLines: [(key: String, value: String)] {
        [("drift", "steal-pct invol-cs loadavg-1m" + (hasCPUFreq ? " cpu-mhz" : " (no cpufreq)"))]
    }

    final class Probe: InstrumentProbe {
        let readsMachine: Bool
        var ivcs0 = 0, ivcs1 = 0
        var stat0: CPUStat?, stat1: CPUStat?

        init(readsMachine: Bool) { self.readsMachine = readsMachine }

        func start() {
            if readsMachine { stat0 = CPUStat.read() }
            ivcs0 = DriftInstrument.involuntarySwitches()
        }

        func stop() {
            ivcs1 = DriftInstrument.involuntarySwitches()
            if readsMachine { stat1 = CPUStat.read() }
        }
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        // One worker reads the machine-wide counters; all count their own
        // preemptions.
        Probe(readsMachine: worker == 0)
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        let ps = probes.compactMap { $0 as? Probe }
        var metrics: [Metric] = []
        if let p = ps.first(where: { $0.readsMachine }), let a = p.stat0, let b = p.stat1, b.total > a.total {
            let steal = Double(b.steal - a.steal) / Double(b.total - a.total) * 100
            metrics.append(.condition(steal, unit: "steal-pct"))
        }
        let ivcs = ps.reduce(0) { $0 + max(0, $1.ivcs1 - $1.ivcs0) }
        metrics.append(.condition(Double(ivcs), unit: "invol-cs"))
        if let load = DriftInstrument.loadAverage() {
            metrics.append(.condition(load, unit: "loadavg-1m"))
        }
        if hasCPUFreq, let text = try? String(contentsOfFile: cpuFreqPath, encoding: .utf8),
           let khz = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            metrics.append(.condition(khz / 1000, unit: "cpu-mhz"))
        }
        return metrics
    }

    /// Involuntary context switches of the calling thread.
    static func involuntarySwitches() -> Int {
        var ru = rusage()
        // RUSAGE_THREAD (1) is a _GNU_SOURCE name Swift does not import.
        getrusage(__rusage_who_t(1), &ru)
        return Int(ru.ru_nivcsw)
    }

    static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}

/// The aggregate "cpu" line of /proc/stat, in clock ticks.
struct CPUStat {
    var total: Int
    var steal: Int

    static func read() -> CPUStat? {
        guard let fd = fopen("/proc/stat", "r") else { return nil }
        defer { fclose(fd) }
        var buf = [CChar](repeating: 0, count: 512)
        guard fgets(&buf, Int32(buf.count), fd) != nil else { return nil }
        let line = String(cString: buf)
        guard line.hasPrefix("cpu ") else { return nil }
        // user nice system idle iowait irq softirq steal guest guest_nice
        let f = line.split(separator: " ").dropFirst().compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard f.count >= 8 else { return nil }
        // guest time is already inside user; count the first eight.
        return CPUStat(total: f.prefix(8).reduce(0, +), steal: f[7])
    }
}

/// Repetitions whose run conditions stand out from their benchmark's other
/// repetitions.
public enum DriftFlags {
    /// Why a repetition was flagged.
    public static func flagged(_ results: [RepetitionResult]) -> [RepetitionKey: String] {
        var byBench: [SeriesKey: [RepetitionResult]] = [:]
        for r in results { byBench[r.series, default: []].append(r) }
        var flags: [RepetitionKey: String] = [:]
        for (_, reps) in byBench where reps.count >= 3 {
            func values(_ unit: String) -> [Double] { reps.compactMap { $0.metric(unit)?.value } }
            let steal = values("steal-pct"), par = values("parallelism"), ivcs = values("invol-cs")
            let medSteal = steal.isEmpty ? 0 : Statistics.median(steal)
            let medPar = par.isEmpty ? 0 : Statistics.median(par)
            let medIvcs = ivcs.isEmpty ? 0 : Statistics.median(ivcs)
            for r in reps {
                var why: [String] = []
                // Steal: more than 5 points above the benchmark's median.
                if let s = r.metric("steal-pct")?.value, s > medSteal + 5 {
                    why.append(String(format: "steal %.1f%% (median %.1f%%)", s, medSteal))
                }
                // Parallelism: a quarter below the median (both vCPUs ran
                // together markedly less often).
                if let p = r.metric("parallelism")?.value, medPar > 0, p < medPar * 0.75 {
                    why.append(String(format: "parallelism %.2f (median %.2f)", p, medPar))
                }
                // Preemptions: an order of magnitude above the median and
                // more than a handful.
                if let c = r.metric("invol-cs")?.value, c > max(10, 10 * medIvcs) {
                    why.append(String(format: "%.0f preemptions (median %.0f)", c, medIvcs))
                }
                if !why.isEmpty { flags[r.key] = why.joined(separator: ", ") }
            }
        }
        return flags
    }

    /// Flagged repetitions per series.
    public static func flaggedCounts(_ results: [RepetitionResult]) -> [SeriesKey: Int] {
        var out: [SeriesKey: Int] = [:]
        for k in flagged(results).keys { out[k.series, default: 0] += 1 }
        return out
    }
}
