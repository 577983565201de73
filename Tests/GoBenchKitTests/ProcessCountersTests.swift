// Counters that follow a child process (ProcessCounters) and the exact
// -test.bench pattern Go's counted runs use.

import Foundation
import Testing
@testable import GoBenchKit

@Suite(.serialized) struct ProcessCountersTests {
    /// Total CPU seconds from the output of sh's `times` builtin: two lines
    /// of "<user> <system>", the shell's own and its children's.
    static func cpuSeconds(fromTimes text: String) -> Double {
        var total = 0.0
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            // "0m0.520000s"
            let parts = field.dropLast().split(separator: "m")
            if parts.count == 2, let m = Double(parts[0]), let s = Double(parts[1]) { total += m * 60 + s }
        }
        return total
    }

    @Test func countsTheWholeChildIncludingItsOwnChildren() throws {
        let instrument = CounterInstrument(names: ["task-clock", "context-switches"])
        try #require(instrument.isCounting)
        // The busy loop runs in a subshell, a process the child forks: the
        // counters reach it through inherit. `times` then prints what the
        // kernel charged the shell and its children.
        let script = "( i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done ); echo err >&2; times; exit 3"
        let o = try ProcessCounters.run("/bin/sh", ["-c", script], in: "/", environment: [:],
                                        events: instrument.countedEvents,
                                        userOnly: instrument.availability.userOnly)
        #expect(o.output.status == 3)
        #expect(o.output.stderr == "err\n")
        #expect(o.errors.isEmpty)
        let charged = Self.cpuSeconds(fromTimes: o.output.stdout)
        #expect(charged > 0.05, "\(o.output.stdout)")
        let task = try #require(o.counts["task-clock"]) / 1e9
        // times has clock-tick (10 ms) resolution; task-clock also counts
        // the exec and start-up of sh before its first tick.
        #expect(task > 0.8 * charged - 0.02 && task < 1.25 * charged + 0.05, "task-clock \(task) s vs times \(charged) s")
        #expect(o.counts["context-switches"] != nil)
    }

    @Test func aChildThatCannotExecExits127() throws {
        let instrument = CounterInstrument(names: ["task-clock"])
        let o = try ProcessCounters.run("/nonexistent/binary", [], in: nil, environment: [:],
                                        events: instrument.countedEvents,
                                        userOnly: instrument.availability.userOnly)
        #expect(o.output.status == 127)
        #expect(o.output.stdout.isEmpty)
    }
}
