// What this machine's noise is, per benchmark and metric, measured by A/A
// trials of a whole suite (`gobench calibrate --suite default`): the same
// binary run twice per trial, unpaired, as `compare` would see it. Stored
// per machine fingerprint under results/noise/<hash>.json, so a profile
// from another VM is never applied here.
//
// Per row it keeps the within-run spread of the per-process log values
// (what the trimmed-mean test's standard error is made of) and the spread
// of the log ratio of two runs' medians across trials (what actually
// separates two runs of unchanged code: it includes drift between runs,
// which the within-run spread cannot see). The minimum detectable effect
// uses the larger of the two.

import Foundation

public struct NoiseProfile: Sendable, Codable {
    public struct Entry: Sendable, Codable {
        public var name: String
        public var implementation: Implementation
        public var unit: String
        /// Pooled standard deviation of per-process log values within one run.
        public var withinSD: Double
        /// Standard deviation over trials of log(median B / median A).
        public var betweenRunsSD: Double
        /// Processes per side in the trials.
        public var units: Int
        public var trials: Int
        /// Trials whose unpaired comparison called this row a regression.
        public var falseRegressions: Int
    }

    public var machine: MachineFingerprint
    public var fingerprint: String
    public var date: String
    public var suite: String
    public var benchTime: String
    public var count: Int
    public var processes: Int
    public var trials: Int
    public var entries: [Entry]

    public init(machine: MachineFingerprint, date: String, suite: String, benchTime: String, count: Int,
                processes: Int, trials: Int, entries: [Entry]) {
        self.machine = machine
        self.fingerprint = machine.hash
        self.date = date
        self.suite = suite
        self.benchTime = benchTime
        self.count = count
        self.processes = processes
        self.trials = trials
        self.entries = entries
    }

    /// The effect (a fraction: 0.05 is 5%) a comparison with `units`
    /// processes per side would detect with `power` at `alpha`, from this
    /// profile's noise; nil when the row was not profiled.
    public func detectable(for key: MetricKey, units: (base: Int, new: Int), alpha: Double, power: Double) -> Double? {
        guard let e = entries.first(where: { $0.name == key.name && $0.implementation == key.implementation && $0.unit == key.unit })
        else { return nil }
        let n1 = Double(max(units.base, 2)), n2 = Double(max(units.new, 2))
        let df = max(n1 + n2 - 2, 1)
        let z = StudentT.quantile(1 - alpha / 2, df: df) + StudentT.quantile(power, df: df)
        // Within-run noise scales with the processes compared; the spread
        // between runs was measured at the profile's own count and does not
        // shrink below it (drift is per run, not per process).
        let within = e.withinSD * (1 / n1 + 1 / n2).squareRoot()
        let between = e.betweenRunsSD * (Double(e.units) / min(n1, n2)).squareRoot()
        return exp(z * max(within, between)) - 1
    }

    /// results/noise/<fingerprint>.json under `resultsDirectory`.
    public static func path(resultsDirectory: String, fingerprint: String) -> String {
        "\(resultsDirectory)/noise/\(fingerprint).json"
    }

    /// This machine's profile, if one was calibrated; a malformed file is
    /// an error, a missing one is nil.
    public static func load(resultsDirectory: String, machine: MachineFingerprint) throws -> NoiseProfile? {
        let p = path(resultsDirectory: resultsDirectory, fingerprint: machine.hash)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let data = FileManager.default.contents(atPath: p) else { throw InputError("\(p): cannot read") }
        do {
            return try JSONDecoder().decode(NoiseProfile.self, from: data)
        } catch {
            throw FormatError("\(p): not a noise profile (\(error))")
        }
    }

    public func write(resultsDirectory: String) throws {
        let p = Self.path(resultsDirectory: resultsDirectory, fingerprint: fingerprint)
        try AtomicFile.makeDirectory("\(resultsDirectory)/noise")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try enc.encode(self), as: UTF8.self) + "\n", to: p)
    }
}
