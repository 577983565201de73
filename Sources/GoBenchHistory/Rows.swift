// The rows both backends write and read, and the conversions between them
// and the results model, so that the two stores cannot disagree on what a
// value's row holds.

import Foundation
import GoBenchKit

/// One row of `measurements`.
struct MeasurementRow: Sendable {
    var runID: Int64
    var benchmark: String
    var implementation: String
    var threads: Int
    var repetition: Int
    var process: Int?
    var n: Int
    var resultIndex: Int
    var position: Int
    var unit: String
    var kind: String
    var better: String
    var value: Double

    /// The rows of one run's results, in order.
    static func rows(of results: [RepetitionResult], runID: Int64) -> [MeasurementRow] {
        var out: [MeasurementRow] = []
        out.reserveCapacity(results.reduce(0) { $0 + $1.metrics.count })
        for (i, r) in results.enumerated() {
            for (j, m) in r.metrics.enumerated() {
                out.append(MeasurementRow(runID: runID, benchmark: r.name, implementation: r.impl.rawValue,
                                          threads: r.threads, repetition: r.repetition, process: r.process, n: r.n,
                                          resultIndex: i, position: j, unit: m.unit, kind: m.kind.rawValue,
                                          better: m.better.rawValue, value: m.value))
            }
        }
        return out
    }

    /// Rebuilds the results of runs from their rows (any order). A
    /// repetition that wrote no metric has no row and does not come back.
    static func results(from rows: [MeasurementRow]) throws -> [Int64: [RepetitionResult]] {
        var byRun: [Int64: [MeasurementRow]] = [:]
        for r in rows { byRun[r.runID, default: []].append(r) }
        var out: [Int64: [RepetitionResult]] = [:]
        for (run, rs) in byRun {
            let sorted = rs.sorted { ($0.resultIndex, $0.position) < ($1.resultIndex, $1.position) }
            var results: [RepetitionResult] = []
            var current = -1
            for r in sorted {
                guard let kind = MetricKind(rawValue: r.kind), let better = Better(rawValue: r.better) else {
                    throw HistoryError("run \(run): unknown kind \"\(r.kind)\" or direction \"\(r.better)\" for \(r.benchmark) \(r.unit)")
                }
                let metric = Metric(r.value, unit: r.unit, better: better, kind: kind)
                if r.resultIndex != current {
                    current = r.resultIndex
                    results.append(RepetitionResult(name: r.benchmark, impl: Implementation(r.implementation),
                                                    threads: r.threads, repetition: r.repetition, n: r.n,
                                                    metrics: [metric], process: r.process))
                } else {
                    results[results.count - 1].metrics.append(metric)
                }
            }
            out[run] = results
        }
        return out
    }
}

enum ContextCodec {
    /// The run context as a JSON array of [key, value] pairs: an object
    /// would lose the order.
    static func encode(_ env: RunEnvironment) -> String {
        let pairs = env.entries.map { [$0.key, $0.value] }
        guard let data = try? JSONSerialization.data(withJSONObject: pairs, options: [.sortedKeys]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> RunEnvironment {
        guard let any = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
              let pairs = any as? [[String]] else { return RunEnvironment() }
        return RunEnvironment(entries: pairs.compactMap { $0.count == 2 ? (key: $0[0], value: $0[1]) : nil })
    }
}

extension MachineFingerprint {
    /// Column values of a `machines` row, in the schema's order after hash.
    var machineColumns: (vendor: String, family: Int, model: Int, stepping: Int, cpuName: String, cores: Int,
                         hypervisor: String, kernel: String, thp: String, swift: String) {
        (vendor, family, model, stepping, modelName, cores, hypervisor, kernel, thp, swift)
    }
}
