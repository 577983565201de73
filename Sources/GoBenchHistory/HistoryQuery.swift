// Reading the store back as series: for one machine fingerprint, per
// benchmark and metric, one point per commit (the runs of one commit
// pooled; a run of an unknown commit is a point of its own), in commit
// order, each with its median and the median's confidence interval; and
// the change points of each series (ChangePoints.swift), with the commits
// on either side and the `gobench ab` command that confirms one.

import Foundation
import GoBenchKit

/// One commit's values of one series.
public struct SeriesPoint: Sendable, Equatable {
    public var revision: String
    public var shortRevision: String
    public var commitTime: Date?
    /// The latest of its runs' dates.
    public var date: Date
    public var runs: [Int64]
    public var summary: Summary
}

/// A change point located in a series.
public struct LocatedChangePoint: Sendable, Equatable {
    public var key: MetricKey
    public var better: Better
    public var changePoint: ChangePoint
    /// The last commit before the change and the first one after it.
    public var before: SeriesPoint
    public var after: SeriesPoint

    /// A change in the direction that is worse.
    public var isRegression: Bool {
        switch better {
        case .lower: return changePoint.change > 0
        case .higher: return changePoint.change < 0
        case .neither: return false
        }
    }

    /// The paired A/B that confirms it: the commits on either side.
    public var confirmCommand: String {
        let pattern = "^" + regexEscaped(key.name) + "$"
        return "gobench ab --base \(before.shortRevision) --candidate \(after.shortRevision) "
            + shellQuote(pattern)
    }
}

public struct HistorySeries: Sendable {
    public var key: MetricKey
    public var better: Better
    public var kind: MetricKind
    public var points: [SeriesPoint]
    public var changePoints: [LocatedChangePoint]
}

public enum HistoryQuery {
    /// The series on machine `machine` of the benchmarks matching
    /// `pattern` (unanchored; nil for all) and named in `names` (nil for
    /// all), and of the metrics `units` (nil for every metric but run conditions),
    /// over the last `lastCommits` commits (nil for all of them).
    public static func series(store: HistoryStore, machine: String, pattern: String? = nil, names: Set<String>? = nil,
                              units: Set<String>? = nil, lastCommits: Int? = nil,
                              options: ChangePointOptions = ChangePointOptions()) throws -> [HistorySeries] {
        let regex: Regex<AnyRegexOutput>?
        do { regex = try pattern.map { try Regex($0) } } catch {
            throw SelectionError("invalid regular expression \"\(pattern ?? "")\": \(error)")
        }
        let runs = try store.runs(machine: machine)
        let results = try store.results(runs: runs.map(\.id))

        // Points: one per commit, in commit order of the commit's first run.
        struct Group { var revision: String; var short: String; var commitTime: Date?; var date: Date; var runs: [Int64] }
        var groups: [Group] = []
        var groupOf: [String: Int] = [:]
        for r in runs {
            let key = r.revision == "unknown" ? "run \(r.id)" : r.revision
            if let g = groupOf[key] {
                groups[g].runs.append(r.id)
                groups[g].date = max(groups[g].date, r.date)
            } else {
                groupOf[key] = groups.count
                groups.append(Group(revision: r.revision, short: r.shortRevision, commitTime: r.commitTime,
                                    date: r.date, runs: [r.id]))
            }
        }

        if let last = lastCommits, groups.count > last { groups.removeFirst(groups.count - last) }

        struct Acc { var better: Better; var kind: MetricKind; var values: [Int: [Double]] }
        var acc: [MetricKey: Acc] = [:]
        for (gi, g) in groups.enumerated() {
            for run in g.runs {
                for rep in results[run] ?? [] {
                    if let names, !names.contains(rep.name) { continue }
                    if let regex, (try? regex.firstMatch(in: rep.name)) == nil { continue }
                    for m in rep.metrics {
                        if let units { guard units.contains(m.unit) else { continue } } else if m.kind == .condition { continue }
                        let key = MetricKey(series: rep.series, unit: m.unit)
                        acc[key, default: Acc(better: m.better, kind: m.kind, values: [:])].values[gi, default: []]
                            .append(m.value)
                    }
                }
            }
        }

        var out: [HistorySeries] = []
        for (key, a) in acc {
            let points = a.values.keys.sorted().map { gi -> SeriesPoint in
                let g = groups[gi]
                return SeriesPoint(revision: g.revision, shortRevision: g.short, commitTime: g.commitTime, date: g.date,
                                   runs: g.runs, summary: Statistics.summarize(a.values[gi]!))
            }
            let seed = stableSeed("\(key.implementation)\u{1F}\(key.name)\u{1F}\(key.unit)")
            let cps = a.kind == .condition ? [] : EDivisive.changePoints(points.map(\.summary.median), options: options, seed: seed)
            out.append(HistorySeries(key: key, better: a.better, kind: a.kind, points: points,
                                     changePoints: cps.map {
                                         LocatedChangePoint(key: key, better: a.better, changePoint: $0,
                                                            before: points[$0.index - 1], after: points[$0.index])
                                     }))
        }
        return out.sorted { ($0.key.series, $0.key.unit) < ($1.key.series, $1.key.unit) }
    }

    /// The change points that land after commit `since`: after its point
    /// in the series when it has one, else on a commit dated after it.
    public static func changePoints(in series: [HistorySeries], since: GitCommit) -> [LocatedChangePoint] {
        series.flatMap { s -> [LocatedChangePoint] in
            if let at = s.points.firstIndex(where: { $0.revision == since.hash }) {
                return s.changePoints.filter { $0.changePoint.index > at }
            }
            return s.changePoints.filter { ($0.after.commitTime ?? $0.after.date) > since.time }
        }
    }

    /// Eight-level bars scaled to the values' range.
    public static func sparkline(_ values: [Double]) -> String {
        let bars = Array("▁▂▃▄▅▆▇█")
        guard let lo = values.min(), let hi = values.max() else { return "" }
        guard hi > lo else { return String(repeating: bars[3], count: values.count) }
        return String(values.map { bars[min(7, Int(($0 - lo) / (hi - lo) * 8))] })
    }
}

/// `s` with regex metacharacters escaped (not "/", which needs none).
func regexEscaped(_ s: String) -> String {
    var out = ""
    for c in s {
        if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
        out.append(c)
    }
    return out
}

/// Quotes a word for a POSIX shell when it needs it.
func shellQuote(_ s: String) -> String {
    let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:".contains($0) }
    return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
