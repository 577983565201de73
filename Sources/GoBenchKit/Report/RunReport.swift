// The one results model every report reads: a run's context and
// repetitions, summarised once per benchmark, plus what the reports need
// to lay them out (which benchmarks are twins of which, which metrics are a
// benchmark's headline). The console table, the HTML report and the run
// folder writer are each fed a `RunReport`; none of them reads results any
// other way, so what the console says and what the HTML plots agree.
//
// Layout knowledge (twin prefixes, headline metrics) comes from the caller
// (the suites), not from here: the harness knows nothing of what a "dict"
// or a "pthread-mutex" benchmark is, only that one name prefix is measured
// beside another.

import Foundation

/// How the reports arrange benchmarks: which are twins of which and what
/// each benchmark's headline metrics are.
public struct ReportLayout: Sendable {
    /// A benchmark named `twin + rest` is shown beside `of + rest` when
    /// that exists: ("dict/", "map/") puts dict/access/hit/n=1k under
    /// map/access/hit/n=1k.
    public struct TwinRule: Sendable, Equatable {
        public var twin: String
        public var of: String
        public init(twin: String, of: String) {
            self.twin = twin
            self.of = of
        }
    }

    public var twins: [TwinRule]
    /// Headline metric units per benchmark name (Benchmark.primaryMetrics).
    public var primaryMetrics: [String: [String]]
    /// Approximate bytes per element of a scaling family's working set,
    /// by name prefix ("map/access/" -> 22): used to say which cache level
    /// a bend in the curve corresponds to.
    public var footprints: [(prefix: String, bytesPerElement: Double)]

    public init(twins: [TwinRule] = [], primaryMetrics: [String: [String]] = [:],
                footprints: [(prefix: String, bytesPerElement: Double)] = []) {
        self.twins = twins
        self.primaryMetrics = primaryMetrics
        self.footprints = footprints
    }

    public func bytesPerElement(_ name: String) -> Double? {
        footprints.first { name.hasPrefix($0.prefix) }?.bytesPerElement
    }

    /// The benchmark `name` is a twin of, if one of the rules applies and
    /// that benchmark is in `names`; failing that, the first (in sorted
    /// order) whose name extends it by a component: alt/pthread-mutex/starvation
    /// goes with mutex/starvation/mode=off when there is no mutex/starvation.
    public func twinOf(_ name: String, in names: Set<String>) -> String? {
        for rule in twins where name.hasPrefix(rule.twin) {
            let primary = rule.of + name.dropFirst(rule.twin.count)
            if primary != name && names.contains(primary) { return primary }
        }
        for rule in twins where name.hasPrefix(rule.twin) {
            let stem = rule.of + name.dropFirst(rule.twin.count) + "/"
            if let p = names.filter({ $0.hasPrefix(stem) }).min(), p != name { return p }
        }
        return nil
    }
}

/// One series (a benchmark of one implementation), summarised.
public struct SeriesSummary: Sendable {
    public var key: SeriesKey
    public var threads: Int
    /// Every metric's sample, in first-seen order.
    public var samples: [Sample]
    /// Repetitions whose run conditions stood out (DriftFlags), with why.
    public var flagged: [(repetition: Int, why: String)]
    public var repetitions: Int

    public var name: String { key.name }
    public func sample(_ unit: String) -> Sample? { samples.first { $0.unit == unit } }
    /// The wall time per op, the one every benchmark has.
    public var time: Sample? { sample("ns/op") }
}

/// A benchmark's line and the lines shown with it: its twins and the
/// reference implementation's series of the same name.
public struct ReportRow: Sendable {
    public var primary: SeriesSummary
    /// The alternative benchmarks shown beside it (dict/… beside map/…).
    public var twins: [SeriesSummary]
    /// Other implementations' series of the same name (Go's, with --with-go).
    public var references: [SeriesSummary]
}

/// Benchmarks grouped by subsystem: the first component of the name of
/// the benchmark the row leads with.
public struct ReportGroup: Sendable {
    public var subsystem: String
    public var rows: [ReportRow]
}

public struct RunReport: Sendable {
    public var environment: RunEnvironment
    public var results: [RepetitionResult]
    public var layout: ReportLayout
    /// The run folder, if one was written.
    public var runDirectory: String?
    /// Wall time of the whole run, in seconds, if known.
    public var elapsedSeconds: Double?
    /// Set when the run was compared with a base.
    public var comparison: Comparison?
    public var baseResults: [RepetitionResult]?
    /// Ours beside another implementation, per unit (SideBySide).
    public var sideBySide: [SideBySide]
    /// Flame graphs of profiled benchmarks: benchmark name -> path relative
    /// to the run folder ("profiles/map_access.svg").
    public var flameGraphs: [(benchmark: String, path: String)]
    /// Differential flame graphs against the base, same form.
    public var differentialFlameGraphs: [(benchmark: String, path: String)] = []
    /// Other implementations' flame graphs of the same benchmarks (Go's).
    public var referenceFlameGraphs: [(benchmark: String, implementation: Implementation, path: String)] = []
    /// The suite-wide flame graph, relative to the run folder.
    public var suiteFlameGraph: String?
    /// The series over commits of this run's benchmarks on this machine,
    /// from the history store, and where they came from (nil: no store).
    public var history: [HistoryTrack] = []
    public var historyProvenance: HistoryProvenance?

    public let series: [SeriesSummary]
    public let groups: [ReportGroup]

    public init(environment: RunEnvironment, results: [RepetitionResult], layout: ReportLayout = ReportLayout(),
                runDirectory: String? = nil, elapsedSeconds: Double? = nil, comparison: Comparison? = nil,
                baseResults: [RepetitionResult]? = nil, flameGraphs: [(benchmark: String, path: String)] = []) {
        self.environment = environment
        self.results = results
        self.layout = layout
        self.runDirectory = runDirectory
        self.elapsedSeconds = elapsedSeconds
        self.comparison = comparison
        self.baseResults = baseResults
        self.flameGraphs = flameGraphs
        let others = Set(results.map(\.impl)).subtracting([.swift])
        self.sideBySide = others.isEmpty || !results.contains(where: { $0.impl == .swift }) ? []
            : others.sorted().flatMap { other in
                ["ns/op", "task-clock-ns/op"].map { SideBySide(results, unit: $0, reference: other) }.filter { !$0.rows.isEmpty }
            }
        let series = RunReport.summarise(results)
        self.series = series
        self.groups = RunReport.arrange(series, layout: layout)
    }

    /// Number of benchmarks measured by this harness (twins included, the
    /// reference implementation's series not).
    public var benchmarkCount: Int { series.filter { $0.key.implementation == .swift }.count }

    /// The headline metric units of a benchmark: its declared primary
    /// metrics that it actually reported.
    public func primaryUnits(of s: SeriesSummary) -> [String] {
        (layout.primaryMetrics[s.name] ?? []).filter { u in u != "ns/op" && s.sample(u) != nil }
    }

    // MARK: - Building

    static func summarise(_ results: [RepetitionResult]) -> [SeriesSummary] {
        let flags = DriftFlags.flagged(results)
        var order: [SeriesKey] = []
        var reps: [SeriesKey: [RepetitionResult]] = [:]
        for r in results {
            if reps[r.series] == nil { order.append(r.series) }
            reps[r.series, default: []].append(r)
        }
        return order.map { key in
            let rs = reps[key]!
            let flagged = rs.compactMap { r in flags[r.key].map { (repetition: r.repetition, why: $0) } }
            return SeriesSummary(key: key, threads: rs[0].threads, samples: Grouping.byBenchmarkAndMetric(rs),
                                 flagged: flagged, repetitions: Set(rs.map(\.repetition)).count)
        }
    }

    static func arrange(_ series: [SeriesSummary], layout: ReportLayout) -> [ReportGroup] {
        let ours = series.filter { $0.key.implementation == .swift }
        let names = Set(ours.map(\.name))
        var twinsOf: [String: [SeriesSummary]] = [:]
        var isTwin = Set<String>()
        for s in ours {
            if let p = layout.twinOf(s.name, in: names) {
                twinsOf[p, default: []].append(s)
                isTwin.insert(s.name)
            }
        }
        var refs: [String: [SeriesSummary]] = [:]
        var orphans: [SeriesSummary] = []
        for s in series where s.key.implementation != .swift {
            if names.contains(s.name) { refs[s.name, default: []].append(s) } else { orphans.append(s) }
        }
        var groups: [ReportGroup] = []
        func add(_ row: ReportRow) {
            let sub = String(row.primary.name.split(separator: "/").first ?? "")
            if let i = groups.firstIndex(where: { $0.subsystem == sub }) { groups[i].rows.append(row) }
            else { groups.append(ReportGroup(subsystem: sub, rows: [row])) }
        }
        for s in ours where !isTwin.contains(s.name) {
            add(ReportRow(primary: s, twins: twinsOf[s.name] ?? [], references: refs[s.name] ?? []))
        }
        // A reference series with no counterpart of ours still gets a line.
        for s in orphans { add(ReportRow(primary: s, twins: [], references: [])) }
        return groups
    }
}

// MARK: - Reading a run folder back

extension RunEnvironment {
    /// Parses the flat JSON object `json()` writes, keeping its key order.
    public static func parse(json text: String) throws -> RunEnvironment {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FormatError("context.json is not a JSON object")
        }
        var keyed: [(offset: String.Index, key: String, value: String)] = []
        for (k, v) in object {
            let value = (v as? String) ?? "\(v)"
            let offset = text.range(of: jsonString(k) + ":")?.lowerBound ?? text.endIndex
            keyed.append((offset, k, value))
        }
        keyed.sort { ($0.offset, $0.key) < ($1.offset, $1.key) }
        return RunEnvironment(entries: keyed.map { (key: $0.key, value: $0.value) })
    }
}

public enum RunFolder {
    /// Reads results.csv and context.json (if present) from a run folder.
    public static func read(_ dir: String) throws -> (environment: RunEnvironment, results: [RepetitionResult]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw FormatError("\(dir): not a run folder")
        }
        let results = try loadResults(path: "\(dir)/results.csv")
        var env = RunEnvironment()
        if let text = try? String(contentsOfFile: "\(dir)/context.json", encoding: .utf8) {
            do { env = try RunEnvironment.parse(json: text) } catch let e as FormatError {
                throw FormatError("\(dir)/\(e.description)")
            }
        }
        return (env, results)
    }

    /// Flame graphs in `dir/profiles/`, matched to benchmark names by the
    /// profiler's file naming.
    public static func flameGraphs(in dir: String, benchmarks: [String]) -> [(benchmark: String, path: String)] {
        flameGraphs(svgFiles(in: dir), benchmarks: benchmarks)
    }

    /// Fills in the report's flame graphs, Go's beside ours and the
    /// suite-wide one, from what `dir`/profiles holds now.
    public static func findFlameGraphs(of report: inout RunReport, in dir: String) {
        let svgs = svgFiles(in: dir)
        report.flameGraphs = flameGraphs(svgs, benchmarks: report.series.map(\.name))
        // Another implementation's beside ours: the reference writes
        // NAME.<implementation>.svg (Go's -cpuprofile, with --with-go).
        report.referenceFlameGraphs = report.series.filter { $0.key.implementation != .swift }.compactMap { s in
            let f = "\(Profiler.fileName(s.name)).\(s.key.implementation.rawValue).svg"
            return svgs.contains(f) ? (s.name, s.key.implementation, "profiles/\(f)") : nil
        }
        // The suite-wide graph, each benchmark a root frame.
        let all = "\(Profiler.suiteFileName).svg"
        report.suiteFlameGraph = svgs.contains(all) ? "profiles/\(all)" : nil
    }

    /// The SVG files in `dir/profiles/` (none when there is no such folder).
    private static func svgFiles(in dir: String) -> Set<String> {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/profiles")) ?? []
        return Set(files.filter { $0.hasSuffix(".svg") })
    }

    private static func flameGraphs(_ svgs: Set<String>, benchmarks: [String]) -> [(benchmark: String, path: String)] {
        var out: [(String, String)] = []
        for b in benchmarks {
            let f = Profiler.fileName(b) + ".svg"
            if svgs.contains(f) && !out.contains(where: { $0.0 == b }) { out.append((b, "profiles/\(f)")) }
        }
        return out
    }

    /// Differential flame graphs, new against base, for every benchmark
    /// profiled in both folders (profiles/NAME.folded): written to
    /// `run/profiles/NAME.diff.svg`; returns the benchmarks and paths
    /// relative to `run`.
    public static func writeDifferentialFlameGraphs(run: String, base: String, benchmarks: [String]) throws
        -> [(benchmark: String, path: String)] {
        var out: [(benchmark: String, path: String)] = []
        for b in benchmarks where !out.contains(where: { $0.benchmark == b }) {
            let file = Profiler.fileName(b)
            guard let newText = try? String(contentsOfFile: "\(run)/profiles/\(file).folded", encoding: .utf8),
                  let baseText = try? String(contentsOfFile: "\(base)/profiles/\(file).folded", encoding: .utf8) else { continue }
            let svg = FlameGraph.diffSVG(base: try FoldedStacks.parse(baseText), new: try FoldedStacks.parse(newText),
                                         title: "\(b): new against base",
                                         subtitle: "widths from the new profile; red grew, blue shrank")
            try AtomicFile.write(svg, to: "\(run)/profiles/\(file).diff.svg")
            out.append((b, "profiles/\(file).diff.svg"))
        }
        return out
    }

    /// Seconds from an "elapsed" context entry such as "98.3s".
    public static func elapsedSeconds(_ env: RunEnvironment) -> Double? {
        guard let e = env["elapsed"], e.hasSuffix("s") else { return nil }
        return Double(e.dropLast())
    }
}
