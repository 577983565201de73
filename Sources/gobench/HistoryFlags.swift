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
}

struct HistoryFlags: ParsableArguments {
    @OptionGroup var store: HistoryLocation

    @Flag(name: .long, help: "Do not record this run in the history store.")
    var noHistory = false

    /// Records a finished session, unless --no-history or it wrote no run
    /// folder (--no-save writes nothing). A store that cannot be written is
    /// an error after the run's files are safe, naming the command that
    /// records them later.
    func record(_ session: SessionResult, suite: String) throws {
        guard !noHistory, let dir = session.runDirectory, !session.results.isEmpty else { return }
        do {
            let s = try History.open(store.location)
            defer { s.close() }
            let id = try s.record(Recording.record(of: session, suite: suite))
            FileHandle.standardError.write(Data("gobench: recorded as run \(id) in \(s.location)\n".utf8))
        } catch let e as HistoryError {
            throw fail("history: \(e) (the run is in \(dir); record it later with `gobench history --import \(dir)`)")
        }
    }
}
