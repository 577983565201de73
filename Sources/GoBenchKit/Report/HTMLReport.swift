// The HTML report: report.html in every run folder, one self-contained
// file (inline style, inline SVG, a few lines of inline script, no fetch of
// any kind) that opens offline from a file:// URL. `gobench report RUN_DIR
// [BASE_DIR]` rebuilds it from a run folder, or compares two.
//
// Plots are SVG written here (SVGPlot.swift) rather than a charting
// library inlined at generation time: no run-time dependency on a Debian
// package being installed where the report is made, a file a tenth the
// size, and a test can count exactly what was drawn.
//
// Sections, in order:
//   1. the run's context: machine fingerprint, counter availability, the rest;
//   2. with a base: regressions first, then improvements, each with its
//      delta, both medians' 95% intervals and p;
//   3. per subsystem: the benchmark lines (as on the console), scaling
//      plots (log-log, repetitions and CI per point), ours beside the
//      alternatives and Go with CI whiskers, the distribution of
//      repetitions around each median, the wait-time percentiles of the
//      benchmarks that record them, and the events per op;
//   4. with a history store: each benchmark's series over commits on this
//      machine (median and 95% CI per commit, this run marked), with the
//      change points the store found and the command that confirms each;
//   5. complexity fits of every scaling family, with the cache sizes;
//   6. flame graphs of the profiled benchmarks (profiles/*.svg).
// The page's script only reports: it counts the plots into
// <body data-plots> and writes any script error into #js-errors, so that a
// headless browser's --dump-dom shows both.

import Foundation

public struct HTMLReport {
    public var report: RunReport
    public var caches: [CacheLevel]
    /// The base's label in the comparison section.
    public var baseName: String

    public init(_ report: RunReport, caches: [CacheLevel] = CacheLevel.current(), baseName: String = "base") {
        self.report = report
        self.caches = caches
        self.baseName = baseName
    }

    /// The number of `<svg class="plot">` elements `render()` writes.
    public var plotCount: Int { sections().reduce(0) { $0 + $1.plots } }

    public func render() -> String {
        let env = report.environment
        let title = "gobench report " + (env["date"] ?? "")
        var body = "<h1>\(xmlEscape(title))</h1>\n<p class=\"summary\">\(xmlEscape(summaryLine()))</p>\n"
        body += "<nav>" + sections().map { "<a href=\"#\($0.id)\">\(xmlEscape($0.title))</a>" }.joined(separator: " · ") + "</nav>\n"
        body += "<div id=\"js-errors\"></div>\n"
        for s in sections() {
            body += "<section id=\"\(s.id)\">\n<h2>\(xmlEscape(s.title))</h2>\n\(s.html)</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(xmlEscape(title))</title>
        <script>
        window.gobenchErrors = [];
        window.addEventListener('error', function (e) {
          window.gobenchErrors.push(String(e.message));
          var box = document.getElementById('js-errors');
          if (box) { box.textContent = 'script errors: ' + window.gobenchErrors.join('; '); }
        });
        </script>
        <style>
        \(HTMLReport.css)
        </style>
        </head>
        <body>
        \(body)
        <script>
        document.body.setAttribute('data-plots', String(document.querySelectorAll('svg.plot').length));
        document.body.setAttribute('data-errors', String(window.gobenchErrors.length));
        </script>
        </body>
        </html>

        """
    }

    func summaryLine() -> String {
        var s = "\(report.benchmarkCount) benchmarks"
        if let e = report.elapsedSeconds { s += " in \(ConsoleReport.elapsed(e))" }
        if let git = report.environment["git"] { s += ", revision \(git)" }
        if let c = report.comparison {
            let reg = c.rows.filter { $0.verdict == .regression }.count
            let imp = c.rows.filter { $0.verdict == .improvement }.count
            s += "; against \(baseName): \(reg) regression(s), \(imp) improvement(s)"
        }
        return s
    }

    struct Section {
        var id: String
        var title: String
        var html: String
        var plots: Int
    }

    func sections() -> [Section] {
        var out = [context()]
        if let c = report.comparison { out.append(comparison(c)) }
        let families = report.scalingFamilies
        let waits = waitSeries()
        var waitPlaced = false
        for g in report.groups {
            var s = subsystem(g, families: families.filter { $0.name.hasPrefix(g.subsystem + "/") })
            let inGroup = g.rows.flatMap { [$0.primary] + $0.twins + $0.references }.map(\.key)
            if !waitPlaced, waits.contains(where: { w in inGroup.contains(w.key) }) {
                s.html += "<h3>Wait-time distribution</h3>\n" + waitPlot(waits)
                s.plots += 1
                waitPlaced = true
            }
            out.append(s)
        }
        if let h = history() { out.append(h) }
        out.append(complexity(families))
        out.append(flameGraphs())
        return out
    }

    // MARK: - Context

    func context() -> Section {
        let env = report.environment
        var h = ""
        if let fp = MachineFingerprint(context: env) {
            h += "<p>Machine <b>\(xmlEscape(fp.hash))</b>: \(xmlEscape(fp.summary)). Timings are comparable only between "
                + "runs with the same fingerprint.</p>\n"
        } else {
            h += "<p class=\"warn\">This run's context has no machine fingerprint (a file from before fingerprints).</p>\n"
        }
        h += "<table class=\"context\">\n"
        let first = ["counters", "counter-events", "drift", "fingerprint"]
        for k in first { if let v = env[k] { h += "<tr><th>\(xmlEscape(k))</th><td>\(xmlEscape(v))</td></tr>\n" } }
        h += "</table>\n<details><summary>the rest of the run context</summary><table class=\"context\">\n"
        for (k, v) in env.entries where !first.contains(k) {
            h += "<tr><th>\(xmlEscape(k))</th><td>\(xmlEscape(v))</td></tr>\n"
        }
        h += "</table></details>\n"
        if !caches.isEmpty {
            h += "<p>Caches of the machine that made this report: "
                + xmlEscape(caches.map { "\($0.name) \(formatBytes(Double($0.bytes)))" }.joined(separator: ", ")) + ".</p>\n"
        }
        return Section(id: "context", title: "Context", html: h, plots: 0)
    }

    // MARK: - Comparison

    func comparison(_ c: Comparison) -> Section {
        let order: [Verdict] = [.regression, .improvement]
        var h = "<p>Regressions first, then improvements; a verdict needs p &lt; alpha and a change beyond the threshold.</p>\n"
        for w in c.warnings { h += "<p class=\"warn\">\(xmlEscape(w))</p>\n" }
        h += "<table class=\"compare\"><tr><th>verdict</th><th>benchmark</th><th>metric</th><th>\(xmlEscape(baseName)) median [95% CI]</th>"
            + "<th>new median [95% CI]</th><th>delta</th><th>p</th><th>threshold</th></tr>\n"
        func row(_ r: ComparisonRow) -> String {
            // The metric's kind as the run recorded it (a time prints as a duration).
            let kind = report.series.first { $0.name == r.name }?.sample(r.unit)?.kind ?? .count
            func cell(_ s: Summary) -> String {
                "\(Console.value(s.median, kind: kind)) [\(Console.value(s.low, kind: kind)), \(Console.value(s.high, kind: kind))]"
            }
            let p = r.pValue.map { String(format: "%.3f", $0) } ?? "exact"
            return "<tr class=\"\(r.verdict == .regression ? "regression" : r.verdict == .improvement ? "improvement" : "")\">"
                + "<td>\(xmlEscape(r.verdict.rawValue))</td><td>\(xmlEscape(r.name))</td><td>\(xmlEscape(r.unit))</td>"
                + "<td>\(xmlEscape(cell(r.base)))</td><td>\(xmlEscape(cell(r.new)))</td>"
                + "<td>\(String(format: "%+.1f%%", r.deltaPercent))</td><td>\(p)</td><td>\(String(format: "%.0f%%", r.threshold))</td></tr>\n"
        }
        var shown = 0
        for v in order {
            for r in c.rows.filter({ $0.verdict == v }).sorted(by: { abs($0.deltaPercent) > abs($1.deltaPercent) }) {
                h += row(r)
                shown += 1
            }
        }
        if shown == 0 { h += "<tr><td colspan=\"8\">no regression and no improvement</td></tr>\n" }
        h += "</table>\n"
        let rest = c.rows.filter { !order.contains($0.verdict) && $0.unit == "ns/op" }
        if !rest.isEmpty {
            h += "<details><summary>\(rest.count) other ns/op rows</summary><table class=\"compare\">"
            for r in rest { h += row(r) }
            h += "</table></details>\n"
        }
        if report.differentialFlameGraphs.isEmpty {
            h += "<p>No differential flame graphs: no benchmark was profiled in both runs.</p>\n"
        } else {
            h += "<h3>Differential flame graphs</h3>\n<ul class=\"flames\">\n"
            for fg in report.differentialFlameGraphs {
                h += "<li><a href=\"\(xmlEscape(fg.path))\">\(xmlEscape(fg.benchmark))</a></li>\n"
            }
            h += "</ul>\n"
        }
        return Section(id: "compare", title: "Against \(baseName)", html: h, plots: 0)
    }

    // MARK: - Subsystems

    /// The label of a twin or reference series: "dict", "alt/pthread-mutex", "go".
    func role(_ s: SeriesSummary, primary: SeriesSummary) -> String {
        if s.key.implementation != .swift { return s.key.implementation.rawValue }
        if let rule = report.layout.twins.first(where: { s.name.hasPrefix($0.twin) }) {
            return String(rule.twin.dropLast(rule.twin.hasSuffix("/") ? 1 : 0))
        }
        return s.name
    }

    func subsystem(_ g: ReportGroup, families: [ScalingFamily]) -> Section {
        var h = ""
        var plots = 0
        // The lines, as on the console.
        let console = ConsoleReport(report, caches: caches)
        h += "<table class=\"lines\"><tr><th>benchmark</th><th>time/op</th><th>±</th><th>headline</th><th>ours/this</th><th>flags</th></tr>\n"
        for row in g.rows {
            let ours = row.primary.time.map { Statistics.median($0.values) }
            for (i, s) in ([row.primary] + row.twins + row.references).enumerated() {
                let c = console.line(s, indent: "", ours: i == 0 ? nil : ours)
                h += "<tr\(i > 0 ? " class=\"twin\"" : "")>" + c.enumerated().map { k, v in
                    "<td\(k == 1 || k == 2 || k == 4 ? " class=\"num\"" : "")>\(xmlEscape(v))</td>"
                }.joined() + "</tr>\n"
            }
        }
        h += "</table>\n"

        if !families.isEmpty {
            h += "<h3>Scaling</h3>\n<div class=\"plots\">\n"
            for fam in families { h += scalingPlot(fam); plots += 1 }
            h += "</div>\n"
        }
        let paired = g.rows.filter { !$0.twins.isEmpty || !$0.references.isEmpty }
        if !paired.isEmpty {
            h += "<h3>Ours beside the alternatives</h3>\n" + alternativesPlot(g.subsystem, paired)
            plots += 1
        }
        h += "<h3>Repetitions around each median</h3>\n" + stripPlot(g)
        plots += 1
        h += events(g)
        return Section(id: "sub-\(g.subsystem)", title: g.subsystem, html: h, plots: plots)
    }

    func point(_ x: Double, _ s: SeriesSummary, unit: String = "ns/op") -> PlotPoint? {
        guard let sample = s.sample(unit), !sample.values.isEmpty else { return nil }
        let sum = Statistics.summarize(sample.values)
        return PlotPoint(x: x, y: sum.median, low: sum.low, high: sum.high, repetitions: sample.values,
                         title: "\(s.key.description): \(Console.duration(sum.median)) [\(Console.duration(sum.low)), "
                            + "\(Console.duration(sum.high))], \(sample.values.count) repetitions")
    }

    func scalingPlot(_ fam: ScalingFamily) -> String {
        var series = [PlotSeries(name: fam.name, color: Palette.color(0),
                                 points: fam.points.compactMap { point($0.x, $0.series) })]
        for (i, c) in fam.companions.enumerated() {
            series.append(PlotSeries(name: c.label, color: Palette.color(i + 1), points: c.points.compactMap { point($0.x, $0.series) }))
        }
        var plot = XYPlot(title: fam.name + (fam.fit.map { " — fit \($0.best.rawValue)" } ?? ""), xLabel: fam.parameter,
                          yLabel: "time/op (median, 95% CI, repetitions)", xLog: true, yLog: true, series: series)
        plot.xTickLabel = { formatSize($0) }
        plot.yTickLabel = { Console.duration($0) }
        return plot.svg()
    }

    func alternativesPlot(_ subsystem: String, _ rows: [ReportRow]) -> String {
        var roles = ["ours"]
        var plotRows: [(label: String, marks: [RowPlot.Mark])] = []
        for row in rows {
            var marks: [RowPlot.Mark] = []
            for (i, s) in ([row.primary] + row.twins + row.references).enumerated() {
                let r = i == 0 ? "ours" : role(s, primary: row.primary)
                if !roles.contains(r) { roles.append(r) }
                guard let t = s.time else { continue }
                let sum = Statistics.summarize(t.values)
                marks.append(RowPlot.Mark(series: roles.firstIndex(of: r)!, value: sum.median, low: sum.low, high: sum.high,
                                          title: "\(s.key.description): \(Console.duration(sum.median))"))
            }
            plotRows.append((row.primary.name, marks))
        }
        var plot = RowPlot(title: "\(subsystem): time/op, ours beside the alternatives (95% CI)", xLabel: "time/op (log)",
                           xLog: true, seriesNames: roles, rows: plotRows)
        plot.xTickLabel = { Console.duration($0) }
        return plot.svg()
    }

    /// Each repetition as its deviation from its series' median, in percent.
    func stripPlot(_ g: ReportGroup) -> String {
        let all = g.rows.flatMap { [$0.primary] + $0.twins + $0.references }
        var devs: [(String, [Double])] = []
        for s in all {
            guard let t = s.time, !t.values.isEmpty else { continue }
            let m = Statistics.median(t.values)
            devs.append((s.key.description, m == 0 ? t.values.map { _ in 0 } : t.values.map { ($0 - m) / abs(m) * 100 }))
        }
        let limit = 50.0
        var rows: [(label: String, marks: [RowPlot.Mark])] = []
        for (name, d) in devs {
            rows.append((name, d.map { v in
                RowPlot.Mark(series: 0, value: max(-limit, min(limit, v)), isRepetition: true, clamped: abs(v) > limit,
                             title: String(format: "%@: %+.1f%%", name, v))
            }))
        }
        var plot = RowPlot(title: "\(g.subsystem): each repetition's time/op against its median (hollow: beyond ±50%)",
                           xLabel: "deviation from the median, %", xLog: false, seriesNames: ["repetitions"], rows: rows)
        plot.referenceX = 0
        plot.xTickLabel = { String(format: "%+.0f%%", $0) }
        return plot.svg()
    }

    /// Series that record wait percentiles: units "pNN-X" (p50, p99, p999
    /// for 99.9) and "max-X", with X the same.
    func waitSeries() -> [SeriesSummary] {
        report.series.filter { s in s.samples.contains { HTMLReport.percentile(of: $0.unit) != nil } }
    }

    /// 50 for "p50-wait-ns", 99.9 for "p999-wait-ns", 100 for "max-wait-ns".
    static func percentile(of unit: String) -> Double? {
        if unit.hasPrefix("max-") && unit.hasSuffix("-ns") { return 100 }
        guard unit.hasPrefix("p"), unit.hasSuffix("-ns"), let dash = unit.firstIndex(of: "-") else { return nil }
        let digits = unit[unit.index(after: unit.startIndex)..<dash]
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        if digits.count > 2 { return Double(digits.prefix(2) + "." + digits.dropFirst(2)) }
        return Double(digits)
    }

    /// Percentiles on a "nines" axis: x = -log10(1 - p/100), max drawn one
    /// step past the highest percentile.
    func waitPlot(_ waits: [SeriesSummary]) -> String {
        func nines(_ p: Double) -> Double { p >= 100 ? 4 : -log10(1 - p / 100) }
        var series: [PlotSeries] = []
        var ticks = Set<Double>()
        var labels: [Double: String] = [:]
        for (i, s) in waits.enumerated() {
            var pts: [PlotPoint] = []
            for sample in s.samples {
                guard let p = HTMLReport.percentile(of: sample.unit), !sample.values.isEmpty else { continue }
                let x = nines(p)
                ticks.insert(x)
                labels[x] = p >= 100 ? "max" : "p" + Console.significant(p).replacingOccurrences(of: ".0", with: "")
                let sum = Statistics.summarize(sample.values)
                pts.append(PlotPoint(x: x, y: max(sum.median, 1), low: max(sum.min, 1), high: max(sum.max, 1),
                                     repetitions: sample.values.map { max($0, 1) },
                                     title: "\(s.key.description) \(sample.unit): \(Console.duration(sum.median))"))
            }
            series.append(PlotSeries(name: s.key.description, color: Palette.color(i), points: pts))
        }
        let fixedLabels = labels
        var plot = XYPlot(title: "Wait for the lock, per acquisition: percentiles (median of repetitions; whiskers min-max)",
                          xLabel: "percentile", yLabel: "wait (log)", xLog: false, yLog: true, series: series)
        plot.xTicks = ticks.sorted()
        plot.xTickLabel = { x in fixedLabels[x] ?? Console.significant(x) }
        plot.yTickLabel = { Console.duration($0) }
        plot.width = 900
        return plot.svg()
    }

    /// Count metrics per op (runtime events), medians, per series.
    func events(_ g: ReportGroup) -> String {
        let all = g.rows.flatMap { [$0.primary] + $0.twins + $0.references }
        var units: [String] = []
        for s in all { for m in s.samples where m.kind == .count && m.unit.hasSuffix("/op") && !units.contains(m.unit) { units.append(m.unit) } }
        guard !units.isEmpty else { return "" }
        var h = "<h3>Runtime events per op</h3>\n<table class=\"events\"><tr><th>benchmark</th>"
            + units.map { "<th>\(xmlEscape($0))</th>" }.joined() + "</tr>\n"
        var maxima: [String: Double] = [:]
        for u in units { maxima[u] = all.compactMap { $0.sample(u).map { Statistics.median($0.values) } }.max() ?? 0 }
        for s in all where units.contains(where: { s.sample($0) != nil }) {
            h += "<tr><td>\(xmlEscape(s.key.description))</td>"
            for u in units {
                if let m = s.sample(u) {
                    let v = Statistics.median(m.values)
                    let w = maxima[u]! > 0 ? Int((v / maxima[u]! * 100).rounded()) : 0
                    h += "<td class=\"num\"><span class=\"bar\" style=\"width:\(w)%\"></span>\(Console.significant(v))</td>"
                } else {
                    h += "<td></td>"
                }
            }
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }

    // MARK: - History

    /// The history section; nil when the report was made without a store.
    func history() -> Section? {
        guard let prov = report.historyProvenance else { return nil }
        var h = "<p>History store \(xmlEscape(prov.store)), machine \(xmlEscape(prov.machine)): \(prov.runs) run(s) of "
            + "\(prov.commits) commit(s)\(prov.commits > prov.window ? ", the latest \(prov.window) drawn" : ""). "
            + "One point per commit: the median of its repetitions and the median's 95% CI; "
            + "the run of this report is drawn in its own colour. A dashed line is a change point (E-Divisive means); "
            + "confirm one with the paired <code>gobench ab</code> shown. Drawn: ns/op of each benchmark, and cpu-ns/op where it "
            + "has a change point.</p>\n"
        // ns/op of every benchmark; another metric (cpu-ns/op, steadier on
        // a loaded machine) where it has a change point.
        let drawn = report.history.filter { $0.points.count >= 2 && ($0.key.unit == "ns/op" || !$0.changes.isEmpty) }
            .sorted { ($0.key.series, $0.key.unit == "ns/op" ? 0 : 1) < ($1.key.series, $1.key.unit == "ns/op" ? 0 : 1) }
        let changes = drawn.flatMap { t in t.changes.map { (t, $0) } }
        if !changes.isEmpty {
            h += "<table class=\"changes\"><tr><th>benchmark</th><th>metric</th><th>lands at</th><th>change [95% CI]</th>"
                + "<th>p</th><th>confirm</th></tr>\n"
            for (t, c) in changes {
                h += "<tr\(c.isRegression ? " class=\"regression\"" : "")><td>\(xmlEscape(t.key.series.description))</td>"
                    + "<td>\(xmlEscape(t.key.unit))</td><td>\(xmlEscape(t.points[c.index].label))</td>"
                    + "<td class=\"num\">\(String(format: "%+.1f%% [%+.1f%%, %+.1f%%]", c.change * 100, c.low * 100, c.high * 100))</td>"
                    + "<td class=\"num\">\(String(format: "%.3f", c.pValue))</td><td><code>\(xmlEscape(c.confirm))</code></td></tr>\n"
            }
            h += "</table>\n"
        } else if !drawn.isEmpty {
            h += "<p>No change point in these series.</p>\n"
        }
        if drawn.isEmpty {
            h += "<p>No series has two commits yet: the history is drawn from the second recorded commit on.</p>\n"
            return Section(id: "history", title: "History on this machine", html: h, plots: 0)
        }
        var bySubsystem: [(String, [HistoryTrack])] = []
        for t in drawn {
            let sub = String(t.key.name.split(separator: "/").first ?? "")
            if let i = bySubsystem.firstIndex(where: { $0.0 == sub }) { bySubsystem[i].1.append(t) } else { bySubsystem.append((sub, [t])) }
        }
        for (sub, tracks) in bySubsystem {
            h += "<h3>\(xmlEscape(sub))</h3>\n<div class=\"plots\">\n"
            for t in tracks { h += HTMLReport.historyPlot(t) }
            h += "</div>\n"
        }
        return Section(id: "history", title: "History on this machine", html: h, plots: drawn.count)
    }

    /// One series over commits: x is the commit's place in the series.
    static func historyPlot(_ t: HistoryTrack) -> String {
        let kind = t.kind
        let value: @Sendable (Double) -> String = { Console.value($0, kind: kind) }
        func point(_ i: Int, _ p: HistoryTrack.Point) -> PlotPoint {
            PlotPoint(x: Double(i), y: p.summary.median, low: p.summary.low, high: p.summary.high,
                      title: "\(p.label): \(value(p.summary.median)) [\(value(p.summary.low)), \(value(p.summary.high))], "
                        + "\(p.summary.count) values")
        }
        let all = t.points.enumerated().map { point($0.offset, $0.element) }
        var series = [PlotSeries(name: "commits", color: Palette.color(0), points: all)]
        let current = t.points.enumerated().filter(\.element.isCurrent).map { all[$0.offset] }
        if !current.isEmpty {
            var mark = PlotSeries(name: "this run", color: Palette.color(3), points: current, connect: false)
            mark.overlay = true
            series.append(mark)
        }
        var plot = XYPlot(title: "\(t.key.series.description) \(t.key.unit)", xLabel: "commit (oldest left)",
                          yLabel: t.key.unit, xLog: false, yLog: false, series: series)
        plot.yIncludesZero = false
        plot.width = 440
        plot.height = 230
        // At most about six commit labels, always the last.
        let n = t.points.count
        let step = max(1, Int((Double(n) / 6).rounded(.up)))
        plot.xTicks = Array(Set(stride(from: n - 1, through: 0, by: -step).map(Double.init))).sorted()
        let labels = t.points.map { String($0.label.prefix(7)) }
        plot.xTickLabel = { x in labels.indices.contains(Int(x)) ? labels[Int(x)] : "" }
        plot.yTickLabel = { value($0) }
        plot.markers = t.changes.map {
            (x: Double($0.index) - 0.5, label: String(format: "%+.0f%%", $0.change * 100), regression: $0.isRegression)
        }
        return plot.svg()
    }

    // MARK: - Complexity and flame graphs

    func complexity(_ families: [ScalingFamily]) -> Section {
        var h = "<p>Least-squares fits of median time/op to c·f(n) for f in 1, log n, n, n log n (google/benchmark's "
            + "Complexity()); RMS is normalised by the mean time. Few sizes over several decades name a trend, not a law.</p>\n"
        h += "<table class=\"fits\"><tr><th>family</th><th>best fit</th><th>coefficient</th><th>RMS</th>"
            + ComplexityClass.allCases.map { "<th>\(xmlEscape($0.rawValue))</th>" }.joined() + "<th>steepest segment</th></tr>\n"
        for fam in families {
            guard let fit = fam.fit else { continue }
            h += "<tr><td>\(xmlEscape(fam.name))</td><td>\(xmlEscape(fit.best.rawValue))</td>"
                + "<td class=\"num\">\(Console.significant(fit.coefficient)) ns</td>"
                + "<td class=\"num\">\(String(format: "%.1f%%", fit.normalizedRMS * 100))</td>"
            for c in ComplexityClass.allCases {
                let v = fit.all.first { $0.0 == c }?.1
                h += "<td class=\"num\">\(v.map { String(format: "%.1f%%", $0 * 100) } ?? "")</td>"
            }
            let d = fam.describe(caches: caches, bytesPerElement: report.layout.bytesPerElement(fam.name))
            let bend = d.range(of: "; steepest ").map { String(d[$0.upperBound...]) } ?? ""
            h += "<td>\(xmlEscape(bend))</td></tr>\n"
        }
        h += "</table>\n"
        return Section(id: "complexity", title: "Complexity", html: h, plots: 0)
    }

    func flameGraphs() -> Section {
        var h = ""
        if report.flameGraphs.isEmpty {
            h += "<p>No profiles in this run (<code>gobench run REGEX --profile</code> or <code>gobench profile</code> writes them).</p>\n"
        } else {
            if let all = report.suiteFlameGraph {
                h += "<p>The whole suite in one graph, each benchmark a root frame: <a href=\"\(xmlEscape(all))\">\(xmlEscape(all))</a></p>\n"
            }
            let others = report.referenceFlameGraphs.reduce(into: [Implementation]()) { if !$0.contains($1.implementation) { $0.append($1.implementation) } }
            h += "<table class=\"flames\"><tr><th>ours</th>"
                + others.map { "<th>\(xmlEscape($0.rawValue))</th>" }.joined() + "</tr>\n"
            for fg in report.flameGraphs {
                h += "<tr><td><a href=\"\(xmlEscape(fg.path))\">\(xmlEscape(fg.benchmark))</a></td>"
                for impl in others {
                    if let r = report.referenceFlameGraphs.first(where: { $0.benchmark == fg.benchmark && $0.implementation == impl }) {
                        h += "<td><a href=\"\(xmlEscape(r.path))\">\(xmlEscape(impl.rawValue))</a></td>"
                    } else {
                        h += "<td></td>"
                    }
                }
                h += "</tr>\n"
            }
            h += "</table>\n"
        }
        return Section(id: "flamegraphs", title: "Flame graphs", html: h, plots: 0)
    }

    static let css = """
    body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1400px; }
    h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; margin-top: 32px; }
    h3 { font-size: 15px; margin: 18px 0 6px; } nav a { margin-right: 4px; } .summary { color: #444; }
    table { border-collapse: collapse; margin: 6px 0; } th, td { padding: 2px 8px; text-align: left; vertical-align: top; }
    th { background: #f0f0f0; font-weight: 600; } tr:nth-child(even) td { background: #fafafa; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; position: relative; }
    table.lines td:first-child { font-family: ui-monospace, monospace; } tr.twin td:first-child { padding-left: 24px; color: #555; }
    tr.regression td { background: #fde2e0; } tr.improvement td { background: #e2f5e4; }
    .warn { color: #a33; } #js-errors { color: #c00; font-weight: bold; }
    span.bar { position: absolute; left: 0; top: 3px; bottom: 3px; background: #d8e6f5; z-index: -1; }
    table.events td.num { z-index: 0; } .plots { display: flex; flex-wrap: wrap; gap: 12px; }
    svg.plot { background: #fff; border: 1px solid #e2e2e2; margin: 4px 0; }
    svg .title { font-size: 13px; font-weight: 600; } svg .tick, svg .legend, svg .rowlabel { font-size: 11px; fill: #333; }
    svg .label { font-size: 12px; fill: #333; } svg .frame { fill: none; stroke: #999; } svg .grid { stroke: #eee; }
    svg .band { fill: #f6f6f6; } svg .reference { stroke: #888; stroke-dasharray: 3 3; }
    svg .curve { fill: none; stroke-width: 1.5; } svg .ci { stroke-width: 2; } svg .rep { opacity: 0.45; }
    svg .rep.clamped { fill: none; opacity: 0.9; stroke-width: 1.2; }
    svg .marker { stroke: #2a6; stroke-dasharray: 4 3; stroke-width: 1.5; } svg .marker.regression { stroke: #c33; }
    svg .marker-label { font-size: 11px; fill: #333; }
    """
}
