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
    var instructions: InstructionMode = .none

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

    /// The counters and instruction counter these flags ask for. A name
    /// libpfm4 does not know is an error; a known event this machine cannot
    /// count is a warning, and the run context says why.
    func spec() throws -> InstrumentSpec {
        var names = try CounterSelection.parse(counters)
        var note: String?
        if instructions == .callgrind {
            guard callgrindIterations >= 1 else { throw SelectionError("--callgrind-iterations must be at least 1") }
            // One metric per unit: callgrind's count owns instructions/op.
            if names.contains("instructions") {
                names.removeAll { $0 == "instructions" }
                note = "perf instructions dropped: instructions/op comes from callgrind"
            }
        }
        for name in names {
            if case .failure(let err) = EventNames.encode(name) {
                throw SelectionError("unknown counter \"\(name)\" (\(err.reason)); see `gobench counters`")
            }
        }
        return InstrumentSpec(counters: names, instructions: instructions,
                              callgrindIterations: callgrindIterations, counterNote: note, allocs: !noAllocs)
    }
}

/// Prints "gobench: warning: <message>" on standard error.
private func warn(_ message: String) {
    FileHandle.standardError.write(Data("gobench: warning: \(message)\n".utf8))
}
