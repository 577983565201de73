// `gobench check-order <suite>`: does each benchmark measure the same in
// its suite as alone? Runs the suite as a run would, then each benchmark
// alone in a fresh process, and lists the ns/op rows that differ beyond
// their noise. Exit status 2 when any does, 0 when none, 1 on bad input.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

struct CheckOrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-order",
        abstract: "Run each benchmark of a suite alone and in the suite, and list the rows that differ beyond their noise.")

    @Argument(help: "Suite name (suites/NAME.toml).")
    var suite: String

    @Option(name: .long, help: "Run alone, and compare, only the benchmarks matching this regex (the suite still runs whole).")
    var filter: String?

    @OptionGroup var verdict: VerdictFlags
    @OptionGroup var flags: RunFlags

    func run() throws {
        let comparison = try reportingErrors { () throws -> Comparison in
            let manifest = try Suite.load(path: "suites/\(suite).toml")
            let plans = try manifest.plans(from: Suites.registry(), benchTimeOverride: try flags.benchTimeOverride(),
                                           countOverride: try flags.countOverride())
            var checked = Set(plans.map(\.benchmark.name))
            if let f = filter {
                checked = checked.intersection(try Suites.registry().select(f).map(\.name))
                guard !checked.isEmpty else { throw SelectionError("no benchmark of suite \(suite) matches \"\(f)\"") }
            }
            var policy = try verdict.policy()
            if verdict.suite == nil { policy = VerdictPolicy(suite: manifest, defaultThreshold: verdict.threshold, registry: Suites.registry()) }
            let spec = try flags.instrumentSpec()
            let timeout = flags.workerTimeout
            let log: (String) -> Void = { FileHandle.standardError.write(Data("gobench check-order: \($0)\n".utf8)) }
            let check = OrderCheck(plans: plans, checked: checked, policy: policy, inSuite: try planRunner(flags)) { plan in
                // Alone: nothing else runs; each repetition in a fresh
                // worker (the first calibrates), so that every value is an
                // independent unit whatever --processes says for the suite.
                var config = WorkerConfig(processes: nil, instruments: spec)
                config.timeoutSeconds = timeout
                return try Runner(instruments: []).runInProcesses([plan], config: config, order: .given)
            }
            return try check.run(log: log)
        }
        let differing = comparison.rows.filter { $0.verdict == .regression || $0.verdict == .improvement }
        print(Comparer.table(comparison), terminator: "")
        if differing.isEmpty {
            print("every benchmark measures the same in the suite as alone (within its noise)")
            return
        }
        print("\(differing.count) benchmark(s) measure differently in the suite than alone: "
              + differing.map { String(format: "%@ %+.1f%%", $0.name, $0.deltaPercent) }.joined(separator: ", "))
        throw ExitCode(2)
    }
}
