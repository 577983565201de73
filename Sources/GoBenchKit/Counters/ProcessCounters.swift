// Perf counters that follow a whole child process: how gobench counts Go's
// reference benchmarks, which run in a test binary of their own.
//
// The child is forked and held before its exec (CGoBench/Spawn.c); one
// event per counter is opened on its pid with inherit and enable_on_exec,
// then the child is released. Counting therefore starts at the exec, covers
// every thread the process starts (Go's Ms, its GC workers, sysmon), and,
// once the child is reaped, each event holds the whole process's count.
// Events are not grouped (the kernel does not read inherited groups), so
// each one is scaled by its own time_enabled / time_running.

import CGoBench
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ProcessCounters {
    /// A finished child: its output, and the count of each event that
    /// could be opened, keyed by event name, scaled for multiplexing.
    public struct Outcome: Sendable {
        public var output: Subprocess.Output
        public var counts: [String: Double]
        /// Events that failed to open or to read, with the reason.
        public var errors: [PerfError]
    }

    /// Runs `executable` with `args` in `directory`, counting `events`
    /// over the whole process. A counter that cannot be opened is left out
    /// of `counts` and named in `errors`; the child runs regardless.
    public static func run(_ executable: String, _ args: [String], in directory: String?,
                           environment: [String: String], events: [CounterEvent],
                           userOnly: Bool) throws -> Outcome {
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child = cgb_held_child()
        let spawned = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                cgb_spawn_held(executable, a.baseAddress, e.baseAddress, directory, &child)
            }
        }
        guard spawned == 0 else {
            throw ToolchainError("cannot run \(executable): \(String(cString: strerror(-spawned)))")
        }

        var fds: [(CounterEvent, Int32)] = []
        var errors: [PerfError] = []
        for e in events {
            let fd = cgb_perf_open_process(e.type, e.config, e.config1, e.config2, child.pid, userOnly ? 1 : 0)
            if fd < 0 { errors.append(PerfError(errno: -fd, event: e.name)) } else { fds.append((e, fd)) }
        }
        defer { for (_, fd) in fds { _ = cgb_perf_close(fd) } }
        let released = cgb_spawn_release(&child)

        var out: UnsafeMutablePointer<CChar>?, err: UnsafeMutablePointer<CChar>?
        var outLen = 0, errLen = 0
        var status: Int32 = 0
        let finished = cgb_spawn_finish(&child, &out, &outLen, &err, &errLen, &status)
        guard finished == 0 else {
            throw WorkerError("\(executable): lost the child's output: \(String(cString: strerror(-finished)))")
        }
        defer { free(out); free(err) }
        guard released == 0 else {
            throw ToolchainError("cannot start \(executable): \(String(cString: strerror(-released)))")
        }
        let output = Subprocess.Output(
            status: status,
            stdout: String(decoding: UnsafeRawBufferPointer(start: out, count: outLen), as: UTF8.self),
            stderr: String(decoding: UnsafeRawBufferPointer(start: err, count: errLen), as: UTF8.self))

        var counts: [String: Double] = [:]
        for (e, fd) in fds {
            var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let r = withUnsafeMutableBytes(of: &words) {
                cgb_perf_read_one(fd, $0.baseAddress!.assumingMemoryBound(to: UInt64.self))
            }
            if r < 0 { errors.append(PerfError(errno: -r, event: e.name)); continue }
            let reading = GroupReading(timeEnabled: words.1, timeRunning: words.2, values: [words.0])
            guard let v = reading.scaledValues?.first else {
                errors.append(PerfError(errno: ENODATA, event: e.name))  // never ran
                continue
            }
            counts[e.name] = v
        }
        return Outcome(output: output, counts: counts, errors: errors)
    }
}
