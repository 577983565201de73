// Repetitions grouped into samples: one per (series, metric), the values
// of every repetition in order. Statistics, comparisons and reports work on
// samples.

/// The values of one metric of one series, over its repetitions.
public struct Sample: Sendable {
    public var key: MetricKey
    public var better: Better
    public var kind: MetricKind
    public var values: [Double]
    /// For each value, the worker process that measured it (nil: unknown).
    public var processes: [Int?]

    public var name: String { key.name }
    public var impl: Implementation { key.implementation }
    public var unit: String { key.unit }
    public var exact: Bool { kind == .exact }
}

public enum Grouping {
    public typealias Sample = GoBenchKit.Sample

    /// Samples in first-seen order.
    public static func byBenchmarkAndMetric(_ results: [RepetitionResult]) -> [Sample] {
        var order: [MetricKey] = []
        var groups: [MetricKey: Sample] = [:]
        for r in results {
            for m in r.metrics {
                let key = MetricKey(series: r.series, unit: m.unit)
                if groups[key] == nil {
                    order.append(key)
                    groups[key] = Sample(key: key, better: m.better, kind: m.kind, values: [], processes: [])
                }
                groups[key]!.values.append(m.value)
                groups[key]!.processes.append(r.process)
            }
        }
        return order.map { groups[$0]! }
    }
}
