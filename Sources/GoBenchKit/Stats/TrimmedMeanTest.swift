// The significance test behind every verdict: Yuen's trimmed-mean t test
// (Yuen 1974; Wilcox, "Introduction to Robust Estimation and Hypothesis
// Testing", 4th ed., sections 5.3 and 5.9), on the logarithms of the values,
// so that an effect is a ratio.
//
// Why this test and not the rank tests it replaced as the verdict:
//   - A verdict must survive control of the false discovery rate over a
//     hundred or more rows (VerdictPolicy). Rank tests have a floor: with 6
//     repetitions per side the smallest two-sided Mann-Whitney p is 0.0022,
//     and Benjamini-Hochberg over 200 rows asks 0.00025 of a lone
//     regression, so none could ever be reported. A t statistic has no
//     floor: a clear separation gives a p as small as the data supports.
//   - Benchmark times have long right tails (an interrupt, a preemption).
//     Trimming 20% from each end before averaging, and using the
//     winsorized variance, keeps one such repetition from deciding the
//     verdict, which a plain t test would let it do.
//   - Working in logs makes a slowdown of x% the same effect at 5 ns and at
//     5 ms, and a ratio's interval symmetric.
// The unit of replication is whatever the caller passes: VerdictPolicy
// passes one value per worker process (the mean log of that process's
// repetitions), because repetitions inside one process share its layout
// and heap state and are not independent of each other.
//
// Rank statistics stay where they are exact and floors do not matter: the
// order-statistic interval of a median, and side-by-side ratio intervals.

import Foundation

public struct TrimmedMeanTest: Sendable, Equatable {
    /// Trimmed mean of the differences on the log scale (b - a, or the
    /// one-sample mean), so exp(effect) is the ratio b / a.
    public var effect: Double
    /// Its standard error.
    public var standardError: Double
    /// Welch-Satterthwaite degrees of freedom (two samples) or h - 1.
    public var degreesOfFreedom: Double
    public var t: Double
    /// Two-sided p-value.
    public var pValue: Double

    /// Fraction trimmed from each end (20%, Wilcox's default).
    public static let trim = 0.2

    /// Two independent samples, `a` the base and `b` the new side, values
    /// already on the log scale. Needs at least 2 values per side.
    public init?(logBase a: [Double], logNew b: [Double]) {
        guard a.count >= 2, b.count >= 2,
              let sa = TrimmedMeanTest.trimmedStats(a), let sb = TrimmedMeanTest.trimmedStats(b) else { return nil }
        let d1 = sa.squaredError, d2 = sb.squaredError
        effect = sb.mean - sa.mean
        standardError = (d1 + d2).squareRoot()
        if standardError == 0 {
            degreesOfFreedom = Double(sa.h + sb.h - 2)
            t = effect == 0 ? 0 : (effect > 0 ? .infinity : -.infinity)
            pValue = effect == 0 ? 1 : 0
            return
        }
        let df1 = d1 == 0 ? 0 : d1 * d1 / Double(sa.h - 1)
        let df2 = d2 == 0 ? 0 : d2 * d2 / Double(sb.h - 1)
        degreesOfFreedom = (d1 + d2) * (d1 + d2) / max(df1 + df2, .leastNonzeroMagnitude)
        t = effect / standardError
        pValue = StudentT.twoSidedP(t, df: degreesOfFreedom)
    }

    /// One sample of log ratios against 0 (paired rounds).
    public init?(logRatios d: [Double]) {
        guard d.count >= 2, let s = TrimmedMeanTest.trimmedStats(d) else { return nil }
        effect = s.mean
        standardError = s.squaredError.squareRoot()
        degreesOfFreedom = Double(s.h - 1)
        if standardError == 0 {
            t = effect == 0 ? 0 : (effect > 0 ? .infinity : -.infinity)
            pValue = effect == 0 ? 1 : 0
            return
        }
        t = effect / standardError
        pValue = StudentT.twoSidedP(t, df: degreesOfFreedom)
    }

    /// The smallest |effect| on the log scale this test would call
    /// significant at `alpha` with probability `power`, given the standard
    /// error it saw: (t(1 - alpha/2) + t(power)) * se.
    public func detectableLogEffect(alpha: Double, power: Double = 0.8) -> Double {
        let df = max(degreesOfFreedom, 1)
        return (StudentT.quantile(1 - alpha / 2, df: df) + StudentT.quantile(power, df: df)) * standardError
    }

    /// Trimmed mean, the squared standard error of it, (n-1) s_w^2 / (h (h-1)),
    /// and h, the count left after trimming.
    static func trimmedStats(_ xs: [Double]) -> (mean: Double, squaredError: Double, h: Int)? {
        let n = xs.count
        let s = xs.sorted()
        let g = Int((trim * Double(n)).rounded(.down))
        let h = n - 2 * g
        guard h >= 2 else { return nil }
        let kept = s[g..<(n - g)]
        let mean = kept.reduce(0, +) / Double(h)
        // Winsorize: the g smallest become s[g], the g largest s[n-g-1].
        let w = s.map { Swift.min(Swift.max($0, s[g]), s[n - g - 1]) }
        let wm = w.reduce(0, +) / Double(n)
        var sw2 = w.map { ($0 - wm) * ($0 - wm) }.reduce(0, +) / Double(n - 1)
        if sw2 == 0 && s[0] != s[n - 1] {
            // Winsorizing flattened a sample that is not constant (five equal
            // values and one apart): its spread is not zero, so fall back to
            // the plain variance rather than claim certainty.
            let m = s.reduce(0, +) / Double(n)
            sw2 = s.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1)
        }
        return (mean, Double(n - 1) * sw2 / (Double(h) * Double(h - 1)), h)
    }
}

/// Student's t distribution.
public enum StudentT {
    /// P(|T| > |t|) for T with `df` degrees of freedom: I_x(df/2, 1/2) with
    /// x = df / (df + t^2).
    public static func twoSidedP(_ t: Double, df: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? 1 : 0 }
        let x = df / (df + t * t)
        return Swift.min(1, Swift.max(0, regularizedIncompleteBeta(x, a: df / 2, b: 0.5)))
    }

    /// P(T <= t).
    public static func cdf(_ t: Double, df: Double) -> Double {
        let half = twoSidedP(t, df: df) / 2
        return t >= 0 ? 1 - half : half
    }

    /// The p-quantile, by bisection on the CDF (monotone; 200 halvings are
    /// far more than enough for double precision).
    public static func quantile(_ p: Double, df: Double) -> Double {
        precondition(p > 0 && p < 1, "quantile needs 0 < p < 1")
        var lo = -1e6, hi = 1e6
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the
    /// symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges
    /// slowly.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnPowers: Double = a * log(x) + b * log(1 - x)
        let lnFront = lnGammas + lnPowers
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a)
        }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let m = Double(m)
            // Even step.
            let evenDen: Double = (a + 2 * m - 1) * (a + 2 * m)
            var num: Double = m * (b - m) * x / evenDen
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            // Odd step.
            let oddDen: Double = (a + 2 * m) * (a + 2 * m + 1)
            num = -(a + m) * (a + b + m) * x / oddDen
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(lnFront) * f / a
    }
}
