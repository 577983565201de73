// The run folder: what a run leaves behind under results/runs/<timestamp>/.
//   results.csv      every repetition x metric (CSV.swift)
//   results.txt      the same as Go benchmark text, benchstat-ready
//   context.json     the run context, machine fingerprint included
//   side-by-side.*   ours beside another implementation, when one ran
//   report.html      the HTML report (HTMLReport.swift), written last so
//                    that it can link the profiles the instruments wrote
// Every file goes through a temporary name and a rename (AtomicFile).

import Foundation

public enum RunFolderWriter {
    /// Creates `parent/<timestamp>` (with a -2, -3... suffix when taken).
    public static func create(parent: String, started: Date) throws -> String {
        var dir = "\(parent)/\(Session.runFolderName(started))"
        var k = 1
        while FileManager.default.fileExists(atPath: dir) {
            k += 1
            dir = "\(parent)/\(Session.runFolderName(started))-\(k)"
        }
        try AtomicFile.makeDirectory(dir)
        return dir
    }

    /// The data files: CSV, Go text, context and side by side.
    public static func writeResults(_ report: RunReport, to dir: String) throws {
        try AtomicFile.write(CSV.write(report.results), to: "\(dir)/results.csv")
        try AtomicFile.write(GoText.write(environment: report.environment, results: report.results), to: "\(dir)/results.txt")
        try AtomicFile.write(report.environment.json(), to: "\(dir)/context.json")
        if !report.sideBySide.isEmpty {
            try AtomicFile.write(SideBySide.csvHeader + report.sideBySide.map { $0.csv(header: false) }.joined(),
                                 to: "\(dir)/side-by-side.csv")
            try AtomicFile.write(report.sideBySide.map { $0.table() }.joined(separator: "\n"), to: "\(dir)/side-by-side.txt")
        }
    }

    /// report.html, linking whatever flame graphs are in profiles/.
    public static func writeHTML(_ report: RunReport, to dir: String) throws {
        var r = report
        RunFolder.findFlameGraphs(of: &r, in: dir)
        try AtomicFile.write(HTMLReport(r).render(), to: "\(dir)/report.html")
    }
}
