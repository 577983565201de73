// Folded stacks, the text format of Brendan Gregg's stackcollapse-*.pl and
// the input of flamegraph.pl:
//
//     root;caller;leaf 42
//
// Grammar rules this writer keeps (and `parse` enforces):
//   - one line per unique stack, frames root first joined by ";", one
//     space, a positive integer count; lines sorted; a final newline;
//   - no frame contains ";" (replaced by ":") or a line break (replaced by
//     a space), and no frame is empty;
//   - no frame ends in a space followed by digits: flamegraph.pl splits a
//     line at its last run of spaces before digits, and in a differential
//     file ("stack base new") a leaf "f 2" would read as a count. Such a
//     space becomes "_".

import Foundation

public struct FoldedStacks: Sendable, Equatable {
    /// Stack (root first) to sample count.
    public private(set) var counts: [[String]: Int] = [:]

    public init() {}

    public init(_ pairs: [([String], Int)]) {
        for (s, c) in pairs { add(s, count: c) }
    }

    public var total: Int { counts.values.reduce(0, +) }
    public var isEmpty: Bool { counts.isEmpty }

    /// Adds `count` samples of `stack` (root first); names are sanitized.
    public mutating func add(_ stack: [String], count: Int) {
        guard count > 0, !stack.isEmpty else { return }
        counts[stack.map(FoldedStacks.sanitize), default: 0] += count
    }

    /// A frame name made safe for the grammar above.
    public static func sanitize(_ name: String) -> String {
        var s = name.replacingOccurrences(of: ";", with: ":")
            .replacingOccurrences(of: "\r\n", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ")
        if s.isEmpty { return "[unnamed]" }
        // "f 12" at the end: the last whitespace before trailing digits becomes "_".
        var chars = Array(s)
        var i = chars.count - 1
        while i >= 0 && chars[i].isASCII && chars[i].isNumber { i -= 1 }
        if i >= 0 && i < chars.count - 1 && chars[i].isWhitespace {
            while i >= 0 && chars[i].isWhitespace { chars[i] = "_"; i -= 1 }
            s = String(chars)
        }
        return s
    }

    /// The folded text: sorted lines, "\n"-terminated.
    public func text() -> String {
        let lines = counts.map { $0.key.joined(separator: ";") + " \($0.value)" }.sorted()
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// Parses folded text. Throws a FormatError naming the first bad line.
    public static func parse(_ text: String) throws -> FoldedStacks {
        var f = FoldedStacks()
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty { continue }
            guard let sp = line.lastIndex(of: " ") else {
                throw FormatError("not a folded stack file: line \(lineNo) has no count (want \"a;b;c 12\")")
            }
            let stackPart = line[..<sp].trimmingCharacters(in: .whitespaces)
            guard let count = Int(line[line.index(after: sp)...]), count >= 0 else {
                throw FormatError("not a folded stack file: line \(lineNo) does not end in an integer count")
            }
            let frames = stackPart.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard !stackPart.isEmpty, !frames.contains(where: \.isEmpty) else {
                throw FormatError("not a folded stack file: line \(lineNo) has an empty frame")
            }
            if count > 0 { f.counts[frames, default: 0] += count }
        }
        guard !f.isEmpty else { throw FormatError("not a folded stack file: no samples") }
        return f
    }

    /// What one frame stands for, as pprof's `-functions` / `-lines`.
    public enum Granularity: String, Sendable, CaseIterable {
        /// One frame per function (and per inlined function).
        case function
        /// One frame per function and source line: `name File.swift:167`.
        case line
    }

    /// The suffix of an inlined frame, as FlameGraph's
    /// `stackcollapse-perf.pl --inline` writes it (flamegraph.pl colours
    /// `_[i]` frames aqua). A frame with it was inlined into the frame
    /// below it: it has no call of its own.
    public static let inlinedSuffix = "_[i]"

    /// Stacks of a pprof profile, counting value `index` (0: the first
    /// sample type, samples/count in CPU profiles). Every Line of a
    /// location is a frame of its own; all but the location's outermost
    /// are marked `_[i]` (inlined).
    public init(pprof p: PprofProfile, valueIndex index: Int = 0, granularity: Granularity = .function) {
        let funcs = Dictionary(p.functions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var locNames: [UInt64: [String]] = [:]
        for l in p.locations {
            // Lines are innermost first; root-first order reverses them.
            var names: [String] = []
            for (k, line) in l.lines.enumerated().reversed() {
                var name = funcs[line.functionID]?.name ?? "[unknown]"
                if granularity == .line, let f = funcs[line.functionID], !f.file.isEmpty {
                    name += " \((f.file as NSString).lastPathComponent):\(line.line)"
                }
                if k < l.lines.count - 1 { name += FoldedStacks.inlinedSuffix }
                names.append(name)
            }
            if names.isEmpty { names = ["0x" + String(l.address, radix: 16)] }
            locNames[l.id] = names
        }
        for s in p.samples where index < s.values.count {
            var stack: [String] = []
            for id in s.locationIDs.reversed() { stack += locNames[id] ?? ["[unknown]"] }
            add(stack, count: Int(s.values[index]))
        }
    }

    /// Samples whose stack contains `name` (as a frame) anywhere.
    public func samples(containing name: String) -> Int {
        counts.reduce(0) { $0 + ($1.key.contains(name) ? $1.value : 0) }
    }

    /// Self (leaf) samples per function, largest first.
    public func topLeaves(_ k: Int) -> [(name: String, count: Int)] {
        var self_: [String: Int] = [:]
        for (s, c) in counts { self_[s.last!, default: 0] += c }
        return self_.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(k).map { ($0.key, $0.value) }
    }
}
