// Scaling families and their asymptotic fit, as google/benchmark's
// Complexity() does (src/complexity.cc): for a family of benchmarks that
// differ only in one size parameter (map/access/hit/n=8, n=1k, n=1M), fit
// t(n) = c * f(n) by least squares through the origin for each candidate
// f in {1, log n, n, n log n}; c = sum(t f) / sum(f^2), and the fit's RMS
// error is sqrt(mean((t - c f)^2)), normalised by the mean of t so that
// families of different magnitudes compare. The best fit is the one with
// the smallest RMS. With only three or four sizes spread over five decades
// the fit names a trend, not a law: the report says how many points it
// rests on, and where the log-log slope is steepest (the "bend"), which for
// a hash map is where its working set outgrows a cache level.

import Foundation

public enum ComplexityClass: String, CaseIterable, Sendable {
    case constant = "O(1)"
    case logarithmic = "O(log n)"
    case linear = "O(n)"
    case linearithmic = "O(n log n)"

    public func f(_ n: Double) -> Double {
        switch self {
        case .constant: return 1
        case .logarithmic: return log2(n)
        case .linear: return n
        case .linearithmic: return n * log2(n)
        }
    }
}

public struct ComplexityFit: Sendable {
    public var best: ComplexityClass
    /// t ≈ coefficient * f(n), in the metric's unit (ns/op).
    public var coefficient: Double
    /// RMS of the residuals over the mean of t (0.05: 5%).
    public var normalizedRMS: Double
    /// Every candidate's normalised RMS, in ComplexityClass order.
    public var all: [(ComplexityClass, Double)]
}

public enum Complexity {
    /// Fits (n, t) points; nil with fewer than 3 points or an n below 1.
    /// (At n = 1, log n is 0: the log fits rest on the other points.)
    public static func fit(_ points: [(n: Double, t: Double)]) -> ComplexityFit? {
        guard points.count >= 3, points.allSatisfy({ $0.n >= 1 && $0.t.isFinite }) else { return nil }
        let mean = points.map(\.t).reduce(0, +) / Double(points.count)
        guard mean > 0 else { return nil }
        var all: [(ComplexityClass, Double, Double)] = []
        for c in ComplexityClass.allCases {
            let ff = points.map { c.f($0.n) * c.f($0.n) }.reduce(0, +)
            guard ff > 0 else { continue }
            let coef = points.map { $0.t * c.f($0.n) }.reduce(0, +) / ff
            let sq = points.map { ($0.t - coef * c.f($0.n)) * ($0.t - coef * c.f($0.n)) }.reduce(0, +)
            all.append((c, coef, sqrt(sq / Double(points.count)) / mean))
        }
        guard let best = all.min(by: { $0.2 < $1.2 }) else { return nil }
        return ComplexityFit(best: best.0, coefficient: best.1, normalizedRMS: best.2, all: all.map { ($0.0, $0.2) })
    }

    /// The segment between consecutive sizes with the steepest log-log
    /// slope (d log t / d log n): where the curve bends upward most.
    public static func bend(_ points: [(n: Double, t: Double)]) -> (from: Double, to: Double, slope: Double)? {
        let p = points.filter { $0.n > 0 && $0.t > 0 }.sorted { $0.n < $1.n }
        guard p.count >= 3 else { return nil }
        var best: (Double, Double, Double)?
        for i in 1..<p.count where p[i].n > p[i - 1].n {
            let s = (log(p[i].t) - log(p[i - 1].t)) / (log(p[i].n) - log(p[i - 1].n))
            if best == nil || s > best!.2 { best = (p[i - 1].n, p[i].n, s) }
        }
        return best.map { (from: $0.0, to: $0.1, slope: $0.2) }
    }
}

/// A size parameter's value: "8", "1k", "100k", "1M", "64", "2G".
func parseSize(_ s: Substring) -> Double? {
    if let v = Double(s) { return v }
    let scales: [Character: Double] = ["k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9]
    guard let last = s.last, let scale = scales[last], let v = Double(s.dropLast()) else { return nil }
    return v * scale
}

/// Benchmarks that differ only in one numeric `key=value` component.
public struct ScalingFamily: Sendable {
    /// "map/access/hit/n=*".
    public var name: String
    /// "n", "size", "threads", "cap", "depth".
    public var parameter: String
    /// Sorted by x.
    public var points: [(x: Double, label: String, series: SeriesSummary)]
    /// The family's twins and references (dict/access/hit/n=*, Go's), each
    /// with its own points, drawn in the same plot.
    public var companions: [(label: String, points: [(x: Double, label: String, series: SeriesSummary)])]

    /// (x, median ns/op) of the family's own points.
    public var medians: [(n: Double, t: Double)] {
        points.compactMap { p in p.series.time.map { (n: p.x, t: Statistics.median($0.values)) } }
    }

    public var fit: ComplexityFit? { Complexity.fit(medians) }
    public var bend: (from: Double, to: Double, slope: Double)? { Complexity.bend(medians) }

    /// Families of `series` with at least `minimumPoints` sizes, in
    /// first-seen order. The family key replaces the first numeric
    /// parameter's value by "*".
    static func families(_ series: [SeriesSummary], minimumPoints: Int = 3) -> [(key: String, implementation: Implementation, parameter: String, points: [(x: Double, label: String, series: SeriesSummary)])] {
        var order: [String] = []
        var byKey: [String: (Implementation, String, [(Double, String, SeriesSummary)])] = [:]
        for s in series {
            var parts = s.name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard let i = parts.firstIndex(where: { p in
                guard let eq = p.firstIndex(of: "=") else { return false }
                return parseSize(p[p.index(after: eq)...]) != nil
            }) else { continue }
            let eq = parts[i].firstIndex(of: "=")!
            let param = String(parts[i][..<eq])
            let label = String(parts[i][parts[i].index(after: eq)...])
            parts[i] = param + "=*"
            let key = parts.joined(separator: "/") + "\u{0}\(s.key.implementation)"
            if byKey[key] == nil { order.append(key); byKey[key] = (s.key.implementation, param, []) }
            byKey[key]!.2.append((parseSize(Substring(label))!, label, s))
        }
        return order.compactMap { k in
            let (impl, param, pts) = byKey[k]!
            guard Set(pts.map(\.0)).count >= minimumPoints else { return nil }
            let name = String(k.prefix { $0 != "\u{0}" })
            return (name, impl, param, pts.sorted { $0.0 < $1.0 }.map { (x: $0.0, label: $0.1, series: $0.2) })
        }
    }
}

extension RunReport {
    /// The scaling families of our benchmarks (3 sizes or more), each
    /// with its twins' and references' families as companions (2 sizes
    /// or more).
    public var scalingFamilies: [ScalingFamily] {
        let all = ScalingFamily.families(series, minimumPoints: 2)
        let ours = all.filter { $0.implementation == .swift }
        let names = Set(ours.map(\.key))
        var companions: [String: [(String, [(x: Double, label: String, series: SeriesSummary)])]] = [:]
        var isTwin = Set<String>()
        for f in all {
            if f.implementation != .swift {
                companions[f.key, default: []].append(("\(f.key) [\(f.implementation)]", f.points))
            } else if let p = layout.twinOf(f.key, in: names) {
                companions[p, default: []].append((f.key, f.points))
                isTwin.insert(f.key)
            }
        }
        return ours.filter { !isTwin.contains($0.key) && Set($0.points.map(\.x)).count >= 3 }.map {
            ScalingFamily(name: $0.key, parameter: $0.parameter, points: $0.points, companions: companions[$0.key] ?? [])
        }
    }
}

/// This machine's caches, from /sys/devices/system/cpu/cpu0/cache.
public struct CacheLevel: Sendable, Equatable {
    public var level: Int
    public var type: String
    public var bytes: Int

    /// "L1d 48 KiB".
    public var name: String {
        let t = type == "Data" ? "d" : type == "Instruction" ? "i" : ""
        return "L\(level)\(t)"
    }

    public static func current() -> [CacheLevel] {
        let base = "/sys/devices/system/cpu/cpu0/cache"
        guard let dirs = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        var out: [CacheLevel] = []
        for d in dirs.sorted() where d.hasPrefix("index") {
            func read(_ f: String) -> String? {
                (try? String(contentsOfFile: "\(base)/\(d)/\(f)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let l = read("level").flatMap(Int.init), let t = read("type"), let s = read("size"),
                  let bytes = parseCacheSize(s), t != "Instruction" else { continue }
            out.append(CacheLevel(level: l, type: t, bytes: bytes))
        }
        return out.sorted { $0.level < $1.level }
    }

    /// "48K" -> 49152, "32768K" -> 33554432, "1M".
    static func parseCacheSize(_ s: String) -> Int? {
        if let v = Int(s) { return v }
        guard let last = s.last, let v = Int(s.dropLast()) else { return nil }
        switch last {
        case "K": return v << 10
        case "M": return v << 20
        case "G": return v << 30
        default: return nil
        }
    }
}

/// Formats sizes as the benchmark names do: 8, 1k, 100k, 1M.
func formatSize(_ v: Double) -> String {
    if v >= 1e6 && (v / 1e6).rounded() == v / 1e6 { return "\(Int(v / 1e6))M" }
    if v >= 1e3 && (v / 1e3).rounded() == v / 1e3 { return "\(Int(v / 1e3))k" }
    return v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v)
}

/// "48 KiB", "1 MiB", "32 MiB".
func formatBytes(_ b: Double) -> String {
    let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
    if b >= gib { return String(format: "%.3g GiB", b / gib) }
    if b >= mib { return String(format: "%.3g MiB", b / mib) }
    if b >= kib { return String(format: "%.3g KiB", b / kib) }
    return String(format: "%.0f B", b)
}

extension ScalingFamily {
    /// One line: "map/access/hit/n=*: O(log n), 2.1 ns x f(n), rms 12% (3 sizes); steepest
    /// between n=1k and n=1M (slope 0.21), where ~22 B/entry crosses L2 1 MiB and L3 32 MiB".
    public func describe(caches: [CacheLevel], bytesPerElement: Double?) -> String {
        guard let fit else { return "\(name): too few sizes for a fit" }
        var s = "\(name): \(fit.best.rawValue), rms \(String(format: "%.0f%%", fit.normalizedRMS * 100))"
            + " (\(medians.count) sizes; next best "
        let next = fit.all.filter { $0.0 != fit.best }.min { $0.1 < $1.1 }
        s += next.map { "\($0.0.rawValue) \(String(format: "%.0f%%", $0.1 * 100)))" } ?? "none)"
        if let b = bend {
            s += String(format: "; steepest between \(parameter)=\(formatSize(b.from)) and \(parameter)=\(formatSize(b.to)) (log-log slope %.2f)", b.slope)
            if let bpe = bytesPerElement {
                let crossed = caches.filter { Double($0.bytes) > b.from * bpe && Double($0.bytes) <= b.to * bpe }
                let span = "\(formatBytes(b.from * bpe))-\(formatBytes(b.to * bpe)) at ~\(Int(bpe)) B/entry"
                s += crossed.isEmpty ? ", working set \(span), no cache boundary in between"
                    : ", working set \(span) crosses " + crossed.map { "\($0.name) \(formatBytes(Double($0.bytes)))" }.joined(separator: " and ")
            }
        }
        return s
    }
}
