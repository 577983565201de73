import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the false-alarm rate (A/A) and the smallest slowdown the current settings detect.")

    @Argument(help: "Benchmarks for the A/A trials (regex).")
    var pattern: String = "^harness/calibrate$"

    @Option(name: .long, help: "A/A trials.")
    var trials: Int = 10

    @Option(name: .long, help: "Repetitions per side in each trial.")
    var count: Int = 6

    @Option(name: .long, help: "Time per repetition.")
    var benchtime: String = "50ms"

    @Option(name: .long, help: "Regression threshold in percent.")
    var threshold: Double = 5

    @Option(name: .long, help: "Injected slowdowns to try, in percent (comma-separated).")
    var slowdowns: String = "1,2,5,10,20"

    @Option(name: .long, help: "Trials per injected slowdown.")
    var slowdownTrials: Int = 3

    func run() throws {
        try reportingErrors {
            guard trials >= 1, count >= 2, slowdownTrials >= 1 else {
                throw SelectionError("--trials and --slowdown-trials must be at least 1, --count at least 2")
            }
            let steps = try slowdowns.split(separator: ",").map { s -> Int in
                guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
                    throw SelectionError("--slowdowns wants positive integers, got \"\(s)\"")
                }
                return v
            }
            let bt = try BenchTime(parsing: benchtime)
            let registry = Suites.registry()
            let selected = try registry.select(pattern)
            guard !selected.isEmpty else { throw SelectionError("no benchmark matches \"\(pattern)\"") }
            let plans = selected.map { BenchmarkPlan($0, benchTime: bt, count: count) }
            let runner = Runner(instruments: [DriftInstrument()])
            let thresholds = Thresholds(defaultPercent: threshold)

            // A/A: the same binary and settings twice; any regression
            // verdict is a false alarm.
            var unpairedAlarms = 0, pairedAlarms = 0
            var logRatios: [Double] = []
            for t in 0..<trials {
                FileHandle.standardError.write(Data("gobench calibrate: A/A trial \(t + 1)/\(trials)\n".utf8))
                let a = try runner.run(plans), b = try runner.run(plans)
                if try Comparer.compare(base: a, new: b, policy: VerdictPolicy(thresholds: thresholds)).hasRegression { unpairedAlarms += 1 }
                let paired = try PairedComparison(base: a, candidate: b, policy: VerdictPolicy(thresholds: thresholds))
                if paired.hasRegression { pairedAlarms += 1 }
                for (x, y) in zip(a, b) {
                    if let u = x.metric("ns/op")?.value, let v = y.metric("ns/op")?.value, u > 0, v > 0 {
                        logRatios.append(log(v / u))
                    }
                }
            }

            // Injected slowdowns on harness/calibrate.
            guard let calib = registry["harness/calibrate"] else { throw SelectionError("harness/calibrate is not registered") }
            let cplan = [BenchmarkPlan(calib, benchTime: bt, count: count)]
            var detected: [(Int, Int)] = []
            for pct in steps {
                var hits = 0
                for _ in 0..<slowdownTrials {
                    CalibrationKnob.slowdownPercent = 0
                    let a = try runner.run(cplan)
                    CalibrationKnob.slowdownPercent = pct
                    let b = try runner.run(cplan)
                    CalibrationKnob.slowdownPercent = 0
                    // Detection means a significant change, whatever the
                    // threshold: threshold 0 asks only "did the test see it".
                    let c = try Comparer.compare(base: a, new: b, policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 0)))
                    if c.rows.contains(where: { $0.unit == "ns/op" && $0.verdict == .regression }) { hits += 1 }
                }
                detected.append((pct, hits))
                FileHandle.standardError.write(Data("gobench calibrate: +\(pct)% detected in \(hits)/\(slowdownTrials)\n".utf8))
            }

            // Recommendation: rounds needed for the threshold at alpha 0.05,
            // power 0.8, from the A/A spread of per-repetition log ratios
            // (normal approximation, with the signed-rank test's efficiency
            // 3/pi relative to the t test).
            let sd = standardDeviation(logRatios)
            let delta = log(1 + threshold / 100)
            let needed = sd > 0 ? Int(((1.96 + 0.84) * sd / delta) * ((1.96 + 0.84) * sd / delta) * Double.pi / 3 + 1) : 6
            let smallest = detected.first { $0.1 * 2 > slowdownTrials }?.0

            print("settings: benchtime \(benchtime), count \(count), threshold \(Int(threshold))%, alpha 0.05, \(selected.count) benchmark(s)")
            print(String(format: "A/A false-regression rate: unpaired compare %d/%d trials (%.0f%%), paired %d/%d (%.0f%%)",
                         unpairedAlarms, trials, 100 * Double(unpairedAlarms) / Double(trials),
                         pairedAlarms, trials, 100 * Double(pairedAlarms) / Double(trials)))
            print(String(format: "A/A spread: sd of per-repetition log ratio %.4f (about %.1f%% per repetition)", sd, sd * 100))
            print("injected slowdown detected (of \(slowdownTrials) trials): " + detected.map { "+\($0.0)%: \($0.1)" }.joined(separator: ", "))
            print("smallest slowdown detected in most trials: " + (smallest.map { "+\($0)%" } ?? "none of those tried"))
            print("recommended: --count \(max(6, needed)) at --benchtime \(benchtime) to detect \(Int(threshold))% with power 0.8")
        }
    }

    func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }
}
