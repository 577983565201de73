// The fleet store: the same schema (Schema.swift) in PostgreSQL, through
// postgres-nio, so that several CI machines record into one database and
// each reads its own fingerprint's series back.
//
// Selected by a postgresql:// (or postgres://) URL given to --history or in
// $GOBENCH_HISTORY:
//     postgresql://user:password@host:5432/database
//     postgresql://user@/database?host=/run/postgresql   (Unix socket dir)
// The connection is plain TCP or a Unix socket, without TLS: a fleet store
// lives on a private network or behind a tunnel.
//
// Concurrency: each `record` is one transaction (BEGIN ... COMMIT; any
// error rolls it back), and PostgreSQL's MVCC lets any number of writers
// insert at once. Migrations run in one transaction holding an advisory
// lock, so two machines' first runs cannot apply a migration twice.
//
// The store's methods block: HistoryStore is synchronous (the CLI is). They
// use postgres-nio's EventLoopFuture API and wait for each future on the
// calling thread, which is never the connection's event loop. (An earlier
// version ran the async API in a Task and waited on a semaphore: called
// from Swift Testing's tests, on the cooperative pool of a 2-core machine,
// the waiting threads were the pool and the Task never ran.)

import Foundation
import GoBenchKit
import PostgresNIO

public final class PostgresHistoryStore: HistoryStore {
    public let location: String
    private let connection: PostgresConnection
    private let logger: Logger

    /// The advisory lock key migrations hold ("gobench" in ASCII).
    static let migrationLockKey: Int64 = 0x676f_6265_6e63_68

    /// The event loops connections run on (shared, started once).
    static let eventLoops = MultiThreadedEventLoopGroup.singleton

    public init(url: String) throws {
        let config = try Self.configuration(url)
        location = config.redacted
        var logger = Logger(label: "gobench.history")
        logger.logLevel = .critical
        self.logger = logger
        do {
            connection = try PostgresConnection.connect(on: Self.eventLoops.next(), configuration: config.connection,
                                                        id: 1, logger: logger).wait()
        } catch {
            throw HistoryError("cannot connect to the history store \(config.redacted): \(String(reflecting: error))")
        }
        do {
            try migrate()
        } catch {
            close()
            throw error
        }
    }

    struct ParsedURL {
        var connection: PostgresConnection.Configuration
        var redacted: String
    }

    /// postgresql://[user[:password]@][host][:port][/database][?host=/socket/dir]
    static func configuration(_ url: String) throws -> ParsedURL {
        guard let c = URLComponents(string: url), c.scheme == "postgresql" || c.scheme == "postgres" else {
            throw HistoryError("invalid PostgreSQL URL \"\(url)\" (want postgresql://user:password@host:port/database)")
        }
        let user = c.user?.removingPercentEncoding ?? NSUserName()
        let password = c.password?.removingPercentEncoding
        var database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        if database.isEmpty { database = user }
        let port = c.port ?? 5432
        let socketDir = c.queryItems?.first { $0.name == "host" }?.value
        var redacted = "postgresql://\(user)@\(c.host ?? "")\(c.port.map { ":\($0)" } ?? "")/\(database)"
        if let dir = socketDir, dir.hasPrefix("/") {
            redacted += "?host=\(dir)"
            return ParsedURL(connection: .init(unixSocketPath: "\(dir)/.s.PGSQL.\(port)", username: user,
                                               password: password, database: database),
                             redacted: redacted)
        }
        guard let host = c.host, !host.isEmpty else {
            throw HistoryError("PostgreSQL URL \"\(redactedOrRaw(url))\" names no host (or ?host=/socket/dir)")
        }
        return ParsedURL(connection: .init(host: host, port: port, username: user, password: password,
                                           database: database, tls: .disable),
                         redacted: redacted)
    }

    private static func redactedOrRaw(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return url }
        if c.password != nil { c.password = "***" }
        return c.string ?? url
    }

    /// Runs one statement and waits for all its rows.
    @discardableResult
    private func query(_ q: PostgresQuery) throws -> [PostgresRow] {
        try connection.query(q, logger: logger).wait().rows
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws.
    private func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// Applies the migrations this store lacks, in one transaction under
    /// the advisory lock.
    private func migrate() throws {
        try wrap {
            try transaction {
                try query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))")
                try query("CREATE TABLE IF NOT EXISTS gobench_migrations (identifier TEXT PRIMARY KEY NOT NULL)")
                let applied = Set(try query("SELECT identifier FROM gobench_migrations").map { try $0.decode(String.self) })
                let known = Set(Schema.migrations.map(\.identifier))
                if let unknown = applied.subtracting(known).sorted().first {
                    throw HistoryError("the history store has migration \(unknown), unknown to this gobench (a newer one wrote it)")
                }
                for m in Schema.migrations where !applied.contains(m.identifier) {
                    for s in m.statements(.postgres) { try query(PostgresQuery(unsafeSQL: s)) }
                    try query("INSERT INTO gobench_migrations (identifier) VALUES (\(m.identifier))")
                }
            }
        }
    }

    @discardableResult
    public func record(_ run: RunRecord) throws -> Int64 {
        guard !run.results.isEmpty else { throw HistoryError("a run without results is not recorded") }
        let f = run.fingerprint.machineColumns
        let hash = run.fingerprint.hash
        let context = ContextCodec.encode(run.context)
        return try wrap {
            try transaction {
                try query("""
                    INSERT INTO machines (hash, vendor, family, model, stepping, cpu_name, cores, hypervisor, kernel, thp, swift)
                    VALUES (\(hash), \(f.vendor), \(f.family), \(f.model), \(f.stepping), \(f.cpuName), \(f.cores),
                            \(f.hypervisor), \(f.kernel), \(f.thp), \(f.swift))
                    ON CONFLICT (hash) DO NOTHING
                    """)
                let commitTime = run.commitTime?.timeIntervalSince1970
                let started = run.date.timeIntervalSince1970
                let inserted = try query("""
                    INSERT INTO runs (machine, revision, describe, branch, commit_time, started, suite, run_dir, context)
                    VALUES (\(hash), \(run.revision), \(run.describe), \(run.branch), \(commitTime), \(started),
                            \(run.suite), \(run.runDirectory), \(context))
                    RETURNING id
                    """)
                guard let id = try inserted.first?.decode(Int64.self) else {
                    throw HistoryError("INSERT INTO runs returned no id")
                }
                // All values in one statement per chunk: unnest over arrays,
                // with -1 standing for a null process (processes are >= 0).
                let rows = MeasurementRow.rows(of: run.results, runID: id)
                for start in stride(from: 0, to: rows.count, by: 10_000) {
                    let chunk = rows[start..<min(start + 10_000, rows.count)]
                    let runIDs = chunk.map(\.runID), names = chunk.map(\.benchmark), impls = chunk.map(\.implementation)
                    let threads = chunk.map { Int64($0.threads) }, reps = chunk.map { Int64($0.repetition) }
                    let procs = chunk.map { Int64($0.process ?? -1) }, ns = chunk.map { Int64($0.n) }
                    let idx = chunk.map { Int64($0.resultIndex) }, pos = chunk.map { Int64($0.position) }
                    let units = chunk.map(\.unit), kinds = chunk.map(\.kind), betters = chunk.map(\.better)
                    let values = chunk.map(\.value)
                    try query("""
                        INSERT INTO measurements (run_id, benchmark, implementation, threads, repetition, process, n,
                                                  result_index, position, unit, kind, better, value)
                        SELECT r, b, i, t, rep, NULLIF(p, -1), n, ri, pos, u, k, bt, v
                        FROM unnest(\(runIDs)::bigint[], \(names)::text[], \(impls)::text[], \(threads)::bigint[],
                                    \(reps)::bigint[], \(procs)::bigint[], \(ns)::bigint[], \(idx)::bigint[],
                                    \(pos)::bigint[], \(units)::text[], \(kinds)::text[], \(betters)::text[],
                                    \(values)::float8[])
                             AS x(r, b, i, t, rep, p, n, ri, pos, u, k, bt, v)
                        """)
                }
                return id
            }
        }
    }

    public func runs(machine: String?) throws -> [StoredRun] {
        try wrap {
            let columns = "id, machine, revision, describe, branch, commit_time, started, suite, run_dir"
            let rows: [PostgresRow]
            if let machine {
                rows = try query("SELECT \(unescaped: columns) FROM runs WHERE machine = \(machine)")
            } else {
                rows = try query("SELECT \(unescaped: columns) FROM runs")
            }
            return try rows.map { row in
                let (id, m, rev, desc, branch, ct, started, suite, dir)
                    = try row.decode((Int64, String, String, String, String, Double?, Double, String, String?).self)
                return StoredRun(id: id, machine: m, revision: rev, describe: desc, branch: branch,
                                 commitTime: ct.map(Date.init(timeIntervalSince1970:)),
                                 date: Date(timeIntervalSince1970: started), suite: suite, runDirectory: dir)
            }.sorted(by: StoredRun.commitOrder)
        }
    }

    public func machine(hash: String) throws -> MachineFingerprint? {
        try wrap {
            try query("""
                SELECT vendor, family, model, stepping, cpu_name, cores, hypervisor, kernel, thp, swift
                FROM machines WHERE hash = \(hash)
                """).first.map { row in
                let (vendor, family, model, stepping, name, cores, hv, kernel, thp, swift)
                    = try row.decode((String, Int, Int, Int, String, Int, String, String, String, String).self)
                return MachineFingerprint(vendor: vendor, family: family, model: model, stepping: stepping, modelName: name,
                                          cores: cores, hypervisor: hv, kernel: kernel, thp: thp, swift: swift)
            }
        }
    }

    public func results(runs ids: [Int64]) throws -> [Int64: [RepetitionResult]] {
        guard !ids.isEmpty else { return [:] }
        return try wrap {
            let rows = try query("""
                SELECT run_id, benchmark, implementation, threads, repetition, process, n, result_index, position,
                       unit, kind, better, value
                FROM measurements WHERE run_id = ANY(\(ids)::bigint[])
                """).map { row in
                let (run, b, i, t, rep, p, n, ri, pos, u, k, bt, v)
                    = try row.decode((Int64, String, String, Int, Int, Int?, Int, Int, Int, String, String, String, Double).self)
                return MeasurementRow(runID: run, benchmark: b, implementation: i, threads: t, repetition: rep,
                                      process: p, n: n, resultIndex: ri, position: pos, unit: u, kind: k, better: bt,
                                      value: v)
            }
            return try MeasurementRow.results(from: rows)
        }
    }

    public func integrityProblems() throws -> [String] {
        try wrap {
            var problems: [String] = []
            let noValues = try query("""
                SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM measurements m WHERE m.run_id = r.id)
                """).first?.decode(Int.self) ?? 0
            if noValues > 0 { problems.append("\(noValues) run(s) without values") }
            let noRun = try query("""
                SELECT COUNT(*) FROM measurements m WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = m.run_id)
                """).first?.decode(Int.self) ?? 0
            if noRun > 0 { problems.append("\(noRun) value(s) without a run") }
            return problems
        }
    }

    public func appliedMigrations() throws -> [String] {
        try wrap {
            let ids = try query("SELECT identifier FROM gobench_migrations").map { try $0.decode(String.self) }
            let order = Schema.migrations.map(\.identifier)
            return ids.sorted { (order.firstIndex(of: $0) ?? .max) < (order.firstIndex(of: $1) ?? .max) }
        }
    }

    public func close() {
        try? connection.close().wait()
    }

    /// Errors as one-line HistoryErrors.
    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as HistoryError {
            throw e
        } catch let e as PSQLError {
            throw HistoryError("history store \(location): \(e.serverInfo?[.message].map { "server: \($0)" } ?? String(reflecting: e))")
        } catch {
            throw HistoryError("history store \(location): \(String(reflecting: error))")
        }
    }
}
