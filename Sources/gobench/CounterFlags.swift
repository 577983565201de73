// Flags that attach perf counters and exact instruction counts to a run.
// Counters are on by default (the default set); `--counters none` turns
// them off, and the run context still says what the machine could count.
// Allocation counts are on by default too; `--no-allocs` turns them off.

import ArgumentParser
import Foundation
import GoBenchKit

struct CounterFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "perf events to count per op: \"default\", \"none\", or a comma list of libpfm4 names "
            + "(cycles, instructions, branch-misses, cache-misses, L1-dcache-load-misses, task-clock, "
            + "context-switches, cpu-migrations, page-faults, or PMU-specific names); \"default\" expands "
            + "to the default set. See `gobench counters`.",
        valueName: "events"))
    var counters: String = "default"

    @Option(name: .long, help: ArgumentHelp(
        "Exact instruction counts: \"callgrind\" re-runs each repetition of each benchmark under "
            + "valgrind --tool=callgrind and reports instructions/op; \"callgrind-client\" only issues the "
            + "client requests (for running gobench under callgrind yourself); \"none\".",
        valueName: "mode"))
    var instructions: String = "none"

    @Option(name: .long, help: "Iterations per repetition under callgrind (valgrind is ~50x slower).")
    var callgrindIterations: Int = 1000

    @Flag(name: .customLong("no-allocs"), help: ArgumentHelp(
        "Do not count heap allocations. By default every repetition reports allocs/op, B/op (bytes requested) "
            + "and frees/op: the malloc-family calls of the worker threads in the timed loop, as go test -benchmem "
            + "does. Counts are exact for deterministic code. Not deterministic: map/assign/*, map/delete/*, "
            + "map/string16/assign/* and their dict/ twins (overflow buckets follow the map's random hash seed, and a "
            + "new map every n elements makes the per-op figure depend on the calibrated n); the allocator port's "
            + "malloc/* (metadata per span refill, amortized over n); stack/grow/* and stack/hotsplit/* (per-thread stack "
            + "caches, a fraction of one per op). Go truncates its figures to whole numbers."))
    var noAllocs = false

    /// The instruments these flags ask for: the perf counters (always, so
    /// the context reports availability), then the instruction counter.
    func instruments() throws -> [Instrument] {
        var names = try CounterSelection.parse(counters)
        var note: String?
        var extra: [Instrument] = []
        switch instructions {
        case "none":
            break
        case "callgrind":
            guard callgrindIterations >= 1 else { throw SelectionError("--callgrind-iterations must be at least 1") }
            // One metric per unit: callgrind's count owns instructions/op.
            if names.contains("instructions") {
                names.removeAll { $0 == "instructions" }
                note = "perf instructions dropped: instructions/op comes from callgrind"
            }
            extra.append(CallgrindInstrument(iterations: callgrindIterations))
        case "callgrind-client":
            extra.append(CallgrindClientInstrument())
        default:
            throw SelectionError("unknown --instructions mode \"\(instructions)\" (want none, callgrind or callgrind-client)")
        }
        let counter = CounterInstrument(names: names, note: note)
        for c in counter.availability.checks {
            if case .unknownName(let reason) = c.status {
                warn("counter \(c.name) is n/a: \(reason)")
            }
        }
        // The session runs the allocation counter innermost.
        return [counter] + extra + [AllocInstrument(requested: !noAllocs)]
    }
}

/// Prints "gobench: warning: <message>" on standard error.
private func warn(_ message: String) {
    FileHandle.standardError.write(Data("gobench: warning: \(message)\n".utf8))
}
