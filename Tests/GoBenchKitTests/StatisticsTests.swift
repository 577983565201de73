// Statistics against values computed independently with SciPy 1.17
// (scipy.stats.mannwhitneyu with alternative="two-sided", and
// scipy.stats.binom.cdf).

import Testing
@testable import GoBenchKit

@Suite struct StatisticsTests {
    @Test func medianAndQuantiles() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.quantile([1, 2, 3, 4, 5], 0.25) == 2)
    }

    @Test func binomialCDFMatchesSciPy() {
        #expect(abs(Statistics.binomialHalfCDF(0, n: 5) - 0.03125) < 1e-12)
        #expect(abs(Statistics.binomialHalfCDF(1, n: 6) - 0.109375) < 1e-12)
        #expect(abs(Statistics.binomialHalfCDF(2, n: 10) - 0.0546875) < 1e-12)
        #expect(abs(Statistics.binomialHalfCDF(3, n: 20) - 0.0012884140014648438) < 1e-12)
    }

    @Test func medianIntervalUsesOrderStatistics() throws {
        // n = 5 cannot reach 95%: P(all on one side) = 2/32 > 5%.
        #expect(Statistics.medianIntervalRanks(n: 5, confidence: 0.95) == nil)
        let six = try #require(Statistics.medianIntervalRanks(n: 6, confidence: 0.95))
        #expect(six.low == 1 && six.high == 6)
        #expect(abs(six.coverage - 0.96875) < 1e-12)
        let ten = try #require(Statistics.medianIntervalRanks(n: 10, confidence: 0.95))
        #expect(ten.low == 2 && ten.high == 9)
        #expect(abs(ten.coverage - 0.978515625) < 1e-12)
        let twenty = try #require(Statistics.medianIntervalRanks(n: 20, confidence: 0.95))
        #expect(twenty.low == 6 && twenty.high == 15)
        #expect(abs(twenty.coverage - (1 - 2 * 0.020694732666015625)) < 1e-12)

        let s = Statistics.summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
        #expect(s.median == 5.5 && s.low == 2 && s.high == 9 && s.intervalIsValid)
        let small = Statistics.summarize([3, 1, 2])
        #expect(!small.intervalIsValid && small.low == 1 && small.high == 3)
    }

    @Test(arguments: [
        // (x, y, U of x, SciPy p-value, exact?)
        ([1.1, 2.2, 3.3, 4.4, 5.5], [6.6, 7.7, 8.8, 9.9, 10.1], 0.0, 0.007936507936507936, true),
        ([10.1, 10.5, 9.8, 10.3, 10.0, 10.2], [10.4, 10.9, 10.6, 11.0, 10.7, 10.35], 2.0, 0.008658008658008658, true),
        ([3.1, 2.9, 3.5, 3.3], [3.0, 3.6, 3.8, 3.7, 3.9, 4.1, 2.8], 7.0, 0.2303030303030303, true),
        // ties: normal approximation with tie and continuity correction
        ([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5, 6], 8.5, 0.043051432728945134, false),
        // 60 + 60 values: too many for the exact table
        ((0..<60).map { Double($0) * 1.01 }, (0..<60).map { Double($0) + 3.5 }, 1605.5, 0.3085650085630377, false),
    ] as [([Double], [Double], Double, Double, Bool)])
    func mannWhitneyMatchesSciPy(x: [Double], y: [Double], u: Double, p: Double, exact: Bool) {
        let t = MannWhitney(x, y)
        #expect(t.u == u)
        #expect(t.exact == exact)
        #expect(abs(t.pValue - p) < 1e-9, "p = \(t.pValue), SciPy says \(p)")
        // Swapping the samples gives U' = n1*n2 - U and the same p.
        let s = MannWhitney(y, x)
        #expect(s.u == Double(x.count * y.count) - u)
        #expect(abs(s.pValue - p) < 1e-12)
    }

    @Test func identicalSamplesAreNotSignificant() {
        let a = [5.0, 5.1, 4.9, 5.2, 5.0, 4.8]
        #expect(MannWhitney(a, a).pValue > 0.5)
    }

    @Test func minimumPValueSaysWhenTheTestIsPowerless() {
        #expect(abs(MannWhitney.minimumPValue(3, 3) - 0.1) < 1e-12)       // 2/20
        #expect(abs(MannWhitney.minimumPValue(4, 4) - 2.0 / 70) < 1e-12)
        #expect(MannWhitney.minimumPValue(6, 6) < 0.01)
    }

    @Test func geomean() throws {
        #expect(abs(try #require(Statistics.geomean([1, 4, 16])) - 4) < 1e-12)
        #expect(Statistics.geomean([0, -1]) == nil)
    }
}
