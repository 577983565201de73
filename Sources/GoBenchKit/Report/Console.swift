// The console report: a table of medians with their confidence intervals,
// and a progress line that is shown only on a terminal.

import Foundation

public enum Console {
    /// Whether standard error is a terminal (progress lines go there).
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Overwrites the progress line on standard error.
    public static func progress(_ text: String) {
        let clipped = text.count > 100 ? String(text.prefix(97)) + "..." : text
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }

    public static func clearProgress() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// Pads columns; the first `leftAligned` columns align left, numbers
    /// align right.
    public static func table(_ rows: [[String]], leftAligned: Int = 1) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            var line = ""
            for (i, c) in r.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += i < leftAligned ? c + pad : pad + c
                if i + 1 < r.count { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// The results table: per benchmark and metric, the median, the ± of
    /// its confidence interval, the number of repetitions and which
    /// direction is better.
    public static func summaryTable(_ results: [RepetitionResult]) -> String {
        let mixed = Set(results.map(\.impl)).count > 1
        var rows: [[String]] = [["benchmark", "metric", "median", "±", "reps", "better"]]
        for group in Grouping.byBenchmarkAndMetric(results) {
            let s = Statistics.summarize(group.values)
            rows.append([mixed ? "\(group.name) [\(group.impl)]" : group.name, group.unit, GoText.formatValue(s.median),
                         String(format: "%.1f%%", s.spreadPercent) + (s.intervalIsValid ? "" : "?"),
                         String(s.count), group.better.rawValue])
        }
        return table(rows, leftAligned: 2)
    }
}

extension Console {
    /// Lines naming the repetitions whose run conditions stood out, or "".
    public static func flagReport(_ results: [RepetitionResult]) -> String {
        let flags = DriftFlags.flagged(results)
        guard !flags.isEmpty else { return "" }
        var out = "\nrepetitions run under markedly different conditions:\n"
        for r in results {
            if let why = flags[r.key] {
                out += "  \(r.series) #\(r.repetition): \(why)\n"
            }
        }
        return out
    }
}
