// The embedded store: one SQLite file (results/history.sqlite by default)
// through GRDB.
//
// Several processes may use the file at once (two CI jobs on one machine,
// `gobench all` while `gobench history` reads):
//   - the file is in WAL mode, so readers never block the writer;
//   - a write is one BEGIN IMMEDIATE transaction: it takes the write lock
//     before reading anything, so it never has to upgrade a read lock and
//     fail with SQLITE_BUSY halfway; a second writer waits for the lock
//     (busy timeout `busyTimeout`) instead of failing;
//   - opening the store creates and migrates it under an exclusive flock
//     on "<file>.lock", so two processes cannot both apply a migration
//     (GRDB's migrator is safe within a process, not across processes).
// A process killed mid-write leaves a transaction SQLite rolls back at the
// next open: the run is absent, never half there.

import Foundation
import GoBenchKit
import GRDB
#if canImport(Glibc)
import Glibc
#endif

public final class SQLiteHistoryStore: HistoryStore {
    public let location: String
    private let queue: DatabaseQueue
    private let migrator: DatabaseMigrator

    /// How long a writer waits for another process's write to finish.
    public static let busyTimeout: TimeInterval = 60

    public init(path: String) throws {
        location = path
        var m = DatabaseMigrator()
        for migration in Schema.migrations {
            m.registerMigration(migration.identifier) { db in
                for s in migration.statements(.sqlite) { try db.execute(sql: s) }
            }
        }
        migrator = m
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        do {
            queue = try Self.withFileLock(path + ".lock") {
                let q = try DatabaseQueue(path: path, configuration: config)
                try m.migrate(q)
                return q
            }
            if try queue.read(migrator.hasBeenSuperseded) {
                throw HistoryError("\(path) was written by a newer gobench (unknown schema migrations); not touching it")
            }
        } catch let e as HistoryError {
            throw e
        } catch {
            throw HistoryError("cannot open history store \(path): \(error)")
        }
    }

    /// Runs `body` holding an exclusive flock on `lockPath`.
    private static func withFileLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HistoryError("cannot open lock file \(lockPath): \(String(cString: strerror(errno)))") }
        defer { _ = Glibc.close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw HistoryError("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    @discardableResult
    public func record(_ run: RunRecord) throws -> Int64 {
        guard !run.results.isEmpty else { throw HistoryError("a run without results is not recorded") }
        do {
            return try queue.writeWithoutTransaction { db -> Int64 in
                var id: Int64 = 0
                try db.inTransaction(.immediate) {
                    let f = run.fingerprint.machineColumns
                    try db.execute(sql: """
                        INSERT INTO machines (hash, vendor, family, model, stepping, cpu_name, cores, hypervisor, kernel, thp, swift)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING
                        """, arguments: [run.fingerprint.hash, f.vendor, f.family, f.model, f.stepping, f.cpuName, f.cores,
                                         f.hypervisor, f.kernel, f.thp, f.swift])
                    try db.execute(sql: """
                        INSERT INTO runs (machine, revision, describe, branch, commit_time, started, suite, run_dir, context)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [run.fingerprint.hash, run.revision, run.describe, run.branch,
                                         run.commitTime?.timeIntervalSince1970, run.date.timeIntervalSince1970,
                                         run.suite, run.runDirectory, ContextCodec.encode(run.context)])
                    id = db.lastInsertedRowID
                    let insert = try db.makeStatement(sql: """
                        INSERT INTO measurements (run_id, benchmark, implementation, threads, repetition, process, n,
                                                  result_index, position, unit, kind, better, value)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for r in MeasurementRow.rows(of: run.results, runID: id) {
                        try insert.execute(arguments: [r.runID, r.benchmark, r.implementation, r.threads, r.repetition,
                                                       r.process, r.n, r.resultIndex, r.position, r.unit, r.kind,
                                                       r.better, r.value])
                    }
                    return .commit
                }
                return id
            }
        } catch {
            throw HistoryError("cannot record the run in \(location): \(error)")
        }
    }

    public func runs(machine: String?) throws -> [StoredRun] {
        try wrap {
            try queue.read { db in
                let rows: [Row]
                let columns = "id, machine, revision, describe, branch, commit_time, started, suite, run_dir"
                if let machine {
                    rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM runs WHERE machine = ?", arguments: [machine])
                } else {
                    rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM runs")
                }
                return rows.map { row in
                    StoredRun(id: row["id"], machine: row["machine"], revision: row["revision"], describe: row["describe"],
                              branch: row["branch"],
                              commitTime: (row["commit_time"] as Double?).map(Date.init(timeIntervalSince1970:)),
                              date: Date(timeIntervalSince1970: row["started"]), suite: row["suite"],
                              runDirectory: row["run_dir"])
                }.sorted(by: StoredRun.commitOrder)
            }
        }
    }

    public func machine(hash: String) throws -> MachineFingerprint? {
        try wrap {
            try queue.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM machines WHERE hash = ?", arguments: [hash]) else {
                    return nil
                }
                return MachineFingerprint(vendor: row["vendor"], family: row["family"], model: row["model"],
                                          stepping: row["stepping"], modelName: row["cpu_name"], cores: row["cores"],
                                          hypervisor: row["hypervisor"], kernel: row["kernel"], thp: row["thp"],
                                          swift: row["swift"])
            }
        }
    }

    public func results(runs ids: [Int64]) throws -> [Int64: [RepetitionResult]] {
        guard !ids.isEmpty else { return [:] }
        return try wrap {
            let rows = try queue.read { db -> [MeasurementRow] in
                var out: [MeasurementRow] = []
                // Bounded IN lists: SQLite limits a statement's parameters.
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    let marks = chunk.map { _ in "?" }.joined(separator: ",")
                    let cursor = try Row.fetchCursor(db, sql: """
                        SELECT run_id, benchmark, implementation, threads, repetition, process, n, result_index, position,
                               unit, kind, better, value FROM measurements WHERE run_id IN (\(marks))
                        """, arguments: StatementArguments(chunk))
                    while let row = try cursor.next() {
                        out.append(MeasurementRow(runID: row[0], benchmark: row[1], implementation: row[2], threads: row[3],
                                                  repetition: row[4], process: row[5], n: row[6], resultIndex: row[7],
                                                  position: row[8], unit: row[9], kind: row[10], better: row[11],
                                                  value: row[12]))
                    }
                }
                return out
            }
            return try MeasurementRow.results(from: rows)
        }
    }

    public func integrityProblems() throws -> [String] {
        try wrap {
            try queue.read { db in
                var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                let fk = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
                problems += fk.map { "foreign key: \($0)" }
                let orphans = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM measurements m WHERE m.run_id = r.id)
                    """) ?? 0
                if orphans > 0 { problems.append("\(orphans) run(s) without values") }
                return problems
            }
        }
    }

    public func appliedMigrations() throws -> [String] {
        try wrap { try queue.read { try migrator.appliedMigrations($0) } }
    }

    public func close() {
        try? queue.close()
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as HistoryError { throw e } catch {
            throw HistoryError("history store \(location): \(error)")
        }
    }
}
