// Worker processes, machine fingerprints and bad input, through the CLI
// as a user (or CI) runs it.

import Foundation
import GoBenchTestSupport
import Testing

@Suite(.serialized) struct WorkerCLITests {
    /// Rows of a results CSV as dictionaries keyed by the header.
    func rows(_ csv: String) -> [[String: String]] {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let head = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(head, $0)) }
    }

    @Test func everyRepetitionRunsInItsOwnWorkerByDefault() throws {
        let r = try gobench(["run", "^harness/empty$", "--benchtime", "1000x", "--count", "4", "--format", "csv", "--no-save",
                             "--counters", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        let ns = rows(r.stdout).filter { $0["unit"] == "ns/op" }
        #expect(ns.count == 4)
        #expect(Set(ns.compactMap { $0["process"] }) == ["0", "1", "2", "3"])
        #expect(Set(ns.compactMap { $0["repetition"] }) == ["0", "1", "2", "3"])

        // K processes: repetition r in process r % K.
        let two = try gobench(["run", "^harness/empty$", "--benchtime", "1000x", "--count", "4", "--processes", "2",
                               "--format", "csv", "--no-save", "--counters", "none"])
        let map = rows(two.stdout).filter { $0["unit"] == "ns/op" }.map { ($0["repetition"]!, $0["process"]!) }
        #expect(Set(map.map { "\($0.0)->\($0.1)" }) == ["0->0", "1->1", "2->0", "3->1"])

        // 0: the old in-process runner, no process column values.
        let inproc = try gobench(["run", "^harness/empty$", "--benchtime", "1000x", "--count", "2", "--processes", "0",
                                  "--format", "csv", "--no-save", "--counters", "none"])
        #expect(rows(inproc.stdout).allSatisfy { $0["process"] == "" })
    }

    @Test func aCrashedOrHungWorkerFailsItsBenchmarkAndTheRunGoesOn() throws {
        let args = ["run", "^harness/(empty|xorshift/steps=64)$", "--benchtime", "1000x", "--count", "2", "--format", "csv",
                    "--no-save", "--counters", "none"]
        let crash = try gobench(args, environment: ["GOBENCH_WORKER_FAULT": "crash:harness/empty"])
        #expect(crash.status == 1)
        #expect(crash.stderr.contains("harness/empty") && crash.stderr.contains("SIGABRT"), "\(crash.stderr)")
        #expect(crash.stderr.contains("1 benchmark(s) failed: harness/empty"))
        let names = Set(rows(crash.stdout).compactMap { $0["name"] })
        #expect(names == ["harness/xorshift/steps=64"], "the other benchmark still ran: \(names)")

        let hang = try gobench(args + ["--worker-timeout", "2"], environment: ["GOBENCH_WORKER_FAULT": "hang:harness/empty"])
        #expect(hang.status == 1)
        #expect(hang.stderr.contains("timed out") && hang.stderr.contains("harness/empty"), "\(hang.stderr)")

        let garbage = try gobench(args, environment: ["GOBENCH_WORKER_FAULT": "garbage:harness/empty"])
        #expect(garbage.status == 1 && garbage.stderr.contains("broke the protocol"), "\(garbage.stderr)")
    }

    @Test func theWorkerSubcommandRejectsABadSpecWithOneLine() throws {
        let dir = try scratchDirectory("worker")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try gobenchExecutable())
        p.arguments = ["worker"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("{\"items\": 3}".utf8))
        try input.fileHandleForWriting.close()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(e.hasPrefix("gobench: worker: standard input is not a worker spec"), "\(e)")
    }

    @Test func badValuesAndUnknownCountersAreOneLineErrors() throws {
        let dir = try scratchDirectory("bad")
        let header = "name,repetition,n,value,unit\n"
        for (file, body) in [("nan.csv", "x,0,1,NaN,ns/op\n"), ("inf.csv", "x,0,1,1e999,ns/op\n"), ("neg.csv", "x,0,1,-2,ns/op\n")] {
            try (header + body).write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8)
            let r = try gobench(["compare", "\(dir)/\(file)", "\(dir)/\(file)"])
            #expect(r.status == 1, "\(file): \(r.status)")
            #expect(r.stderr.hasPrefix("gobench: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        let r = try gobench(["run", "^harness/empty$", "--counters", "cycles,no-such-event", "--no-save"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unknown counter \"no-such-event\""), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func timingsFromAnotherMachineAreRefused() throws {
        let dir = try scratchDirectory("machine")
        let run = try gobench(["run", "^harness/empty$", "--benchtime", "1000x", "--count", "4", "--results-dir", dir,
                               "--counters", "none", "--format", "csv"])
        #expect(run.status == 0, "\(run.stderr)")
        let folder = "\(dir)/\(try FileManager.default.contentsOfDirectory(atPath: dir)[0])"
        // The same results, said to come from a machine with another CPU model.
        let other = "\(dir)/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(folder)/results.csv", toPath: "\(other)/results.csv")
        var context = try String(contentsOfFile: "\(folder)/context.json", encoding: .utf8)
        let model = try #require(context.range(of: #""cpu-model": "[0-9-]+""#, options: .regularExpression))
        context.replaceSubrange(model, with: #""cpu-model": "9999""#)
        try context.write(toFile: "\(other)/context.json", atomically: true, encoding: .utf8)

        let same = try gobench(["compare", "\(folder)/results.csv", "\(folder)/results.csv"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let refused = try gobench(["compare", "\(folder)/results.csv", "\(other)/results.csv"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("cannot judge timings from different machines: cpu-model"), "\(refused.stderr)")
        #expect(refused.stderr.contains("vs 9999"))
        let cross = try gobench(["compare", "\(folder)/results.csv", "\(other)/results.csv", "--cross-machine"])
        #expect(cross.status == 0, "\(cross.stderr)")
        #expect(cross.stderr.contains("timings are shown, not judged"))
    }
}
