// What the HTML report is given from the store: the window of the latest
// commits, the report's own run marked (by id, or by the run folder it was
// recorded from), and nothing for a run the store cannot place.

import Foundation
@testable import GoBenchHistory
import GoBenchKit
import Testing

@Suite struct HistoryTracksTests {
    @Test func windowCurrentRunAndMachineFromTheRunFolder() throws {
        let dir = try scratch("tracks")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try History.open("\(dir)/h.sqlite")
        defer { store.close() }
        var ids: [Int64] = []
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<8 {
            let results = (0..<3).map { rep in
                RepetitionResult(name: "tiny/a", threads: 1, repetition: rep, n: 10,
                                 metrics: [Metric(Double(100 + i), unit: "ns/op", kind: .time),
                                           Metric(Double(90 + i), unit: "cpu-ns/op", kind: .time),
                                           Metric(1, unit: "allocs/op", kind: .exact)])
            }
            var record = syntheticRecord(results, date: t0.addingTimeInterval(Double(i) * 60))
            record.runDirectory = "\(dir)/runs/r\(i)"
            ids.append(try store.record(record))
        }
        let machine = MachineFingerprint.current().hash
        let found = try #require(try HistoryTracks.tracks(store: store, machine: machine, names: ["tiny/a", "tiny/absent"],
                                                          lastCommits: 5, currentRun: ids[6]))
        #expect(found.provenance.runs == 8 && found.provenance.commits == 8 && found.provenance.window == 5)
        // The two time metrics, of the benchmarks named; the latest five commits, oldest first.
        #expect(Set(found.tracks.map(\.key.unit)) == ["ns/op", "cpu-ns/op"])
        let track = try #require(found.tracks.first { $0.key.unit == "ns/op" })
        #expect(track.points.map(\.summary.median) == [103, 104, 105, 106, 107])
        #expect(track.points.map(\.isCurrent) == [false, false, false, true, false])

        // No fingerprint in the report's context: the machine and the
        // current run come from the run recorded from that folder.
        let byFolder = try #require(try HistoryTracks.tracks(store: store, machine: nil, names: ["tiny/a"],
                                                             currentRun: nil, currentDirectory: "\(dir)/runs/./r2"))
        #expect(byFolder.provenance.machine == machine)
        #expect(byFolder.tracks.first { $0.key.unit == "ns/op" }?.points.filter(\.isCurrent).map(\.summary.median) == [102])
        #expect(try HistoryTracks.tracks(store: store, machine: nil, names: ["tiny/a"], currentRun: nil,
                                         currentDirectory: "\(dir)/runs/elsewhere") == nil)
    }
}
