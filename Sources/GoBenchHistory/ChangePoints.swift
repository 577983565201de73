// Change points in a series over commits, by E-Divisive means.
//
// Method: D. S. Matteson and N. A. James, "A Nonparametric Approach for
// Multiple Change Point Analysis of Multivariate Data", JASA 109(505),
// 2014, in the variant MongoDB runs on its performance CI (D. Daly et al.,
// "The Use of Change Point Detection to Identify Software Performance
// Regressions in a Continuous Integration System", ICPE 2020) and Apache
// Otava (formerly Hunter) inherits from it:
//
//   For a segment Z[s..<e] and a split τ, with X = Z[s..<τ] (m points)
//   and Y = Z[τ..<e] (n points), the divergence of the two samples is
//       Ê(X, Y) = 2/(mn) Σ|Xi−Yj| − 1/C(m,2) Σ_{i<k}|Xi−Xk| − 1/C(n,2) Σ_{j<k}|Yj−Yk|
//   (α = 1: energy distance on first absolute moments), and the
//   statistic is Q̂(τ) = mn/(m+n) · Ê. The split of the segment is the τ
//   that maximizes Q̂. (Matteson and James also maximize over the segment's
//   end κ; MongoDB fixes κ = e, as here, which keeps each search O(n²).)
//
//   Significance is a permutation test: the segment's points are shuffled
//   `permutations` times and the best Q̂ recomputed each time; the p-value
//   is (1 + #{Q̂_perm ≥ Q̂}) / (permutations + 1). A split is kept when p is
//   below `significance`.
//
//   Bisection: starting from the whole series, every current segment is
//   searched, the one with the largest Q̂ is tested, and if it is
//   significant its split is added and the search repeats; the first
//   split that is not significant ends it.
//
// Then, as Otava does with its magnitude threshold, a kept split whose
// size (the median of the segment after it against the median of the
// segment before, each segment running to the neighbouring change points)
// is below `minimumChange` is dropped: a significant 0.3% shift is not
// worth a bisection. The size comes with a bootstrap 95% interval: the
// two segments' points are resampled with replacement and the ratio of
// medians recomputed (percentile interval).
//
// The random numbers come from a SplitMix64 seeded by the caller (History
// seeds each series by its name), so the same store gives the same change
// points every time.

import Foundation
import GoBenchKit

public struct ChangePointOptions: Sendable, Equatable {
    /// Permutation-test level for each split.
    public var significance: Double = 0.01
    public var permutations: Int = 499
    /// Points on either side of a split, at least.
    public var minimumSegment: Int = 2
    /// Smallest relative change reported (0.02 is 2%).
    public var minimumChange: Double = 0.02
    public var bootstrapResamples: Int = 1000

    public init() {}
}

/// One change point of a series.
public struct ChangePoint: Sendable, Equatable {
    /// The index of the first point after the change.
    public var index: Int
    /// The statistic Q̂ and its permutation p-value.
    public var q: Double
    public var pValue: Double
    /// Median of the segment after the change over that of the segment
    /// before, minus one (0.1 is +10%), with its bootstrap 95% interval.
    public var change: Double
    public var changeLow: Double
    public var changeHigh: Double
    /// The medians of the two segments.
    public var before: Double
    public var after: Double
}

public enum EDivisive {
    /// The change points of `series`, in index order.
    public static func changePoints(_ series: [Double], options: ChangePointOptions = ChangePointOptions(),
                                    seed: UInt64) -> [ChangePoint] {
        let minSeg = max(1, options.minimumSegment)
        guard series.count >= 2 * minSeg, series.allSatisfy(\.isFinite) else { return [] }
        var rng = SplitMix64(seed: seed)
        var splits: [(index: Int, q: Double, p: Double)] = []
        var bounds = [0, series.count]
        while true {
            // The best split of every current segment; test the best one.
            var best: (start: Int, end: Int, tau: Int, q: Double)?
            for k in 0..<(bounds.count - 1) {
                let s = bounds[k], e = bounds[k + 1]
                guard e - s >= 2 * minSeg, let (tau, q) = bestSplit(Array(series[s..<e]), minSegment: minSeg) else {
                    continue
                }
                if best == nil || q > best!.q { best = (s, e, s + tau, q) }
            }
            guard let b = best else { break }
            var segment = Array(series[b.start..<b.end])
            var atLeast = 0
            for _ in 0..<options.permutations {
                rng.shuffle(&segment)
                if let (_, q) = bestSplit(segment, minSegment: minSeg), q >= b.q { atLeast += 1 }
            }
            let p = Double(atLeast + 1) / Double(options.permutations + 1)
            guard p < options.significance else { break }
            splits.append((b.tau, b.q, p))
            bounds.append(b.tau)
            bounds.sort()
        }
        // Sizes between neighbouring change points, then the magnitude cut.
        let indices = splits.map(\.index).sorted()
        var out: [ChangePoint] = []
        for (k, idx) in indices.enumerated() {
            let lo = k == 0 ? 0 : indices[k - 1]
            let hi = k + 1 < indices.count ? indices[k + 1] : series.count
            let before = Array(series[lo..<idx]), after = Array(series[idx..<hi])
            let mb = median(before), ma = median(after)
            guard mb != 0 else { continue }
            let change = ma / mb - 1
            guard abs(change) >= options.minimumChange else { continue }
            let (low, high) = bootstrapInterval(before, after, resamples: options.bootstrapResamples, rng: &rng)
            let s = splits.first { $0.index == idx }!
            out.append(ChangePoint(index: idx, q: s.q, pValue: s.p, change: change, changeLow: low, changeHigh: high,
                                   before: mb, after: ma))
        }
        return out
    }

    /// The τ in minSegment...(count − minSegment) maximizing Q̂, with Q̂;
    /// nil when the segment is too short. O(count²): moving τ by one moves
    /// one point from Y to X, which changes each sum by one row of
    /// distances.
    static func bestSplit(_ z: [Double], minSegment: Int) -> (Int, Double)? {
        let n = z.count
        guard n >= 2 * minSegment else { return nil }
        // Start with X = z[0..<minSegment].
        var within = [0.0, 0.0]  // Σ within X, Σ within Y
        var between = 0.0
        let t0 = minSegment
        for i in 0..<t0 { for k in (i + 1)..<t0 { within[0] += abs(z[i] - z[k]) } }
        for j in t0..<n { for k in (j + 1)..<n { within[1] += abs(z[j] - z[k]) } }
        for i in 0..<t0 { for j in t0..<n { between += abs(z[i] - z[j]) } }
        var best: (Int, Double)?
        var tau = t0
        while true {
            let m = Double(tau), r = Double(n - tau)
            let wx = tau > 1 ? within[0] / (m * (m - 1) / 2) : 0
            let wy = n - tau > 1 ? within[1] / (r * (r - 1) / 2) : 0
            let e = 2 * between / (m * r) - wx - wy
            let q = m * r / (m + r) * e
            if best == nil || q > best!.1 { best = (tau, q) }
            guard tau + 1 <= n - minSegment else { break }
            // Move z[tau] from Y to X.
            var toX = 0.0, toY = 0.0
            for i in 0..<tau { toX += abs(z[i] - z[tau]) }
            for k in (tau + 1)..<n { toY += abs(z[tau] - z[k]) }
            within[0] += toX
            within[1] -= toY
            between += toY - toX
            tau += 1
        }
        return best
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Percentile 95% interval of median(after)/median(before) − 1.
    static func bootstrapInterval(_ before: [Double], _ after: [Double], resamples: Int,
                                  rng: inout SplitMix64) -> (Double, Double) {
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        var b = before, a = after
        for _ in 0..<max(1, resamples) {
            for i in b.indices { b[i] = before[rng.below(before.count)] }
            for i in a.indices { a[i] = after[rng.below(after.count)] }
            let mb = median(b)
            if mb != 0 { ratios.append(median(a) / mb - 1) }
        }
        ratios.sort()
        guard !ratios.isEmpty else { return (.nan, .nan) }
        let lo = ratios[Int((Double(ratios.count - 1) * 0.025).rounded())]
        let hi = ratios[Int((Double(ratios.count - 1) * 0.975).rounded())]
        return (lo, hi)
    }
}

/// The change-point test's draws, from GoBenchKit's SplitMix64 (Steele,
/// Lea and Flood, 2014), seeded per series so results are reproducible.
extension SplitMix64 {
    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Fisher-Yates.
    mutating func shuffle(_ xs: inout [Double]) {
        guard xs.count > 1 else { return }
        for i in stride(from: xs.count - 1, to: 0, by: -1) {
            xs.swapAt(i, below(i + 1))
        }
    }
}

/// FNV-1a 64 of a string: a stable seed per series.
public func stableSeed(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01b3 }
    return h
}
