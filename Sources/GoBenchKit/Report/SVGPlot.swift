// Plots as SVG text, written directly from Swift: no charting library and
// no script, so a report opens offline from file:// in any browser, does
// not depend on a package being installed where it is generated, and a
// test can count what was drawn (one <svg class="plot"> per plot, one
// <circle class="rep"> per repetition, one <line class="ci"> per whisker).
//
// Two shapes cover the report:
//   - XYPlot: numeric x against numeric y, either axis logarithmic, each
//     series a set of points (median marker, CI whisker, repetitions as
//     small dots) optionally joined by a line; used for scaling curves and
//     wait-time percentiles.
//   - RowPlot: one row per category (a benchmark), a numeric x axis, and
//     per row any number of marks; used for ours beside the alternatives
//     and for the distribution of repetitions.

import Foundation

/// One point of a series: a median, its interval, the repetitions.
public struct PlotPoint: Sendable {
    public var x: Double
    public var y: Double
    public var low: Double?
    public var high: Double?
    public var repetitions: [Double]
    /// Hover text.
    public var title: String

    public init(x: Double, y: Double, low: Double? = nil, high: Double? = nil, repetitions: [Double] = [], title: String = "") {
        self.x = x
        self.y = y
        self.low = low
        self.high = high
        self.repetitions = repetitions
        self.title = title
    }
}

public struct PlotSeries: Sendable {
    public var name: String
    public var color: String
    public var points: [PlotPoint]
    public var connect: Bool
    /// Drawn over the other series' points at the same x, not beside them
    /// (a highlight of points another series has).
    public var overlay = false

    public init(name: String, color: String, points: [PlotPoint], connect: Bool = true) {
        self.name = name
        self.color = color
        self.points = points
        self.connect = connect
    }
}

/// A palette that tells implementations apart: the port first.
enum Palette {
    static let colors = ["#1f5fa8", "#e07b00", "#2a9d4b", "#c0392b", "#7d4fb0", "#8c6d31", "#00a0b0", "#666666"]
    static func color(_ i: Int) -> String { colors[i % colors.count] }
}

/// Escapes text for HTML and SVG.
func xmlEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

private func f(_ v: Double) -> String { String(format: "%.1f", v) }

/// A numeric axis: maps data to pixels, chooses ticks.
struct Axis {
    var min: Double
    var max: Double
    var log: Bool
    var from: Double
    var to: Double

    init(values: [Double], log: Bool, from: Double, to: Double, includeZero: Bool = false) {
        var vs = values.filter { $0.isFinite && (!log || $0 > 0) }
        if includeZero && !log { vs.append(0) }
        var lo = vs.min() ?? 1, hi = vs.max() ?? 10
        if log {
            if lo == hi { lo /= 2; hi *= 2 }
            // Pad by a tenth of the range in log space.
            let pad = Foundation.log10(hi / lo) * 0.08
            lo /= pow(10, pad); hi *= pow(10, pad)
        } else {
            if lo == hi { lo -= 1; hi += 1 }
            let pad = (hi - lo) * 0.08
            lo -= includeZero && lo >= 0 ? 0 : pad; hi += pad
        }
        self.min = lo
        self.max = hi
        self.log = log
        self.from = from
        self.to = to
    }

    func px(_ v: Double) -> Double {
        let t: Double
        if log { t = (Foundation.log10(Swift.max(v, min)) - Foundation.log10(min)) / (Foundation.log10(max) - Foundation.log10(min)) }
        else { t = (v - min) / (max - min) }
        return from + (to - from) * Swift.min(1, Swift.max(0, t))
    }

    /// Ticks: decades (with 2 and 5 when the range is short) on a log
    /// axis, 1-2-5 steps on a linear one.
    var ticks: [Double] {
        if log {
            var out: [Double] = []
            let lo = Int(floor(Foundation.log10(min))), hi = Int(ceil(Foundation.log10(max)))
            let short = hi - lo <= 2
            for e in lo...hi {
                for m in short ? [1.0, 2, 5] : [1.0] {
                    let v = m * pow(10, Double(e))
                    if v >= min && v <= max { out.append(v) }
                }
            }
            return out
        }
        let raw = (max - min) / 5
        let mag = pow(10, floor(Foundation.log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(min / step) * step
        while v <= max + step * 1e-9 { out.append(v); v += step }
        return out
    }
}

public struct XYPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLog: Bool
    public var yLog: Bool
    public var series: [PlotSeries]
    /// Tick labels for x; nil: the numbers.
    public var xTickLabel: (@Sendable (Double) -> String)?
    public var yTickLabel: (@Sendable (Double) -> String)?
    /// Fixed x ticks (percentile plots); nil: chosen by the axis.
    public var xTicks: [Double]?
    /// Vertical lines across the plot at these x values, each with a label
    /// at its top (the history plots' change points); `regression` draws
    /// it in the regression colour.
    public var markers: [(x: Double, label: String, regression: Bool)] = []
    /// A linear y axis starts at zero unless this is false (series whose
    /// changes matter more than their distance from zero).
    public var yIncludesZero = true
    public var width = 600.0
    public var height = 340.0

    public init(title: String, xLabel: String, yLabel: String, xLog: Bool, yLog: Bool, series: [PlotSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xLog = xLog
        self.yLog = yLog
        self.series = series
    }

    public func svg() -> String {
        let left = 72.0, right = width - 16, top = 30.0, bottom = height - 64
        let points = series.flatMap(\.points)
        let xs = points.map(\.x)
        let ys = points.flatMap { [$0.y] + $0.repetitions + [$0.low, $0.high].compactMap { $0 } }
        let xa = Axis(values: xs + markers.map(\.x), log: xLog, from: left, to: right)
        let ya = Axis(values: ys, log: yLog, from: bottom, to: top, includeZero: !yLog && yIncludesZero)
        var s = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(xmlEscape(title))\">\n"
        s += "<text class=\"title\" x=\"\(f(left))\" y=\"18\">\(xmlEscape(title))</text>\n"
        s += "<rect class=\"frame\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\"/>\n"
        for t in xTicks ?? xa.ticks {
            let x = xa.px(t)
            s += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\"/>"
            s += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(bottom + 14))\" text-anchor=\"middle\">\(xmlEscape(xTickLabel?(t) ?? Console.significant(t)))</text>\n"
        }
        for t in ya.ticks {
            let y = ya.px(t)
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\"/>"
            s += "<text class=\"tick\" x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(xmlEscape(yTickLabel?(t) ?? Console.significant(t)))</text>\n"
        }
        for m in markers {
            let x = xa.px(m.x)
            s += "<line class=\"marker\(m.regression ? " regression" : "")\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\"/>"
            s += "<text class=\"marker-label\" x=\"\(f(x + 3))\" y=\"\(f(top + 11))\">\(xmlEscape(m.label))</text>\n"
        }
        s += "<text class=\"label\" x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 30))\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>\n"
        s += "<text class=\"label\" transform=\"translate(14 \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(xmlEscape(yLabel))</text>\n"
        // A small horizontal offset per series keeps coinciding points
        // and their repetitions apart.
        let offsetSeries = series.filter { !$0.overlay }
        let n = Double(offsetSeries.count)
        for ser in series {
            let si = offsetSeries.firstIndex { $0.name == ser.name } ?? 0
            let dx = ser.overlay ? 0 : (Double(si) - (n - 1) / 2) * 5
            s += "<g class=\"series\" data-name=\"\(xmlEscape(ser.name))\">\n"
            let sorted = ser.points.sorted { $0.x < $1.x }
            if ser.connect && sorted.count > 1 {
                s += "<polyline class=\"curve\" stroke=\"\(ser.color)\" points=\""
                    + sorted.map { "\(f(xa.px($0.x) + dx)),\(f(ya.px($0.y)))" }.joined(separator: " ") + "\"/>\n"
            }
            for p in sorted {
                let x = xa.px(p.x) + dx
                if let lo = p.low, let hi = p.high {
                    s += "<line class=\"ci\" stroke=\"\(ser.color)\" x1=\"\(f(x))\" y1=\"\(f(ya.px(lo)))\" x2=\"\(f(x))\" y2=\"\(f(ya.px(hi)))\"/>"
                }
                for (k, r) in p.repetitions.enumerated() {
                    let jitter = (Double(k % 5) - 2) * 1.2
                    s += "<circle class=\"rep\" fill=\"\(ser.color)\" cx=\"\(f(x + jitter))\" cy=\"\(f(ya.px(r)))\" r=\"1.8\"/>"
                }
                s += "<rect class=\"median\" fill=\"\(ser.color)\" x=\"\(f(x - 3.5))\" y=\"\(f(ya.px(p.y) - 3.5))\" width=\"7\" height=\"7\">"
                    + "<title>\(xmlEscape(p.title))</title></rect>\n"
            }
            s += "</g>\n"
        }
        s += legend(y: height - 16, left: left)
        return s + "</svg>\n"
    }

    func legend(y: Double, left: Double) -> String {
        var s = ""
        var x = left
        for ser in series {
            s += "<rect fill=\"\(ser.color)\" x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"9\" height=\"9\"/>"
            s += "<text class=\"legend\" x=\"\(f(x + 13))\" y=\"\(f(y))\">\(xmlEscape(ser.name))</text>\n"
            x += 24 + Double(ser.name.count) * 6.2
        }
        return s
    }
}

/// One row per category, marks along a numeric x axis.
public struct RowPlot: Sendable {
    public struct Mark: Sendable {
        public var series: Int
        public var value: Double
        public var low: Double?
        public var high: Double?
        /// Drawn as a repetition dot instead of a median marker.
        public var isRepetition: Bool
        /// Drawn hollow: a value clamped to the axis.
        public var clamped: Bool
        public var title: String

        public init(series: Int, value: Double, low: Double? = nil, high: Double? = nil, isRepetition: Bool = false,
                    clamped: Bool = false, title: String = "") {
            self.series = series
            self.value = value
            self.low = low
            self.high = high
            self.isRepetition = isRepetition
            self.clamped = clamped
            self.title = title
        }
    }

    public var title: String
    public var xLabel: String
    public var xLog: Bool
    public var seriesNames: [String]
    public var rows: [(label: String, marks: [Mark])]
    public var xTickLabel: (@Sendable (Double) -> String)?
    /// A reference line (0% deviation, ratio 1).
    public var referenceX: Double?
    public var width = 600.0

    public init(title: String, xLabel: String, xLog: Bool, seriesNames: [String], rows: [(label: String, marks: [Mark])]) {
        self.title = title
        self.xLabel = xLabel
        self.xLog = xLog
        self.seriesNames = seriesNames
        self.rows = rows
    }

    public func svg() -> String {
        let labelWidth = min(300, 12 + 6.3 * Double(rows.map(\.label.count).max() ?? 10))
        let rowHeight = 18.0
        let left = labelWidth, right = width - 16, top = 30.0
        let bottom = top + rowHeight * Double(max(rows.count, 1))
        let height = bottom + 60
        let values = rows.flatMap { $0.marks.flatMap { [$0.value, $0.low, $0.high].compactMap { $0 } } } + [referenceX].compactMap { $0 }
        let xa = Axis(values: values, log: xLog, from: left, to: right)
        var s = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(xmlEscape(title))\">\n"
        s += "<text class=\"title\" x=\"8\" y=\"18\">\(xmlEscape(title))</text>\n"
        s += "<rect class=\"frame\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\"/>\n"
        for t in xa.ticks {
            let x = xa.px(t)
            s += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\"/>"
            s += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(bottom + 14))\" text-anchor=\"middle\">\(xmlEscape(xTickLabel?(t) ?? Console.significant(t)))</text>\n"
        }
        if let r = referenceX {
            s += "<line class=\"reference\" x1=\"\(f(xa.px(r)))\" y1=\"\(f(top))\" x2=\"\(f(xa.px(r)))\" y2=\"\(f(bottom))\"/>\n"
        }
        s += "<text class=\"label\" x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 30))\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>\n"
        let nSeries = Double(max(seriesNames.count, 1))
        for (i, row) in rows.enumerated() {
            let yc = top + rowHeight * (Double(i) + 0.5)
            if i % 2 == 1 {
                s += "<rect class=\"band\" x=\"\(f(left))\" y=\"\(f(yc - rowHeight / 2))\" width=\"\(f(right - left))\" height=\"\(f(rowHeight))\"/>"
            }
            s += "<text class=\"rowlabel\" x=\"\(f(left - 6))\" y=\"\(f(yc + 4))\" text-anchor=\"end\">\(xmlEscape(row.label))</text>\n"
            for (k, m) in row.marks.enumerated() {
                let color = Palette.color(m.series)
                let dy = (Double(m.series) - (nSeries - 1) / 2) * (rowHeight / max(nSeries + 1, 3))
                let y = yc + dy
                let x = xa.px(m.value)
                if let lo = m.low, let hi = m.high {
                    s += "<line class=\"ci\" stroke=\"\(color)\" x1=\"\(f(xa.px(lo)))\" y1=\"\(f(y))\" x2=\"\(f(xa.px(hi)))\" y2=\"\(f(y))\"/>"
                }
                if m.isRepetition {
                    let jitter = (Double(k % 3) - 1) * 2
                    s += "<circle class=\"rep\(m.clamped ? " clamped" : "")\" \(m.clamped ? "stroke" : "fill")=\"\(color)\" "
                        + "cx=\"\(f(x))\" cy=\"\(f(y + jitter))\" r=\"2.5\"><title>\(xmlEscape(m.title))</title></circle>"
                } else {
                    s += "<rect class=\"median\" fill=\"\(color)\" x=\"\(f(x - 3.5))\" y=\"\(f(y - 3.5))\" width=\"7\" height=\"7\">"
                        + "<title>\(xmlEscape(m.title))</title></rect>"
                }
            }
            s += "\n"
        }
        var x = left
        for (i, name) in seriesNames.enumerated() {
            s += "<rect fill=\"\(Palette.color(i))\" x=\"\(f(x))\" y=\"\(f(height - 24))\" width=\"9\" height=\"9\"/>"
            s += "<text class=\"legend\" x=\"\(f(x + 13))\" y=\"\(f(height - 16))\">\(xmlEscape(name))</text>\n"
            x += 24 + Double(name.count) * 6.2
        }
        return s + "</svg>\n"
    }
}
