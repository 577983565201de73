import ArgumentParser
import Foundation
import GoBenchHistory
import GoBenchKit

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Series over commits from the history store, and their change points (E-Divisive means).",
        discussion: """
            Per benchmark and metric on this machine's fingerprint: one point per commit (the median \
            and its 95% CI), a sparkline, and the change points with the commit they land on, their \
            size with a bootstrap CI and the `gobench ab` command that confirms them.
            With --since REV, only the change points after REV. Exit status: 0 none that is a \
            regression, 2 a change point since REV that is a regression, 1 bad input.
            """)

    @Argument(help: "Unanchored regular expression over benchmark names (default: all).")
    var pattern: String?

    @Option(name: .long, help: "Only this metric (e.g. ns/op). Default: every metric but run conditions.")
    var metric: String?

    @Option(name: .long, help: "List only the change points after this revision; exit 2 if one is a regression.")
    var since: String?

    @Flag(name: .long, help: "Print every commit's median and CI (the default when stdout is not a terminal).")
    var points = false

    @Option(name: .long, help: "Machine fingerprint hash (default: this machine's).")
    var machine: String?

    @Option(name: .long, help: "Permutation-test level of a change point.")
    var significance: Double = ChangePointOptions().significance

    @Option(name: .long, help: "Smallest change reported, in percent.")
    var minChange: Double = ChangePointOptions().minimumChange * 100

    @Option(name: .customLong("import"), help: "Record this run folder (results.csv, context.json) instead of querying; repeatable.")
    var imports: [String] = []

    @Option(name: .long, help: "With --import: the commit the run measured (default: the context's git entry).")
    var revision: String?

    @Option(name: .long, help: "With --import: the suite name to record (default: the context's suites entry).")
    var suite: String?

    @OptionGroup var store: HistoryLocation

    func run() throws {
        guard significance > 0 && significance < 1 else { throw fail("--significance must be between 0 and 1") }
        guard minChange >= 0 && minChange.isFinite else { throw fail("--min-change must be a non-negative percentage") }
        if !imports.isEmpty { return try importRuns() }
        // A query does not create a store where there is none.
        if !store.exists {
            print("history: no store at \(store.location): no runs recorded")
            if since != nil { print("no change point") }
            return
        }
        let s = try store.open()
        defer { s.close() }
        let machineHash = machine ?? MachineFingerprint.current().hash
        var options = ChangePointOptions()
        options.significance = significance
        options.minimumChange = minChange / 100
        let result: (series: [HistorySeries], sinceCommit: GitCommit?) = try reportingErrors {
            var sinceCommit: GitCommit?
            if let rev = since {
                guard let c = GitCommit.resolve(rev) else { throw SelectionError("unknown revision \"\(rev)\" (git cannot resolve it)") }
                sinceCommit = c
            }
            do {
                return (try HistoryQuery.series(store: s, machine: machineHash, pattern: pattern, units: metric.map { [$0] },
                                                options: options), sinceCommit)
            } catch let e as HistoryError {
                throw FormatError("history: \(e)")
            }
        }
        let series = result.series
        let runs = (try? s.runs(machine: machineHash)) ?? []
        let fp = try? s.machine(hash: machineHash)
        print("history: \(s.location); machine \(machineHash)\(fp.map { " (\($0.summary))" } ?? ""): "
              + "\(runs.count) run(s) of \(Set(runs.map { $0.revision == "unknown" ? "run \($0.id)" : $0.revision }).count) commit(s)")
        guard !series.isEmpty else {
            print(runs.isEmpty ? "no runs recorded on this machine" : "no series matches")
            if since != nil { print("no change point") }
            return
        }

        if let commit = result.sinceCommit {
            let found = HistoryQuery.changePoints(in: series, since: commit)
            print("change points since \(String(commit.hash.prefix(12))): \(found.count)")
            for cp in found { print(describe(cp)) }
            let regressions = found.filter(\.isRegression)
            if !regressions.isEmpty {
                print("\(regressions.count) regression(s): " + regressions.map { "\($0.key.name) \($0.key.unit)" }.joined(separator: ", "))
                throw ExitCode(2)
            }
            print("no regression")
            return
        }

        let showPoints = points || isatty(STDOUT_FILENO) == 0
        let width = min(60, series.map { "\($0.key.series) \($0.key.unit)".count }.max() ?? 0)
        for sr in series {
            let label = "\(sr.key.series) \(sr.key.unit)"
            let last = sr.points.last!.summary
            print("\(label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0))  "
                  + "\(HistoryQuery.sparkline(sr.points.map(\.summary.median)))  "
                  + "last \(interval(last)) at \(sr.points.last!.shortRevision), \(sr.points.count) commit(s)")
            if showPoints {
                for p in sr.points {
                    print("    \(day(p.commitTime ?? p.date)) \(p.shortRevision.padding(toLength: 12, withPad: " ", startingAt: 0))  "
                          + "\(interval(p.summary))  (\(p.summary.count) values, \(p.runs.count) run(s))")
                }
            }
        }
        let all = series.flatMap(\.changePoints)
        print("\nchange points (E-Divisive means, p < \(significance), at least \(GoText.formatValue(minChange))%): \(all.count)")
        for cp in all { print(describe(cp)) }
    }

    private func describe(_ cp: LocatedChangePoint) -> String {
        let c = cp.changePoint
        let verdict = cp.better == .neither ? "" : cp.isRegression ? ", regression" : ", improvement"
        return "  \(cp.key.series) \(cp.key.unit): lands at \(cp.after.shortRevision) (after \(cp.before.shortRevision)): "
            + String(format: "%+.1f%% [%+.1f%%, %+.1f%%]", c.change * 100, c.changeLow * 100, c.changeHigh * 100)
            + ", \(GoText.formatValue(c.before)) -> \(GoText.formatValue(c.after)), p=\(String(format: "%.3f", c.pValue))\(verdict)\n"
            + "    confirm: \(cp.confirmCommand)"
    }

    private func interval(_ s: Summary) -> String {
        "\(GoText.formatValue(s.median)) [\(GoText.formatValue(s.low)), \(GoText.formatValue(s.high))]"
    }

    private func day(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    /// --import: record existing run folders.
    private func importRuns() throws {
        let s = try store.open()
        defer { s.close() }
        for dir in imports {
            let run = try reportingErrors { try Export.loadRun(dir) }
            guard !run.results.isEmpty else { throw fail("\(dir)/results.csv holds no results") }
            if let rev = revision, GitCommit.resolve(rev) == nil {
                throw fail("unknown revision \"\(rev)\" (git cannot resolve it)")
            }
            let record = Recording.record(context: run.context, results: run.results,
                                          suite: suite ?? run.context["suites"] ?? "import", runDirectory: dir,
                                          revision: revision)
            do {
                let id = try s.record(record)
                print("recorded \(dir) as run \(id) (\(record.revision == "unknown" ? record.describe : String(record.revision.prefix(12))), "
                      + "machine \(record.fingerprint.hash)) in \(s.location)")
            } catch let e as HistoryError {
                throw fail("history: \(e)")
            }
        }
    }
}
