// Reading callgrind's output files. A dump (one file per
// CALLGRIND_DUMP_STATS_AT) looks like:
//
//     # callgrind format
//     version: 1
//     cmd:  /path/gobench run ...
//     part: 1
//     desc: Trigger: Client Request: gobench:harness/empty:rep=0:n=1000
//     events: Ir
//     summary: 0
//     ...cost lines...
//     totals: 6014
//
// `totals:` (written after the cost lines) carries the dump's cost per
// event in `events:` order; `summary:` comes too early to be filled in for
// client-request dumps. Only the header and the totals matter here.

public struct CallgrindDump: Sendable, Equatable {
    /// The text after "desc: Trigger: ", e.g. "Client Request: name".
    public var trigger: String?
    /// Event names from `events:` (Ir, or more with --cache-sim).
    public var events: [String]
    /// Totals per event, in `events` order.
    public var totals: [UInt64]

    /// The total of one event ("Ir": instructions executed).
    public func total(_ event: String) -> UInt64? {
        guard let i = events.firstIndex(of: event), i < totals.count else { return nil }
        return totals[i]
    }

    /// The client-request name, if the dump was triggered by one.
    public var requestName: String? {
        guard let t = trigger, t.hasPrefix("Client Request: ") else { return nil }
        return String(t.dropFirst("Client Request: ".count))
    }

    /// Parses one dump file. Throws a `FormatError` when the file has no
    /// `events:` or `totals:` line, or a malformed total.
    public static func parse(_ text: String) throws -> CallgrindDump {
        var trigger: String?
        var events: [String]?
        var totals: [UInt64]?
        var summary: [UInt64]?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("desc: Trigger: ") {
                trigger = String(line.dropFirst("desc: Trigger: ".count))
            } else if line.hasPrefix("events:") {
                events = line.dropFirst("events:".count).split(separator: " ").map(String.init)
            } else if line.hasPrefix("totals:") {
                totals = try numbers(line.dropFirst("totals:".count), line: line)
            } else if line.hasPrefix("summary:") {
                summary = try numbers(line.dropFirst("summary:".count), line: line)
            }
        }
        guard let ev = events else { throw FormatError("callgrind output has no events: line") }
        guard let t = totals ?? summary else { throw FormatError("callgrind output has no totals: line") }
        return CallgrindDump(trigger: trigger, events: ev, totals: t)
    }

    private static func numbers(_ s: Substring, line: Substring) throws -> [UInt64] {
        try s.split(separator: " ").map {
            guard let v = UInt64($0) else { throw FormatError("callgrind output: bad number in \"\(line)\"") }
            return v
        }
    }
}
