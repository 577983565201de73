// Differential profiles of one benchmark, base against new, normalized per
// operation: what a regression's extra time was spent on.
//
// Three outputs, all in "samples per base operation count" (the new side's
// counts are multiplied by baseOps / newOps, so a frame that costs the same
// per op has the same count on both sides):
//   - <name>.diff.folded: Brendan Gregg's difffolded.pl format,
//     "stack base new" per line; `flamegraph.pl` draws it as a
//     differential graph (shape from the second column, the new side;
//     red where new > base, blue where new < base);
//   - <name>.diff.svg: our own differential graph with the same rule:
//     THE SHAPE (frame widths) IS THE NEW PROFILE; colour is the change
//     per op against the base. A frame that vanished in the new profile
//     is not drawn: its loss shows as a blue parent. (FlameGraph#342 and
//     async-profiler #1553 show users reading these the wrong way round;
//     the SVG's subtitle says it too.)
//   - <name>.base-per-op.pb.gz and <name>.new.pb.gz: the base pprof with
//     every value scaled by newOps / baseOps, and the new one as it was,
//     for `go tool pprof -diff_base <name>.base-per-op.pb.gz <name>.new.pb.gz`
//     (pprof subtracts the base; its own -normalize scales by totals,
//     not per op).

import Foundation

extension PprofProfile {
    /// The comment that carries a profile's sampled operation count.
    public static let opsCommentPrefix = "gobench ops="

    /// Operations the profile's samples cover, where gobench wrote it.
    public var ops: Int? {
        comments.lazy.compactMap { $0.hasPrefix(PprofProfile.opsCommentPrefix) ? Int($0.dropFirst(PprofProfile.opsCommentPrefix.count)) : nil }.first
    }

    /// Every sample value multiplied by `factor`, rounded.
    public func scaled(by factor: Double) -> PprofProfile {
        var p = self
        for i in p.samples.indices { p.samples[i].values = p.samples[i].values.map { Int64((Double($0) * factor).rounded()) } }
        p.comments.append(String(format: "gobench: values scaled by %.6g (per-op comparison)", factor))
        return p
    }
}

public struct ProfileDiff: Sendable {
    /// difffolded text: "stack base new", per base ops.
    public let folded: String
    public let svg: String

    public init(base: FoldedStacks, baseOps: Int, new: FoldedStacks, newOps: Int,
                title: String = "differential profile") {
        let toBase = newOps > 0 ? Double(baseOps) / Double(newOps) : 1
        var lines: [String] = []
        for stack in Set(base.counts.keys).union(new.counts.keys) {
            let b = base.counts[stack] ?? 0
            let n = Int((Double(new.counts[stack] ?? 0) * toBase).rounded())
            guard b > 0 || n > 0 else { continue }
            lines.append("\(stack.joined(separator: ";")) \(b) \(n)")
        }
        folded = lines.sorted().joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
        let perOp = { (count: Int, ops: Int) in ops > 0 ? Double(count) / Double(ops) : 0 }
        svg = FlameGraph.diffSVG(
            base: base, new: new, title: title,
            subtitle: String(format: "shape: NEW (%d samples over %d ops); colour per op vs base (%d samples over %d ops): red grew, blue shrank; %.3g -> %.3g samples/op",
                             new.total, newOps, base.total, baseOps, perOp(base.total, baseOps), perOp(new.total, newOps)),
            baseScale: baseOps > 0 ? Double(newOps) / Double(baseOps) : 1)
    }

    /// Writes the four files for `benchmark` into `directory` (created);
    /// returns the SVG's path. Throws when a profile lacks its op count.
    @discardableResult
    public static func write(benchmark: String, base: PprofProfile, new: PprofProfile, directory: String) throws -> String {
        guard let baseOps = base.ops, let newOps = new.ops, baseOps > 0, newOps > 0 else {
            throw FormatError("\(benchmark): a profile has no operation count (not written by this gobench)")
        }
        try AtomicFile.makeDirectory(directory)
        let stem = "\(directory)/\(Profiler.fileName(benchmark))"
        let d = ProfileDiff(base: FoldedStacks(pprof: base), baseOps: baseOps, new: FoldedStacks(pprof: new), newOps: newOps,
                            title: "\(benchmark): new vs base, per op")
        try AtomicFile.write(d.folded, to: stem + ".diff.folded")
        try AtomicFile.write(d.svg, to: stem + ".diff.svg")
        try AtomicFile.write(try base.scaled(by: Double(newOps) / Double(baseOps)).encodeGzipped(), to: stem + ".base-per-op.pb.gz")
        try AtomicFile.write(try new.encodeGzipped(), to: stem + ".new.pb.gz")
        return stem + ".diff.svg"
    }

    /// For each regressed benchmark with a profile in both folders
    /// (`<dir>/<name>.pb.gz`), the differential files in `outDirectory`.
    /// Returns the SVGs written; benchmarks without both profiles are
    /// skipped.
    public static func writeForRegressions(_ benchmarks: [String], baseProfiles: String, newProfiles: String,
                                           outDirectory: String) throws -> [String] {
        var written: [String] = []
        for b in Array(Set(benchmarks)).sorted() {
            let file = Profiler.fileName(b) + ".pb.gz"
            guard let bd = FileManager.default.contents(atPath: "\(baseProfiles)/\(file)"),
                  let nd = FileManager.default.contents(atPath: "\(newProfiles)/\(file)") else { continue }
            // One unreadable pair (a profile from an older gobench has no
            // op count) must not cost the others their graphs.
            do {
                written.append(try write(benchmark: b, base: try PprofProfile.decode(bd), new: try PprofProfile.decode(nd),
                                         directory: outDirectory))
            } catch {
                FileHandle.standardError.write(Data("gobench: warning: no differential graph for \(b): \(error)\n".utf8))
            }
        }
        return written
    }

    /// The profiles/ folder beside a results file (`<run>/results.csv` ->
    /// `<run>/profiles`), when there is one.
    public static func profilesBeside(_ resultsFile: String) -> String? {
        let dir = ((resultsFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("profiles")
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue ? dir : nil
    }
}
