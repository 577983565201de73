// The history the HTML report draws: for the benchmarks of one run, their
// series over commits on the run's machine (HistoryQuery) turned into the
// harness's HistoryTrack, with the run's own commit marked and each change
// point's size, p and confirming command.

import Foundation
import GoBenchKit

public enum HistoryTracks {
    /// The series of the metrics `units` of the benchmarks `names` on machine
    /// `machine`, and how many runs and commits the store holds there.
    /// `currentRun` marks the point that holds that run; without one, the
    /// run recorded from `currentDirectory`, if any, is marked. Without a
    /// machine (a run folder from before fingerprints), the machine is that
    /// of the run recorded from `currentDirectory`; nil when there is none.
    /// The series cover the last `lastCommits` commits: change-point search
    /// is quadratic in a series' length, and the report's end of a run
    /// must stay quick however long the store's history grows.
    public static func tracks(store: HistoryStore, machine: String?, names: Set<String>, units: Set<String> = ["ns/op", "cpu-ns/op"],
                              lastCommits: Int = 60, currentRun: Int64?, currentDirectory: String? = nil,
                              options: ChangePointOptions = ChangePointOptions())
        throws -> (tracks: [HistoryTrack], provenance: HistoryProvenance)? {
        let standard = { (p: String) in URL(fileURLWithPath: p).standardizedFileURL.path }
        // One read of the runs: this machine's, or every run when the
        // machine is to be found from the folder.
        let known = try store.runs(machine: machine)
        let recorded = currentDirectory.flatMap { d in known.last { $0.runDirectory.map(standard) == standard(d) } }
        guard let machine = machine ?? recorded?.machine else { return nil }
        let runs = known.filter { $0.machine == machine }
        let currentRun = currentRun ?? recorded?.id
        let commits = Set(runs.map { $0.revision == "unknown" ? "run \($0.id)" : $0.revision }).count
        let provenance = HistoryProvenance(store: store.location, machine: machine, runs: runs.count, commits: commits,
                                           window: lastCommits)
        let series = try HistoryQuery.series(store: store, machine: machine, names: names, units: units,
                                             lastCommits: lastCommits, options: options)
        return (series.map { track($0, currentRun: currentRun) }, provenance)
    }

    static func track(_ s: HistorySeries, currentRun: Int64?) -> HistoryTrack {
        let points = s.points.map { p in
            HistoryTrack.Point(label: p.shortRevision, date: p.commitTime ?? p.date, summary: p.summary,
                               isCurrent: currentRun.map { p.runs.contains($0) } ?? false)
        }
        let changes = s.changePoints.map { cp in
            HistoryTrack.Change(index: cp.changePoint.index, change: cp.changePoint.change, low: cp.changePoint.changeLow,
                                high: cp.changePoint.changeHigh, pValue: cp.changePoint.pValue,
                                isRegression: cp.isRegression, confirm: cp.confirmCommand)
        }
        return HistoryTrack(key: s.key, kind: s.kind, points: points, changes: changes)
    }
}
