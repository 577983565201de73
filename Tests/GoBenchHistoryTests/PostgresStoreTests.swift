// The PostgreSQL store, for real: a throwaway cluster (initdb + pg_ctl from
// Debian's postgresql package, which scripts/bootstrap installs) listening
// only on a Unix socket in a temporary folder, with fsync off; the same
// checks as the SQLite store, two gobench processes importing at once, and
// a migration race; then the cluster is stopped and removed. Where no
// cluster can be started the test is skipped, and the reason printed.

import Foundation
import GoBenchTestSupport
import GoBenchHistory
import GoBenchKit
import Testing

final class PostgresCluster {
    static let binDirectory: String? = ["17", "16", "15", "14", "13"].lazy
        .map { "/usr/lib/postgresql/\($0)/bin" }
        .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }

    /// Root cannot run postgres: as root the cluster runs as the
    /// `postgres` user the package creates, through runuser.
    static let runAs: String? = getuid() == 0 ? "postgres" : nil

    static let unavailableReason: String? = {
        guard binDirectory != nil else {
            return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; scripts/bootstrap installs postgresql)"
        }
        if getuid() == 0 {
            guard getpwnam("postgres") != nil else { return "running as root and there is no postgres user to run the server" }
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { return "running as root without runuser" }
        }
        return nil
    }()

    static var available: Bool {
        if let r = unavailableReason { print("PostgreSQL store tests skipped: \(r)") }
        return unavailableReason == nil
    }

    let root: String
    let port: Int
    var socketDirectory: String { "\(root)/socket" }
    var url: String { url(database: "postgres") }

    func url(database: String) -> String { "postgresql://gobench@localhost:\(port)/\(database)?host=\(socketDirectory)" }

    init() throws {
        root = try scratch("pg")
        port = Int.random(in: 20_000..<60_000)
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        if let user = Self.runAs {
            try #require(try runProgram("/bin/chown", ["-R", user, root]).status == 0)
            try #require(try runProgram("/bin/chmod", ["755", root]).status == 0)
        }
        let initdb = try tool("initdb", ["-D", "\(root)/data", "-A", "trust", "-U", "gobench", "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else { throw HistoryError("initdb failed: \(initdb.stderr)") }
        let start = try tool("pg_ctl", ["-D", "\(root)/data", "-l", "\(root)/log", "-w", "-t", "60", "-o",
                                        "-k \(socketDirectory) -c listen_addresses='' -p \(port) -F", "start"])
        guard start.status == 0 else {
            let log = (try? String(contentsOfFile: "\(root)/log", encoding: .utf8)) ?? ""
            throw HistoryError("pg_ctl start failed: \(start.stdout)\(start.stderr)\(log)")
        }
    }

    func tool(_ name: String, _ args: [String]) throws -> Ran {
        let path = "\(Self.binDirectory!)/\(name)"
        if let user = Self.runAs { return try runProgram("/usr/sbin/runuser", ["-u", user, "--", path] + args) }
        return try runProgram(path, args)
    }

    func createDatabase(_ name: String) throws {
        let r = try runProgram("/usr/bin/env", ["psql", "-h", socketDirectory, "-p", String(port), "-U", "gobench",
                                                "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
        try #require(r.status == 0, "\(r.stderr)")
    }

    func stop() {
        _ = try? tool("pg_ctl", ["-D", "\(root)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }
}

@Suite struct PostgresStoreTests {
    @Test(.enabled(if: PostgresCluster.available, "needs a PostgreSQL server binary (see the printed reason)"))
    func theStoreOnARealServer() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let up = clock.now - started

        // Same checks as SQLite.
        let store = try History.open(cluster.url)
        try StoreChecks.recordsAndReadsBackExactly(store)
        try StoreChecks.failedWriteAddsNothing(store)
        store.close()
        let again = try History.open(cluster.url)
        #expect(try again.appliedMigrations() == ["v1-machines-runs-measurements"])
        again.close()

        // Four connections writing at once, racing the first migration of
        // a new database.
        try cluster.createDatabase("race")
        let raceURL = cluster.url(database: "race")
        final class Opened: @unchecked Sendable {
            let lock = NSLock()
            var errors: [String] = []
        }
        let opened = Opened()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { try History.open(raceURL).close() } catch {
                opened.lock.lock(); opened.errors.append("\(error)"); opened.lock.unlock()
            }
        }
        #expect(opened.errors.isEmpty, "\(opened.errors)")
        try StoreChecks.concurrentWriters(open: { try History.open(raceURL) }, writers: 4, runsEach: 5)

        // Two gobench processes importing into the fleet store at once.
        let dir = try scratch("pg-procs")
        var rng = SplitMix64(seed: 3)
        let a = try writeRunFolder("\(dir)/a", results: syntheticResults(reps: 30, rng: &rng), context: syntheticContext())
        try cluster.createDatabase("procs")
        let procsURL = cluster.url(database: "procs")
        let gobench = try gobenchExecutable()
        for o in runConcurrently(["A", "B"].map { name in
            (gobench, ["history", "--history", procsURL, "--suite", name, "--import", a, "--import", a, "--import", a])
        }) {
            let r = try o.get()
            #expect(r.status == 0, "\(r.stderr)")
        }
        let s = try History.open(procsURL)
        let runs = try s.runs(machine: nil)
        #expect(runs.count == 6)
        let expected = try loadResults(path: "\(a)/results.csv")
        let read = try s.results(runs: runs.map(\.id))
        for r in runs { #expect(read[r.id] == expected) }
        #expect(try s.integrityProblems().isEmpty)
        s.close()

        // A bad URL and an unreachable server are one-line errors.
        #expect(throws: HistoryError.self) { try History.open("postgresql://") }
        #expect(throws: HistoryError.self) { try History.open(cluster.url(database: "missing")) }

        print("PostgreSQL store test: cluster up in \(up), whole test \(clock.now - started)")
    }
}
