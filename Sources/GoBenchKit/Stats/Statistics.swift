// Distribution-free statistics for benchmark samples, as benchstat uses:
// the median with an order-statistic confidence interval, the two-sided
// Mann-Whitney U test, and the geometric mean for summary rows.
//
// Benchmark times are not normal (long right tails from interrupts and
// preemption), so nothing here assumes a distribution.

#if canImport(Glibc)
import Glibc
#endif

/// A sample's summary.
public struct Summary: Sendable, Equatable {
    public var count: Int
    public var median: Double
    public var min: Double
    public var max: Double
    /// Confidence interval of the median from order statistics.
    public var low: Double
    public var high: Double
    /// The interval's actual coverage (at least the one asked for, or
    /// less when the sample is too small to reach it).
    public var confidence: Double
    /// Whether the sample is big enough for the interval to reach the
    /// confidence asked for.
    public var intervalIsValid: Bool

    /// Half the interval's width relative to the median, in percent: the
    /// "± x%" benchstat prints.
    public var spreadPercent: Double {
        median == 0 ? 0 : (high - low) / 2 / abs(median) * 100
    }
}

public enum Statistics {
    public static func median(_ xs: [Double]) -> Double {
        quantile(xs.sorted(), 0.5)
    }

    /// Linear-interpolated quantile of sorted data (type 7, R's default).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of an empty sample")
        if sorted.count == 1 { return sorted[0] }
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// P(B <= k) for B ~ Binomial(n, 1/2).
    public static func binomialHalfCDF(_ k: Int, n: Int) -> Double {
        if k < 0 { return 0 }
        if k >= n { return 1 }
        var sum = 0.0
        for i in 0...k {
            sum += exp(logChoose(n, i) - Double(n) * log(2.0))
        }
        return Swift.min(1, sum)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// Ranks (1-based, inclusive) of the order statistics that bound the
    /// median with at least `confidence`: the largest k with
    /// P(B <= k-1) <= (1-confidence)/2 gives [x(k), x(n+1-k)].
    /// Returns nil when even [min, max] falls short.
    public static func medianIntervalRanks(n: Int, confidence: Double) -> (low: Int, high: Int, coverage: Double)? {
        let tail = (1 - confidence) / 2
        var best: (Int, Int, Double)?
        var k = 1
        while k <= (n + 1) / 2 {
            let below = binomialHalfCDF(k - 1, n: n)
            if below > tail { break }
            best = (k, n + 1 - k, 1 - 2 * below)
            k += 1
        }
        return best.map { (low: $0.0, high: $0.1, coverage: $0.2) }
    }

    public static func summarize(_ xs: [Double], confidence: Double = 0.95) -> Summary {
        precondition(!xs.isEmpty, "summary of an empty sample")
        let s = xs.sorted()
        let med = quantile(s, 0.5)
        if let r = medianIntervalRanks(n: s.count, confidence: confidence) {
            return Summary(count: s.count, median: med, min: s[0], max: s[s.count - 1],
                           low: s[r.low - 1], high: s[r.high - 1], confidence: r.coverage,
                           intervalIsValid: true)
        }
        let coverage = s.count > 1 ? 1 - 2 * binomialHalfCDF(0, n: s.count) : 0
        return Summary(count: s.count, median: med, min: s[0], max: s[s.count - 1],
                       low: s[0], high: s[s.count - 1], confidence: coverage, intervalIsValid: false)
    }

    /// Geometric mean of the positive values; nil when there are none.
    public static func geomean(_ xs: [Double]) -> Double? {
        let pos = xs.filter { $0 > 0 && $0.isFinite }
        guard !pos.isEmpty else { return nil }
        return exp(pos.map { log($0) }.reduce(0, +) / Double(pos.count))
    }

    /// Standard normal upper tail, P(Z > z).
    public static func normalSF(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }
}

/// The two-sided Mann-Whitney U test (Wilcoxon rank-sum).
///
/// Exact when there are no ties and both samples have at most 50 values
/// (the null distribution of U counted by recurrence); otherwise the normal
/// approximation with tie correction and continuity correction. Both agree
/// with SciPy's `mannwhitneyu(..., alternative="two-sided")` with
/// `method="exact"` and `method="asymptotic"` respectively.
public struct MannWhitney: Sendable, Equatable {
    /// U of the first sample: pairs (x, y) with x > y, ties counting half.
    public var u: Double
    public var pValue: Double
    public var exact: Bool

    public init(_ x: [Double], _ y: [Double]) {
        precondition(!x.isEmpty && !y.isEmpty, "Mann-Whitney U needs two non-empty samples")
        let n1 = x.count, n2 = y.count, n = n1 + n2
        // Midranks over the pooled sample; x comes first.
        let (ranks, tieTerm) = Ranks.midranks(x + y)
        let r1 = ranks[..<n1].reduce(0, +)
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let u2 = Double(n1 * n2) - u1
        u = u1
        let big = Swift.max(u1, u2)

        if tieTerm == 0 && n1 <= 50 && n2 <= 50 {
            exact = true
            // P(U >= big) under H0, doubled.
            let counts = MannWhitney.nullCounts(n1, n2)
            let total = counts.reduce(0, +)
            let from = Int(big.rounded(.up))
            var upper = 0.0
            if from < counts.count {
                for k in from..<counts.count { upper += counts[k] }
            }
            pValue = Swift.min(1, 2 * upper / total)
        } else {
            exact = false
            let mu = Double(n1 * n2) / 2
            let nn = Double(n)
            let variance = Double(n1 * n2) / 12 * ((nn + 1) - tieTerm / (nn * (nn - 1)))
            if variance <= 0 {
                pValue = 1
            } else {
                let z = (big - mu - 0.5) / variance.squareRoot()
                pValue = Swift.min(1, 2 * Statistics.normalSF(z))
            }
        }
    }

    /// Number of arrangements giving each U = 0 ... n1*n2, by the recurrence
    /// f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u), as Doubles (no overflow
    /// concerns at these sizes).
    public static func nullCounts(_ m: Int, _ n: Int) -> [Double] {
        // prev[j][u] for the current m; build up m from 0.
        let maxU = m * n
        var table = [[Double]](repeating: [Double](repeating: 0, count: maxU + 1), count: n + 1)
        for j in 0...n { table[j][0] = 1 }   // m = 0: one arrangement, U = 0
        if m == 0 { return table[n] }
        for _ in 1...m {
            var next = [[Double]](repeating: [Double](repeating: 0, count: maxU + 1), count: n + 1)
            // j = 0: U = 0 only
            next[0][0] = 1
            if n >= 1 {
                for j in 1...n {
                    for u in 0...maxU {
                        var v = next[j - 1][u]
                        if u >= j { v += table[j][u - j] }
                        next[j][u] = v
                    }
                }
            }
            table = next
        }
        return table[n]
    }

    /// The smallest two-sided p-value samples of these sizes can reach; if
    /// it is above alpha the test can never call a difference significant.
    public static func minimumPValue(_ n1: Int, _ n2: Int) -> Double {
        guard n1 > 0 && n2 > 0 else { return 1 }
        let counts = nullCounts(n1, n2)
        return Swift.min(1, 2 * counts[counts.count - 1] / counts.reduce(0, +))
    }
}
