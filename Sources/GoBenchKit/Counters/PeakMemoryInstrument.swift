// Peak resident memory: per repetition and per run.
//
//   peak-rss-MiB  the process's resident-set high-water mark (VmHWM in
//                 /proc/self/status) over one repetition: from just before
//                 its workers are released (after the benchmark's setup)
//                 to the last worker's end. It includes everything the
//                 process already held when the repetition began (the
//                 harness, the setup's data, glibc's retained heap), so it
//                 is an upper bound on what the benchmark needs, and moves
//                 with what ran before it in the same process.
//   peak-rss-growth-MiB  that mark less the resident set when it was reset:
//                 what the timed loop itself added on top of what the
//                 process held (0 for a loop that allocates nothing new).
//   peak-rss      (run context) the high-water mark of the whole run,
//                 calibration and setup included.
//
// The mark is reset before each repetition by writing "5" to
// /proc/self/clear_refs (Linux 4.0+: sets VmHWM to the current RSS). Where
// that write fails, repetitions get no peak-rss-MiB (the mark would be the
// whole process's so far, not the repetition's) and the context says why;
// the run's peak is still reported.
//
// Reads happen in probe creation and stop, outside the allocation and perf
// counters' windows (this instrument runs outermost, beside drift).

import Foundation

public final class PeakMemoryInstrument: Instrument, @unchecked Sendable {
    public let name = "peak-rss"
    /// Nil when the high-water mark can be reset, else why not.
    public let resetError: String?

    private let lock = HarnessLock()
    /// The largest VmHWM seen so far, in kB (across resets).
    private var runPeakKB = 0

    public init() {
        var error: String?
        if ProcessMemory.highWaterKB() == nil {
            error = "no VmHWM in /proc/self/status"
        } else if let e = ProcessMemory.resetHighWater() {
            error = e
        }
        resetError = error
    }

    public var contextLines: [(key: String, value: String)] {
        if let e = resetError {
            return [("peak-rss", "per repetition unavailable (\(e)); run peak at the end")]
        }
        return [("peak-rss", "per repetition: VmHWM reset through /proc/self/clear_refs before the timed loop")]
    }

    /// The run's peak, known at the end.
    public var closingContextLines: [(key: String, value: String)] {
        let now = ProcessMemory.highWaterKB() ?? 0
        let peak = lock.withLock { max(runPeakKB, now) }
        guard peak > 0 else { return [] }
        return [("peak-rss", String(format: "%.1f MiB (VmHWM over the whole run)", Double(peak) / 1024))]
    }

    final class Probe: InstrumentProbe {
        /// Worker 0 only: VmHWM right after the reset (the RSS then).
        var baseKB: Int?
        var peakKB = 0
        func start() {}
        func stop() { peakKB = ProcessMemory.highWaterKB() ?? 0 }
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        if worker == 0, resetError == nil {
            // Before the start barrier: no worker of this repetition runs
            // yet. Keep the mark of what ran since the last reset
            // (calibration, setup) for the run's peak, then reset.
            let before = ProcessMemory.highWaterKB() ?? 0
            lock.withLock { runPeakKB = max(runPeakKB, before) }
            let probe = Probe()
            if ProcessMemory.resetHighWater() == nil { probe.baseKB = ProcessMemory.highWaterKB() }
            return probe
        }
        return Probe()
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        let peak = probes.compactMap { ($0 as? Probe)?.peakKB }.max() ?? 0
        lock.withLock { runPeakKB = max(runPeakKB, peak) }
        guard resetError == nil, peak > 0 else { return [] }
        var metrics = [Metric(Double(peak) / 1024, unit: "peak-rss-MiB", kind: .count)]
        if let base = probes.compactMap({ ($0 as? Probe)?.baseKB }).first {
            metrics.append(Metric(Double(max(0, peak - base)) / 1024, unit: "peak-rss-growth-MiB", kind: .count))
        }
        return metrics
    }
}

/// The process's resident-set figures from /proc/self.
public enum ProcessMemory {
    /// VmHWM in kB, or nil where /proc/self/status has none.
    public static func highWaterKB() -> Int? { statusField("VmHWM:") }

    /// VmRSS in kB.
    public static func residentKB() -> Int? { statusField("VmRSS:") }

    /// Resets VmHWM to the current RSS; nil on success, else the error.
    @discardableResult
    public static func resetHighWater() -> String? {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return "/proc/self/clear_refs: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let wrote = write(fd, "5", 1)
        guard wrote == 1 else { return "writing 5 to /proc/self/clear_refs: \(String(cString: strerror(errno)))" }
        return nil
    }

    /// A "Name:   123 kB" field of /proc/self/status, read with plain
    /// system calls into a stack buffer.
    static func statusField(_ name: String) -> Int? {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8192) { buf -> Int? in
            var used = 0
            while used < buf.count {
                let got = read(fd, buf.baseAddress! + used, buf.count - used)
                if got <= 0 { break }
                used += got
            }
            let text = UnsafeBufferPointer(rebasing: buf[..<used])
            let key = Array(name.utf8)
            var i = 0
            while i < text.count {
                // At the start of a line.
                if text.count - i >= key.count, zip(key, text[i..<i + key.count]).allSatisfy({ $0 == $1 }) {
                    var j = i + key.count
                    while j < text.count, text[j] == UInt8(ascii: " ") || text[j] == UInt8(ascii: "\t") { j += 1 }
                    var v = 0, digits = 0
                    while j < text.count, text[j] >= UInt8(ascii: "0"), text[j] <= UInt8(ascii: "9") {
                        v = v * 10 + Int(text[j] - UInt8(ascii: "0"))
                        j += 1
                        digits += 1
                    }
                    return digits > 0 ? v : nil
                }
                while i < text.count, text[i] != UInt8(ascii: "\n") { i += 1 }
                i += 1
            }
            return nil
        }
    }
}
