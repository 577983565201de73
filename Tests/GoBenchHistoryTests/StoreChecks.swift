// Checks every backend must pass, written once and run against SQLite
// (StoreTests) and PostgreSQL (PostgresStoreTests).

import Foundation
import GoBenchHistory
import GoBenchKit
import Testing

enum StoreChecks {
    /// Several runs of a tiny suite recorded, then read back exactly: the
    /// same doubles bit for bit, units, kinds, directions, processes, n,
    /// threads and order; run rows in commit order; the machine's fields.
    static func recordsAndReadsBackExactly(_ store: HistoryStore) throws {
        var rng = SplitMix64(seed: 42)
        let base = Date(timeIntervalSince1970: 1_764_000_000.25)
        var written: [Int64: [RepetitionResult]] = [:]
        for i in 0..<4 {
            let results = syntheticResults(reps: 3 + i, scale: 1 + Double(i) / 10, rng: &rng)
            var record = syntheticRecord(results, revision: String(repeating: "\(i)", count: 40),
                                         date: base.addingTimeInterval(Double(i) * 3600))
            record.commitTime = base.addingTimeInterval(Double(i) * 60 - 86_400)
            record.runDirectory = "/tmp/runs/\(i)"
            let id = try store.record(record)
            written[id] = results
        }
        let machine = MachineFingerprint.current()
        let runs = try store.runs(machine: machine.hash)
        #expect(runs.count == 4)
        #expect(runs.map { $0.revision.prefix(1) } == ["0", "1", "2", "3"])
        #expect(runs[1].date == base.addingTimeInterval(3600))
        #expect(runs[1].commitTime == base.addingTimeInterval(60 - 86_400))
        #expect(runs[2].runDirectory == "/tmp/runs/2")
        #expect(runs.allSatisfy { $0.suite == "tiny" && $0.machine == machine.hash })
        let read = try store.results(runs: Array(written.keys))
        for (id, results) in written {
            let back = try #require(read[id])
            #expect(back == results, "run \(id) did not read back exactly")
            // Equatable on Double would call -0 and 0 equal; compare bits.
            #expect(back.flatMap { $0.metrics.map(\.value.bitPattern) } == results.flatMap { $0.metrics.map(\.value.bitPattern) })
        }
        #expect(try store.machine(hash: machine.hash) == machine)
        #expect(try store.machine(hash: "0000000000000000") == nil)
        #expect(try store.runs(machine: "0000000000000000").isEmpty)
        #expect(try store.integrityProblems().isEmpty)
        #expect(try store.appliedMigrations() == ["v1-machines-runs-measurements"])
    }

    /// A failing write adds nothing; a run without results is refused.
    static func failedWriteAddsNothing(_ store: HistoryStore) throws {
        let before = try store.runs(machine: nil).count
        #expect(throws: HistoryError.self) { try store.record(syntheticRecord([])) }
        #expect(try store.runs(machine: nil).count == before)
    }

    /// Writers on several threads, each with its own connection, at once.
    static func concurrentWriters(open: @escaping @Sendable () throws -> HistoryStore, writers: Int, runsEach: Int) throws {
        final class Errors: @unchecked Sendable {
            let lock = NSLock()
            var list: [String] = []
            func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
        }
        let errors = Errors()
        let stores = try (0..<writers).map { _ in try open() }
        DispatchQueue.concurrentPerform(iterations: writers) { w in
            var rng = SplitMix64(seed: UInt64(100 + w))
            for k in 0..<runsEach {
                do {
                    try stores[w].record(syntheticRecord(syntheticResults(reps: 5, rng: &rng), suite: "writer\(w)-\(k)"))
                } catch {
                    errors.add("\(error)")
                }
            }
        }
        for s in stores { s.close() }
        #expect(errors.list.isEmpty, "\(errors.list)")
        let s = try open()
        defer { s.close() }
        let suites = try s.runs(machine: nil).map(\.suite)
        for w in 0..<writers {
            for k in 0..<runsEach { #expect(suites.contains("writer\(w)-\(k)")) }
        }
        #expect(try s.integrityProblems().isEmpty)
    }
}
