// The benchmark side of exact instruction counts: client requests to
// callgrind around the timed loop. This is the only Swift file that calls
// CGoBench/Callgrind.c.
//
// Under `valgrind --tool=callgrind --collect-atstart=no --instr-atstart=no`
// nothing is instrumented or collected until asked. Per counted
// repetition:
//   makeProbe (each worker, before the start barrier): the first one
//       zeroes all costs and switches instrumentation on (global; flushes
//       translated code, so it stays out of the timed loop);
//   start / stop (each worker, around its loop): toggles collection for
//       that thread only (callgrind keeps the collect state per thread);
//   collect (coordinator, after every worker joined): dumps the costs of
//       all threads with the trigger "gobench:<name>:rep=<r>:n=<n>" (a dump
//       also zeroes them) and switches instrumentation off again.
// The dump's `totals:` line is then the instruction count of the timed
// loops alone; `CallgrindInstrument` reads it.

import CGoBench
import Foundation

public final class CallgrindClientInstrument: Instrument, @unchecked Sendable {
    public let name = "callgrind-client"
    private let lock = HarnessLock()
    private var instrumenting = false

    public init() {}

    /// Whether the process runs under valgrind.
    public static var runningOnValgrind: Bool { cgb_running_on_valgrind() != 0 }
    /// Whether this binary was built with valgrind/callgrind.h.
    public static var supported: Bool { cgb_callgrind_supported() != 0 }

    public var contextLines: [(key: String, value: String)] {
        let state: String
        if !Self.supported { state = "callgrind-client (built without valgrind/callgrind.h: requests are no-ops)" }
        else if Self.runningOnValgrind { state = "callgrind-client (under valgrind)" }
        else { state = "callgrind-client (not under valgrind: requests are no-ops)" }
        return [("instructions", state)]
    }

    /// The dump trigger name for a repetition.
    public static func triggerName(benchmark: String, repetition: Int, n: Int) -> String {
        "gobench:\(benchmark):rep=\(repetition):n=\(n)"
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        lock.withLock {
            if !instrumenting {
                instrumenting = true
                cgb_callgrind_zero_stats()
                cgb_callgrind_start_instrumentation()
            }
        }
        return CallgrindProbe()
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        cgb_callgrind_dump_stats_at(Self.triggerName(benchmark: benchmark, repetition: repetition, n: n))
        lock.withLock {
            cgb_callgrind_stop_instrumentation()
            instrumenting = false
        }
        return []
    }
}

/// Switches collection on and off for the worker's own thread.
final class CallgrindProbe: InstrumentProbe {
    func start() { cgb_callgrind_toggle_collect() }
    func stop() { cgb_callgrind_toggle_collect() }
}
