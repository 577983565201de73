// `gobench calibrate`: how far to trust a verdict on this machine. Thin:
// the experiments live in GoBenchKit/Calibration.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

/// Runs plans the way the flags say a real run would (worker processes or
/// in this process), with `environment` added for the workers.
func planRunner(_ flags: RunFlags, environment: @escaping () -> [String: String] = { [:] }) throws -> MeasurePlans {
    let options = try flags.sessionOptions()
    let instruments = try flags.instruments()
    return { plans in
        let runner = Runner(instruments: InstrumentSpec.outerInstruments() + instruments)
        var workers = options.workers
        if workers != nil {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment() { env[k] = v }
            workers?.environment = env
        }
        return try runner.run(plans, workers: workers, order: options.order)
    }
}

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the false-alarm rate (A/A), the smallest slowdown detected, or (--suite) this machine's noise profile.",
        discussion: """
            Without --suite: A/A trials and injected slowdowns on harness/calibrate (its work grows by an exact \
            percentage). With --suite NAME: A/A trials of the whole suite, unpaired as `compare` sees them; the \
            per-benchmark noise is stored as results/noise/<machine fingerprint>.json, which compare and ab then \
            use for each row's detectable effect on this machine only.
            """)

    @Argument(help: "Benchmarks for the A/A trials (regex; ignored with --suite).")
    var pattern: String = "^harness/calibrate$"

    @Option(name: .long, help: "Calibrate the whole suite of this name (suites/NAME.toml) and store its noise profile.")
    var suite: String?

    @Option(name: .long, help: "A/A trials.")
    var trials: Int = 10

    @Option(name: .long, help: "Injected slowdowns to try, in percent (comma-separated).")
    var slowdowns: String = "1,2,5,10,20"

    @Option(name: .long, help: "Trials per injected slowdown.")
    var slowdownTrials: Int = 3

    @Option(name: .long, help: "Folder the noise profile is written under (as noise/<fingerprint>.json).")
    var resultsRoot: String = "results"

    @OptionGroup var verdict: VerdictFlags
    @OptionGroup var flags: RunFlags

    func run() throws {
        try reportingErrors {
            guard trials >= 1, slowdownTrials >= 1 else { throw SelectionError("--trials and --slowdown-trials must be at least 1") }
            let log: (String) -> Void = { FileHandle.standardError.write(Data("gobench calibrate: \($0)\n".utf8)) }
            var policy = try verdict.policy()
            policy.noise = nil
            let registry = Suites.registry()
            if let name = suite {
                let manifest = try Suite.load(path: "suites/\(name).toml")
                let plans = try manifest.plans(from: registry, benchTimeOverride: try flags.benchTimeOverride(),
                                               countOverride: try flags.countOverride())
                let count = plans.map(\.count).max() ?? 1
                let processes = try flags.sessionOptions().workers.map { $0.processes(forCount: count) } ?? 0
                let outcome = try NoiseCalibration(plans: plans, trials: trials, policy: policy, measure: try planRunner(flags))
                    .run(suite: name, benchTime: (try flags.benchTimeOverride() ?? manifest.benchTime).description,
                         count: count, processes: processes, log: log)
                try outcome.profile.write(resultsDirectory: resultsRoot)
                print(NoiseReport.text(outcome, alpha: policy.alpha, power: policy.power))
                print("noise profile: \(NoiseProfile.path(resultsDirectory: resultsRoot, fingerprint: outcome.profile.fingerprint))")
                return
            }
            let steps = try slowdowns.split(separator: ",").map { s -> Int in
                guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
                    throw SelectionError("--slowdowns wants positive integers, got \"\(s)\"")
                }
                return v
            }
            let bt = try flags.benchTimeOverride() ?? .nanoseconds(50_000_000)
            let count = try flags.countOverride() ?? 6
            let selected = try registry.select(pattern)
            guard !selected.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\"") }
            guard selected.contains(where: { $0.name == "harness/calibrate" }) || steps.isEmpty else {
                throw SelectionError("injected slowdowns need harness/calibrate in the selection")
            }
            final class Knob: @unchecked Sendable { var percent = 0 }
            let knob = Knob()
            let experiment = DetectionExperiment(
                plans: selected.map { BenchmarkPlan($0, benchTime: bt, count: count) }, trials: trials, policy: policy,
                measure: try planRunner(flags) { ["GOBENCH_CALIBRATE_SLOWDOWN_PCT": String(knob.percent)] },
                setSlowdown: { knob.percent = $0; CalibrationKnob.slowdownPercent = $0 })
            let o = try experiment.run(slowdowns: steps, slowdownTrials: slowdownTrials, log: log)
            print("settings: benchtime \(bt), count \(count), alpha \(policy.alpha), \(policy.errorControl.summary), \(selected.count) benchmark(s)")
            print(String(format: "A/A false-regression rate: unpaired compare %d/%d trials, paired %d/%d",
                         o.unpairedAlarms, o.trials, o.pairedAlarms, o.trials))
            print(String(format: "A/A spread: sd of per-repetition log ratio %.4f (about %.1f%% per repetition)", o.logRatioSD, o.logRatioSD * 100))
            for d in o.detections {
                print("+\(d.percent)%: detected in \(d.detected)/\(d.trials) trials; predicted detectable "
                      + (d.predictedDetectable.map { String(format: "≥%.1f%%", $0) } ?? "-"))
            }
        }
    }
}

/// The console summary of a suite calibration.
enum NoiseReport {
    static func text(_ o: NoiseCalibration.Outcome, alpha: Double, power: Double) -> String {
        let p = o.profile
        var out = "noise profile of \(p.machine.summary) (fingerprint \(p.fingerprint))\n"
        out += "suite \(p.suite): \(p.trials) A/A trials, count \(p.count), \(p.processes) processes per benchmark\n"
        for (i, regs) in o.falseRegressions.enumerated() {
            out += "  trial \(i + 1): \(regs.count) false regression(s)" + (regs.isEmpty ? "" : ": " + regs.joined(separator: ", ")) + "\n"
        }
        let rows = p.entries.filter { $0.unit == "ns/op" }.sorted { $0.betweenRunsSD > $1.betweenRunsSD }
        var table: [[String]] = [["benchmark", "within-run sd", "between-runs sd", "detectable (one row, alpha)", "false regressions"]]
        for e in rows.prefix(15) {
            let key = MetricKey(series: SeriesKey(name: e.name, implementation: e.implementation), unit: e.unit)
            let mde = p.detectable(for: key, units: (p.count, p.count), alpha: alpha, power: power).map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            table.append([e.name, String(format: "%.2f%%", e.withinSD * 100), String(format: "%.2f%%", e.betweenRunsSD * 100),
                          mde, "\(e.falseRegressions)/\(e.trials)"])
        }
        return out + "noisiest ns/op rows:\n" + Console.table(table, leftAligned: 1)
    }
}
