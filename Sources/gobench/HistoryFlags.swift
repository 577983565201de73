// The history store's flags: where it is (--history), and --no-history for
// the commands that record runs (run, all).

import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit

struct HistoryLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "History store: a SQLite file or postgresql://user:password@host:port/database.",
        discussion: "Default: $GOBENCH_HISTORY, else results/history.sqlite."))
    var history: String?

    var location: String { History.resolveLocation(history) }

    /// Opens the store; its errors become one-line CLI errors.
    func open() throws -> HistoryStore {
        do { return try History.open(location) } catch let e as HistoryError { throw fail("history: \(e)") }
    }

    /// False for a SQLite file that is not there: a query does not create
    /// a store where there is none. A PostgreSQL URL is taken to exist.
    var exists: Bool {
        location.hasPrefix("postgres")
            || FileManager.default.fileExists(atPath: location.replacingOccurrences(of: "sqlite://", with: ""))
    }

    /// `report` with the ns/op and cpu-ns/op series over commits of its benchmarks on
    /// its machine, when there is a store. A store that cannot be read is
    /// a warning: the report is written without its history.
    func addHistory(to report: inout RunReport, currentRun: Int64?) {
        guard exists else { return }
        do {
            let s = try History.open(location)
            defer { s.close() }
            guard let found = try HistoryTracks.tracks(
                store: s, machine: MachineFingerprint(context: report.environment)?.hash,
                names: Set(report.series.map(\.name)), currentRun: currentRun, currentDirectory: report.runDirectory)
            else { return }
            report.history = found.tracks
            report.historyProvenance = found.provenance
        } catch {
            FileHandle.standardError.write(Data("gobench: warning: report.html has no history: \(error)\n".utf8))
        }
    }
}

struct HistoryFlags: ParsableArguments {
    @OptionGroup var store: HistoryLocation

    @Flag(name: .long, help: "Do not record this run in the history store.")
    var noHistory = false

    /// Records a finished session, unless --no-history or it wrote no run
    /// folder (--no-save writes nothing), then writes its report.html a
    /// last time: with what the run folder holds now (the profiled pass's
    /// flame graphs come after the session wrote it) and the history of
    /// its benchmarks. A store that cannot be written is an error after
    /// the run's files are safe, naming the command that records them later.
    func recordAndReport(_ session: SessionResult, suite: String) throws {
        guard let dir = session.runDirectory else { return }
        var id: Int64?
        if !noHistory && !session.results.isEmpty {
            do {
                let s = try History.open(store.location)
                defer { s.close() }
                id = try s.record(Recording.record(of: session, suite: suite))
                FileHandle.standardError.write(Data("gobench: recorded as run \(id!) in \(s.location)\n".utf8))
            } catch let e as HistoryError {
                try writeReport(session, run: nil, to: dir)
                throw fail("history: \(e) (the run is in \(dir); record it later with `gobench history --import \(dir)`)")
            }
        }
        try writeReport(session, run: id, to: dir)
    }

    private func writeReport(_ session: SessionResult, run: Int64?, to dir: String) throws {
        guard var report = session.report else { return }
        store.addHistory(to: &report, currentRun: run)
        try RunFolderWriter.writeHTML(report, to: dir)
    }
}
