// Self-checks of the measurement itself, as named experiments: how often
// unchanged code is called a regression (A/A), how small a slowdown is
// caught, what this machine's noise is per benchmark (the noise profile),
// and whether a benchmark measures the same in its suite as alone.
//
// Every experiment takes a `measure` closure that runs a list of plans the
// way a real run would (worker processes or in-process, as the caller's
// flags say), so what is calibrated is what users run.

import Foundation

public typealias MeasurePlans = ([BenchmarkPlan]) throws -> [RepetitionResult]

/// A/A trials and injected slowdowns on one or a few benchmarks.
public struct DetectionExperiment {
    public var plans: [BenchmarkPlan]
    public var trials: Int
    public var policy: VerdictPolicy
    public var measure: MeasurePlans
    /// Sets the injected slowdown (percent) before a run; the benchmark
    /// under test must honour it (harness/calibrate does).
    public var setSlowdown: (Int) -> Void

    public struct Outcome: Sendable {
        public var unpairedAlarms: Int
        public var pairedAlarms: Int
        public var trials: Int
        /// Per-repetition sd of log(b / a) over all trials, ns/op.
        public var logRatioSD: Double
        /// (slowdown %, trials detected, trials, mean predicted MDE %).
        public var detections: [(percent: Int, detected: Int, trials: Int, predictedDetectable: Double?)]
    }

    public init(plans: [BenchmarkPlan], trials: Int, policy: VerdictPolicy, measure: @escaping MeasurePlans,
                setSlowdown: @escaping (Int) -> Void) {
        self.plans = plans
        self.trials = trials
        self.policy = policy
        self.measure = measure
        self.setSlowdown = setSlowdown
    }

    public func run(slowdowns: [Int], slowdownTrials: Int, log: (String) -> Void) throws -> Outcome {
        var unpaired = 0, paired = 0
        var logRatios: [Double] = []
        for t in 0..<trials {
            log("A/A trial \(t + 1)/\(trials)")
            setSlowdown(0)
            let a = try measure(plans), b = try measure(plans)
            if try Comparer.compare(base: a, new: b, policy: policy).hasRegression { unpaired += 1 }
            if try PairedComparison(base: a, candidate: b, policy: policy).hasRegression { paired += 1 }
            for (x, y) in zip(a, b) {
                if let u = x.metric("ns/op")?.value, let v = y.metric("ns/op")?.value, u > 0, v > 0 { logRatios.append(Foundation.log(v / u)) }
            }
        }
        // Detection: a significant slowdown of ns/op whatever the threshold
        // (threshold 0 asks only "did the test see it").
        var detect = policy
        detect.thresholds = Thresholds(defaultPercent: 0)
        var detections: [(Int, Int, Int, Double?)] = []
        for pct in slowdowns {
            var hits = 0
            var predicted: [Double] = []
            for _ in 0..<slowdownTrials {
                setSlowdown(0)
                let a = try measure(plans)
                setSlowdown(pct)
                let b = try measure(plans)
                setSlowdown(0)
                let c = try Comparer.compare(base: a, new: b, policy: detect)
                let rows = c.rows.filter { $0.unit == "ns/op" }
                if rows.contains(where: { $0.verdict == .regression }) { hits += 1 }
                predicted += rows.compactMap(\.detectable)
            }
            log("+\(pct)% detected in \(hits)/\(slowdownTrials)")
            detections.append((pct, hits, slowdownTrials, predicted.isEmpty ? nil : Statistics.median(predicted)))
        }
        return Outcome(unpairedAlarms: unpaired, pairedAlarms: paired, trials: trials,
                       logRatioSD: Self.standardDeviation(logRatios),
                       detections: detections.map { (percent: $0.0, detected: $0.1, trials: $0.2, predictedDetectable: $0.3) })
    }

    static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }
}

/// A/A trials of a whole suite: the noise profile of this machine.
public struct NoiseCalibration {
    public var plans: [BenchmarkPlan]
    public var trials: Int
    public var policy: VerdictPolicy
    public var measure: MeasurePlans

    public init(plans: [BenchmarkPlan], trials: Int, policy: VerdictPolicy, measure: @escaping MeasurePlans) {
        self.plans = plans
        self.trials = trials
        self.policy = policy
        self.measure = measure
    }

    public struct Outcome {
        public var profile: NoiseProfile
        /// Per trial: rows called regressions by an unpaired compare.
        public var falseRegressions: [[String]]
    }

    public func run(suite: String, benchTime: String, count: Int, processes: Int, log: (String) -> Void) throws -> Outcome {
        struct Acc {
            var kind: MetricKind
            var withinSquares = 0.0, withinDF = 0
            var logRatios: [Double] = []
            var units = 0
            var falseRegressions = 0
        }
        var order: [MetricKey] = []
        var acc: [MetricKey: Acc] = [:]
        var perTrial: [[String]] = []
        var policy = self.policy
        policy.noise = nil  // calibrate from the data alone
        for t in 0..<trials {
            log("A/A trial \(t + 1)/\(trials): first run")
            let a = try measure(plans)
            log("A/A trial \(t + 1)/\(trials): second run")
            let b = try measure(plans)
            let c = try Comparer.compare(base: a, new: b, policy: policy)
            perTrial.append(c.regressions.map { "\($0.key.series) \($0.unit)" })
            var bByKey: [MetricKey: Sample] = [:]
            for s in Grouping.byBenchmarkAndMetric(b) { bByKey[s.key] = s }
            for s in Grouping.byBenchmarkAndMetric(a) where s.kind == .time {
                guard let other = bByKey[s.key], s.values.allSatisfy({ $0 > 0 }), other.values.allSatisfy({ $0 > 0 }) else { continue }
                if acc[s.key] == nil { order.append(s.key); acc[s.key] = Acc(kind: s.kind) }
                for side in [s, other] {
                    let u = Comparer.unitValues(side, logs: true)
                    guard u.count >= 2 else { continue }
                    let m = u.reduce(0, +) / Double(u.count)
                    acc[s.key]!.withinSquares += u.map { ($0 - m) * ($0 - m) }.reduce(0, +)
                    acc[s.key]!.withinDF += u.count - 1
                    acc[s.key]!.units = u.count
                }
                acc[s.key]!.logRatios.append(Foundation.log(Statistics.median(other.values) / Statistics.median(s.values)))
            }
            for r in c.regressions { acc[r.key]?.falseRegressions += 1 }
        }
        let entries = order.map { key -> NoiseProfile.Entry in
            let a = acc[key]!
            let within = a.withinDF > 0 ? (a.withinSquares / Double(a.withinDF)).squareRoot() : 0
            // Around 0, not the sample mean: under A/A the true log ratio is 0.
            let between = a.logRatios.isEmpty ? 0
                : (a.logRatios.map { $0 * $0 }.reduce(0, +) / Double(a.logRatios.count)).squareRoot()
            return NoiseProfile.Entry(name: key.name, implementation: key.implementation, unit: key.unit,
                                      withinSD: within, betweenRunsSD: between, units: a.units,
                                      trials: a.logRatios.count, falseRegressions: a.falseRegressions)
        }
        let profile = NoiseProfile(machine: MachineFingerprint.current(), date: RunEnvironment.iso8601(Date()),
                                   suite: suite, benchTime: benchTime, count: count, processes: processes,
                                   trials: trials, entries: entries)
        return Outcome(profile: profile, falseRegressions: perTrial)
    }
}

/// Does a benchmark measure the same in its suite as alone?
public struct OrderCheck {
    public var plans: [BenchmarkPlan]
    /// The benchmarks run alone and compared (all of them by default); the
    /// suite always runs whole, since what runs before a benchmark is the
    /// point.
    public var checked: Set<String>
    public var policy: VerdictPolicy
    /// Runs the plans together, as the suite does.
    public var inSuite: MeasurePlans
    /// Runs one plan alone, in a fresh process.
    public var alone: (BenchmarkPlan) throws -> [RepetitionResult]

    public init(plans: [BenchmarkPlan], checked: Set<String>? = nil, policy: VerdictPolicy, inSuite: @escaping MeasurePlans,
                alone: @escaping (BenchmarkPlan) throws -> [RepetitionResult]) {
        self.plans = plans
        self.checked = checked ?? Set(plans.map(\.benchmark.name))
        self.policy = policy
        self.inSuite = inSuite
        self.alone = alone
    }

    /// The comparison alone (base) against in the suite (new), ns/op only.
    public func run(log: (String) -> Void) throws -> Comparison {
        log("running the suite")
        let suite = try inSuite(plans).filter { checked.contains($0.name) }.map { r -> RepetitionResult in
            var r = r
            r.metrics = r.metrics.filter { $0.unit == "ns/op" }
            return r
        }
        var single: [RepetitionResult] = []
        let alonePlans = plans.filter { checked.contains($0.benchmark.name) }
        for (i, p) in alonePlans.enumerated() {
            log("alone \(i + 1)/\(alonePlans.count): \(p.benchmark.name)")
            single += try alone(p).map { r in
                var r = r
                r.metrics = r.metrics.filter { $0.unit == "ns/op" }
                return r
            }
        }
        return try Comparer.compare(base: single, new: suite, policy: policy)
    }
}
