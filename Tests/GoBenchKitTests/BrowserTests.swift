// The HTML report in a real browser: headless Chromium (Debian's
// `chromium`, installed by scripts/bootstrap) loads the report made from
// the committed fixture run from a file:// URL, with the network off.
// Checked: the page's own error hook saw no script error, Chromium logged
// no uncaught error or console error, the DOM holds the plots the report
// model says it should, and a screenshot is not blank (a blank page of the
// same size compresses to a small fraction of a drawn one).

import Foundation
import Testing
@testable import GoBenchKit

enum Chromium {
    static let path: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin"] {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let p = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }()

    static var available: Bool {
        if path == nil { print("BrowserTests skipped: no chromium on PATH (scripts/bootstrap installs Debian's chromium)") }
        return path != nil
    }

    /// Runs headless Chromium on `url` with `args`; (stdout, stderr, status).
    static func run(_ args: [String], url: String, profile: String) throws -> (out: String, err: String, status: Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                       "--disable-extensions", "--disable-background-networking", "--proxy-server=127.0.0.1:9",
                       "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"] + args + [url]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes before waiting: Chromium can fill a pipe buffer.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self), p.terminationStatus)
    }
}

@Suite(.serialized) struct BrowserTests {
    @Test(.enabled(if: Chromium.available, "chromium is not installed (scripts/bootstrap installs it)"))
    func reportLoadsWithoutErrorsAndDrawsItsPlots() throws {
        let started = Date()
        let (_, report) = try fixtureRun()
        let html = HTMLReport(report, caches: fixtureCaches).render()
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-browser-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let page = tmp.appendingPathComponent("report.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        let blank = tmp.appendingPathComponent("blank.html")
        try "<!DOCTYPE html><html><body style=\"background:#fff\"></body></html>".write(to: blank, atomically: true, encoding: .utf8)

        // 1. The DOM after the scripts ran.
        let dom = try Chromium.run(["--dump-dom"], url: page.absoluteString, profile: tmp.appendingPathComponent("p1").path)
        #expect(dom.status == 0, "chromium exited \(dom.status): \(dom.err.suffix(500))")
        let expected = HTMLReportTests.expectedPlots(report)
        #expect(expected >= 6)
        let counted = dom.out.range(of: "data-plots=\"").map { dom.out[$0.upperBound...].prefix { $0.isNumber } } ?? "none"
        #expect(counted == "\(expected)", "the page counted \(counted) plots, the model \(expected)")
        #expect(dom.out.contains("data-errors=\"0\""))
        #expect(dom.out.components(separatedBy: "<svg class=\"plot\"").count - 1 == expected)
        for bad in ["Uncaught", "console error", ":ERROR:CONSOLE"] {
            #expect(!dom.err.contains(bad), "chromium logged \(bad): \(dom.err.suffix(800))")
        }

        // 2. A screenshot, and one of a blank page of the same size.
        let shot = tmp.appendingPathComponent("report.png"), blankShot = tmp.appendingPathComponent("blank.png")
        let s1 = try Chromium.run(["--screenshot=\(shot.path)", "--window-size=1280,1600", "--hide-scrollbars"],
                                  url: page.absoluteString, profile: tmp.appendingPathComponent("p2").path)
        let s2 = try Chromium.run(["--screenshot=\(blankShot.path)", "--window-size=1280,1600", "--hide-scrollbars"],
                                  url: blank.absoluteString, profile: tmp.appendingPathComponent("p3").path)
        #expect(s1.status == 0 && s2.status == 0)
        let png = try Data(contentsOf: shot), blankPNG = try Data(contentsOf: blankShot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // A single-colour 1280x1600 PNG compresses to a few KB; text and
        // plots do not.
        #expect(png.count > 8 * blankPNG.count, "screenshot \(png.count) B vs blank \(blankPNG.count) B")
        print("BrowserTests: \(expected) plots, screenshot \(png.count) B (blank \(blankPNG.count) B), "
              + String(format: "%.1f s", Date().timeIntervalSince(started)))
    }
}
