// The results store: every recorded run, on every machine, with every
// repetition's values, so that a benchmark's series over commits can be
// read back and searched for change points (ChangePoints.swift).
//
// Like rustc-perf, one schema has two backends: an embedded SQLite file
// (results/history.sqlite, the default, through GRDB) and PostgreSQL for a
// fleet of CI machines whose results must meet in one place (postgres-nio).
// Both implement `HistoryStore`; Schema.swift holds the one schema and its
// versioned migrations, spelled for each dialect.
//
// Invariants, kept by both backends:
//   - a run is written in one transaction: its machine row (if new), its
//     run row and all its values, or nothing (an interrupted or failed
//     write leaves no run without values, and no values without a run);
//   - values read back are the doubles written, bit for bit, with their
//     unit, kind, direction, repetition, process, n and threads, in the
//     order the run produced them (`position`);
//   - several processes may write at once (SQLite: WAL and a busy timeout,
//     writes in BEGIN IMMEDIATE; PostgreSQL: its own MVCC), and opening a
//     store migrates it under a lock, so two first runs cannot race the
//     schema.

import Foundation
import GoBenchKit

/// One run as the store keeps it: where and on what it ran, and its results.
public struct RunRecord: Sendable, Equatable {
    public var fingerprint: MachineFingerprint
    /// The full commit hash the binary was built from, or "unknown".
    public var revision: String
    /// `git describe` as the run context has it ("c698f54abcde-dirty").
    public var describe: String
    public var branch: String
    /// The commit's committer date: the order of a series over commits.
    public var commitTime: Date?
    /// When the run started.
    public var date: Date
    /// The suites run ("default,go"), or "run <pattern>" for `gobench run`.
    public var suite: String
    /// The run folder (results.csv, context.json...), if one was written.
    public var runDirectory: String?
    /// The whole run context, in order.
    public var context: RunEnvironment
    public var results: [RepetitionResult]

    public init(fingerprint: MachineFingerprint, revision: String, describe: String, branch: String,
                commitTime: Date?, date: Date, suite: String, runDirectory: String?,
                context: RunEnvironment, results: [RepetitionResult]) {
        self.fingerprint = fingerprint
        self.revision = revision
        self.describe = describe
        self.branch = branch
        self.commitTime = commitTime
        self.date = date
        self.suite = suite
        self.runDirectory = runDirectory
        self.context = context
        self.results = results
    }

    /// True when the working tree had uncommitted changes.
    public var dirty: Bool { describe.hasSuffix("-dirty") }
}

/// A run's row, without its values.
public struct StoredRun: Sendable, Equatable {
    public var id: Int64
    public var machine: String
    public var revision: String
    public var describe: String
    public var branch: String
    public var commitTime: Date?
    public var date: Date
    public var suite: String
    public var runDirectory: String?

    /// The commit's short hash (12 digits), or the describe string.
    public var shortRevision: String {
        revision == "unknown" ? describe : String(revision.prefix(12))
    }

    /// Runs in the order of their commits (committer date), then of their
    /// own dates: the x axis of a series.
    public static func commitOrder(_ a: StoredRun, _ b: StoredRun) -> Bool {
        let ta = a.commitTime ?? a.date, tb = b.commitTime ?? b.date
        if ta != tb { return ta < tb }
        if a.date != b.date { return a.date < b.date }
        return a.id < b.id
    }
}

/// A results store. Methods block; the PostgreSQL backend bridges its
/// async client. Errors are `HistoryError`s with a one-line description.
public protocol HistoryStore: AnyObject {
    /// Where it is, for messages: a file path or a URL without password.
    var location: String { get }

    /// Writes one run and its values in one transaction; returns its id.
    @discardableResult
    func record(_ run: RunRecord) throws -> Int64

    /// Every run on the machine with this fingerprint hash (every run when
    /// nil), in commit order.
    func runs(machine: String?) throws -> [StoredRun]

    /// The machine with this fingerprint hash, if any run recorded it.
    func machine(hash: String) throws -> MachineFingerprint?

    /// The results of these runs, as written.
    func results(runs: [Int64]) throws -> [Int64: [RepetitionResult]]

    /// The backend's consistency check; empty when it passes.
    func integrityProblems() throws -> [String]

    /// The schema migrations applied, in order.
    func appliedMigrations() throws -> [String]

    func close()
}

public struct HistoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Opening a store from what the user gave.
public enum History {
    /// The environment variable that selects the store when no --history
    /// is given (a path, sqlite://PATH or postgresql://...).
    public static let environmentVariable = "GOBENCH_HISTORY"

    /// The embedded default, relative to the working directory.
    public static let defaultPath = "results/history.sqlite"

    /// The location to use: the flag, else $GOBENCH_HISTORY, else the default.
    public static func resolveLocation(_ flag: String?,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let f = flag, !f.isEmpty { return f }
        if let e = environment[environmentVariable], !e.isEmpty { return e }
        return defaultPath
    }

    /// Opens (creating and migrating as needed) the store at `location`:
    /// postgresql:// or postgres:// URLs go to PostgreSQL, sqlite://PATH
    /// and plain paths to SQLite.
    public static func open(_ location: String) throws -> HistoryStore {
        if location.hasPrefix("postgresql://") || location.hasPrefix("postgres://") {
            return try PostgresHistoryStore(url: location)
        }
        var path = location
        if path.hasPrefix("sqlite://") { path = String(path.dropFirst("sqlite://".count)) }
        guard !path.isEmpty else { throw HistoryError("empty history location") }
        return try SQLiteHistoryStore(path: path)
    }
}
