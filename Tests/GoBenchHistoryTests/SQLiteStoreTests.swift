import Foundation
import GoBenchTestSupport
import GoBenchHistory
import GoBenchKit
import GRDB
import Testing

@Suite struct SQLiteStoreTests {
    @Test func recordsAndReadsBackExactly() throws {
        let path = try scratch("sqlite") + "/results/history.sqlite"
        let store = try History.open(path)
        defer { store.close() }
        try StoreChecks.recordsAndReadsBackExactly(store)
        try StoreChecks.failedWriteAddsNothing(store)
        // Reopening migrates nothing twice and finds the same runs.
        let again = try History.open("sqlite://" + path)
        defer { again.close() }
        #expect(try again.runs(machine: nil).count == 4)
        #expect(try again.appliedMigrations() == ["v1-machines-runs-measurements"])
    }

    /// A write that fails after its run row and some values are in leaves
    /// none of them: a trigger aborts the insert of one poisoned value.
    @Test func aWriteFailingHalfwayLeavesNothing() throws {
        let path = try scratch("sqlite-poison") + "/history.sqlite"
        let store = try History.open(path)
        defer { store.close() }
        var rng = SplitMix64(seed: 7)
        try store.record(syntheticRecord(syntheticResults(reps: 2, rng: &rng)))
        let db = try DatabaseQueue(path: path)
        try db.write { db in
            try db.execute(sql: """
                CREATE TRIGGER poison BEFORE INSERT ON measurements WHEN NEW.benchmark = 'poison'
                BEGIN SELECT RAISE(ABORT, 'poisoned value'); END
                """)
        }
        var results = syntheticResults(reps: 3, rng: &rng)
        results.append(RepetitionResult(name: "poison", threads: 1, repetition: 0, n: 1,
                                        metrics: [Metric(1, unit: "ns/op", kind: .time)]))
        #expect(throws: HistoryError.self) { try store.record(syntheticRecord(results)) }
        #expect(try store.runs(machine: nil).count == 1)
        let values = try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM measurements") }
        #expect(values == 2 * 3 * 5)
        #expect(try store.integrityProblems().isEmpty)
        try db.close()
    }

    @Test func writersOnThreadsAtOnce() throws {
        let path = try scratch("sqlite-threads") + "/history.sqlite"
        try StoreChecks.concurrentWriters(open: { try History.open(path) }, writers: 4, runsEach: 5)
    }

    /// Two gobench processes import runs into one new store at once (both
    /// also race to create and migrate it): every run of both is there,
    /// complete, and the file passes SQLite's integrity check.
    @Test func twoProcessesWritingAtOnce() throws {
        let dir = try scratch("sqlite-procs")
        var rng = SplitMix64(seed: 9)
        let a = try writeRunFolder("\(dir)/a", results: syntheticResults(reps: 40, rng: &rng), context: syntheticContext())
        let b = try writeRunFolder("\(dir)/b", results: syntheticResults(reps: 40, rng: &rng), context: syntheticContext())
        let store = "\(dir)/results/history.sqlite"
        let imports = 6
        let gobench = try gobenchExecutable()
        let outcomes = runConcurrently([("A", a), ("B", b)].map { name, folder in
            (gobench, ["history", "--history", store, "--suite", name]
                + Array(repeating: ["--import", folder], count: imports).flatMap { $0 })
        })
        for o in outcomes {
            let r = try o.get()
            #expect(r.status == 0, "\(r.stderr)")
        }
        let s = try History.open(store)
        defer { s.close() }
        let runs = try s.runs(machine: nil)
        #expect(runs.filter { $0.suite == "A" }.count == imports)
        #expect(runs.filter { $0.suite == "B" }.count == imports)
        let expectA = try loadResults(path: "\(a)/results.csv"), expectB = try loadResults(path: "\(b)/results.csv")
        let read = try s.results(runs: runs.map(\.id))
        for r in runs { #expect(read[r.id] == (r.suite == "A" ? expectA : expectB)) }
        #expect(try s.integrityProblems().isEmpty)
    }

    /// A writer killed (SIGKILL) while its transaction is open leaves the
    /// store without that run, and intact. The run is big enough (150,000
    /// values) that SQLite spills pages to the WAL before the commit; the
    /// writer is killed once the WAL has grown past 1 MB.
    @Test func aKilledWriterLeavesNoHalfRun() throws {
        let dir = try scratch("sqlite-kill")
        var rng = SplitMix64(seed: 11)
        let big = try writeRunFolder("\(dir)/big", results: syntheticResults(reps: 10_000, rng: &rng),
                                     context: syntheticContext())
        let store = "\(dir)/history.sqlite"
        // One complete run first, so the store exists and has a WAL.
        let small = try writeRunFolder("\(dir)/small", results: syntheticResults(reps: 2, rng: &rng),
                                       context: syntheticContext())
        #expect(try runProgram(try gobenchExecutable(), ["history", "--history", store, "--import", small]).status == 0)
        let wal = store + "-wal"
        let before = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        let gobench = try gobenchExecutable()
        final class Outcome: @unchecked Sendable { var ran: Result<Ran, Error>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            outcome.ran = Result { try runProgram(gobench, ["history", "--history", store, "--import", big]) }
            done.signal()
        }
        var killedMidWrite = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            if size > before + 1_000_000, let pid = pids(withArgument: big).first {
                kill(pid, SIGKILL)
                killedMidWrite = true
                break
            }
            if done.wait(timeout: .now() + .milliseconds(2)) == .success { done.signal(); break }
        }
        done.wait()
        let ran = try #require(try outcome.ran?.get())
        #expect(killedMidWrite, "the import finished before its WAL grew past 1 MB: \(ran.status)")
        #expect(ran.status == 128 + SIGKILL)
        let s = try History.open(store)
        defer { s.close() }
        let runs = try s.runs(machine: nil)
        #expect(runs.count == 1, "the killed run must be absent")
        #expect(try s.results(runs: runs.map(\.id))[runs[0].id] == (try loadResults(path: "\(small)/results.csv")))
        #expect(try s.integrityProblems().isEmpty)
    }

    /// The size of the store per run of the default-sized tiny suite.
    @Test func storeSizePerRun() throws {
        let path = try scratch("sqlite-size") + "/history.sqlite"
        let store = try History.open(path)
        var rng = SplitMix64(seed: 5)
        let runs = 20
        var values = 0
        for _ in 0..<runs {
            let results = syntheticResults(reps: 10, rng: &rng)
            values += results.reduce(0) { $0 + $1.metrics.count }
            try store.record(syntheticRecord(results))
        }
        store.close()
        // Checkpoint the WAL into the main file before measuring it.
        let db = try DatabaseQueue(path: path)
        _ = try db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try db.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        print("store size: \(size) bytes for \(runs) runs of \(values / runs) values: \(size / runs) bytes per run, \(size / values) per value")
        #expect(size > 0)
    }
}
