// Midranks: the one ranking helper behind every rank statistic here (the
// Mann-Whitney U of compare and side-by-side, the Wilcoxon signed-rank of
// ab). Tied values share the mean of the ranks they span, and the tie term
// sum(t^3 - t) over tie groups feeds the variance corrections.

public enum Ranks {
    /// 1-based midranks of `values` in their original order, and the tie
    /// term.
    public static func midranks(_ values: [Double]) -> (ranks: [Double], tieTerm: Double) {
        let n = values.count
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && values[order[j + 1]] == values[order[i]] { j += 1 }
            let r = Double(i + j + 2) / 2
            for k in i...j { ranks[order[k]] = r }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        return (ranks, tieTerm)
    }
}
