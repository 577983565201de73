// Flags and output shared by every command that gives a verdict (compare,
// ab, all/run --baseline): the thresholds and judged metrics of a suite,
// the significance level, the error control, and what to do with two
// machines. One place prints the verdict and sets the exit status:
// 0 no regression, 2 regression, 1 bad input.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

extension ErrorControl: ExpressibleByArgument {}

struct VerdictFlags: ParsableArguments {
    @Option(name: .long, help: "Default regression threshold in percent (default: the suite's, else 5).")
    var threshold: Double?

    @Option(name: .long, help: "Suite manifest whose thresholds, judged metrics and exclusions apply (default: suites/default.toml when it exists).")
    var suite: String?

    @Option(name: .long, help: "Significance level, after adjustment over all judged rows.")
    var alpha: Double = Comparer.defaultAlpha

    @Option(name: .long, help: ArgumentHelp(
        "Adjustment of the p-values over all judged rows of one comparison: bh (Benjamini-Hochberg: at most "
            + "alpha of the regressions reported are false, on average), holm (the chance of any false regression is "
            + "at most alpha), none (each row at alpha alone, as benchstat does).", valueName: "method"))
    var errorControl: ErrorControl = .benjaminiHochberg

    @Option(name: .long, help: "Threshold in percent for exact metrics (instructions/op), instead of the suite's.")
    var exactThreshold: Double?

    @Flag(name: .long, help: "Results from two different machines: show timings without judging them, judge exact metrics.")
    var crossMachine = false

    @Flag(name: .long, help: "Also print the rows that are shown but not judged (conditions, counters).")
    var showAll = false

    @Option(name: .long, help: "Folder of per-machine noise profiles (written by `gobench calibrate --suite`).")
    var noiseDir: String = "results"

    /// The policy these flags describe, with the registry's declared
    /// primary metrics.
    func policy(defaultSuite: String? = nil) throws -> VerdictPolicy {
        if let t = threshold, t < 0 || !t.isFinite { throw SelectionError("--threshold must be a non-negative number") }
        guard alpha > 0 && alpha < 1 else { throw SelectionError("--alpha must be between 0 and 1") }
        var manifest: Suite?
        if let path = suite ?? defaultSuite {
            manifest = try Suite.load(path: path)
        } else if FileManager.default.fileExists(atPath: "suites/default.toml") {
            manifest = try Suite.load(path: "suites/default.toml")
        }
        var p = VerdictPolicy(suite: manifest, defaultThreshold: threshold, registry: Suites.registry())
        p.alpha = alpha
        p.errorControl = errorControl
        p.crossMachine = crossMachine
        if let t = exactThreshold {
            guard t >= 0, t.isFinite else { throw SelectionError("--exact-threshold must be a non-negative number") }
            p.exactThreshold = t
        }
        p.noise = try NoiseProfile.load(resultsDirectory: noiseDir, machine: MachineFingerprint.current())
        return p
    }
}

/// Prints a verdict's warnings and summary line, and exits 2 on a
/// regression.
func finishVerdict(regressions: [(SeriesKey, String)], warnings: [String]) throws {
    for w in warnings { FileHandle.standardError.write(Data("gobench: warning: \(w)\n".utf8)) }
    if !regressions.isEmpty {
        print("\(regressions.count) regression(s): " + regressions.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        throw ExitCode(2)
    }
    print("no regression")
}
