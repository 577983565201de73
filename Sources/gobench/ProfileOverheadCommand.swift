// `gobench profile-overhead <regex>`: what each stack unwinder costs the
// sampled code, paired in this process (GoBenchKit's OverheadRun).

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

struct ProfileOverheadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile-overhead",
        abstract: "Measure the sampler's slowdown per unwinder and rate: sampled and unsampled repetitions paired in one process.")

    @Argument(help: "Unanchored regular expression over benchmark names.")
    var pattern: String

    @Option(name: .long, help: "Unwinders to measure, comma-separated: kernel, fp, libunwind.")
    var unwind: String = "kernel,fp,libunwind"

    @Option(name: .long, help: "Sampling rates in Hz, comma-separated.")
    var rates: String = "99,997"

    @Option(name: .long, help: "Pairs per benchmark and arm (even: the order within pairs alternates).")
    var pairs: Int = 20

    @Option(name: .long, help: "Time per repetition (100ms) or a fixed count (500x).")
    var benchtime: String = "100ms"

    @Option(name: .long, help: "Seed of the arms' order within each block.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Leave out the A/A control arm (both repetitions of each pair unsampled).")
    var noControl = false

    @Option(name: .long, help: "Output on stdout: table or csv.")
    var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            let selected = try Suites.registry().select(pattern)
            guard !selected.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\" (see `gobench list`)") }
            guard pairs >= 2, pairs % 2 == 0 else { throw SelectionError("--pairs must be even and at least 2") }
            guard format != .go else { throw SelectionError("--format must be table or csv") }
            var unwinders: [Unwinder] = []
            for name in unwind.split(separator: ",") {
                guard let u = Unwinder(rawValue: String(name)) else {
                    throw SelectionError("unknown unwinder \"\(name)\" (want kernel, fp or libunwind)")
                }
                unwinders.append(u)
            }
            var hzs: [Int] = []
            for r in rates.split(separator: ",") {
                guard let hz = Int(r), (1...10_000).contains(hz) else {
                    throw SelectionError("bad rate \"\(r)\" (want Hz between 1 and 10000)")
                }
                hzs.append(hz)
            }
            var arms = noControl ? [] : [OverheadArm.control]
            for u in unwinders { for hz in hzs { arms.append(OverheadArm(SamplerConfig(hz: hz, unwinder: u))) } }
            guard !arms.isEmpty else { throw SelectionError("nothing to measure") }
            let run = OverheadRun(benchmarks: selected, arms: arms, pairs: pairs,
                                  benchTime: try BenchTime(parsing: benchtime), seed: seed)
            if Console.stderrIsTerminal { run.progress = { Console.progress($0) } }
            let report = run.run()
            if Console.stderrIsTerminal { Console.clearProgress() }
            let text = format == .csv ? report.csv() : report.table()
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
