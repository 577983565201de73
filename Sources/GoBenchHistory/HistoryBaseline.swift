// A side of `gobench compare` taken from the store: `history:latest` (the
// latest run on this machine) or `history:REV` (the latest run of that
// commit on this machine). Only runs with this machine's fingerprint are
// candidates: a timing from another machine is no baseline.

import Foundation
import GoBenchKit

extension History {
    /// The results `spec` names when it starts with "history:", else nil.
    /// `otherSide` is the other file of the comparison: a run whose folder
    /// holds it is not a candidate (so that `history:latest` after a
    /// recorded `gobench all` is the run before it, not the same run).
    /// Errors are SelectionError/FormatError, as for files.
    public static func baseline(_ spec: String, otherSide: String?, location: String? = nil,
                                machine: String = MachineFingerprint.current().hash,
                                log: (String) -> Void = { FileHandle.standardError.write(Data("gobench: \($0)\n".utf8)) })
        throws -> [RepetitionResult]? {
        guard spec.hasPrefix("history:") else { return nil }
        let rev = String(spec.dropFirst("history:".count))
        guard !rev.isEmpty else { throw SelectionError("\"history:\" wants a revision or latest (history:latest, history:HEAD~1)") }
        do {
            let store = try open(resolveLocation(location))
            defer { store.close() }
            var runs = try store.runs(machine: machine)
            if let other = otherSide {
                let dir = Recording.absolutePath((other as NSString).deletingLastPathComponent)
                runs.removeAll { $0.runDirectory.map { ($0 as NSString).standardizingPath } == (dir as NSString).standardizingPath }
            }
            let candidates: [StoredRun]
            if rev == "latest" {
                candidates = runs
            } else if let commit = GitCommit.resolve(rev) {
                candidates = runs.filter { $0.revision == commit.hash }
            } else {
                candidates = runs.filter { $0.revision.hasPrefix(rev.lowercased()) || $0.describe == rev }
            }
            guard let run = candidates.max(by: { ($0.date, $0.id) < ($1.date, $1.id) }) else {
                throw SelectionError("no run of \(rev) on this machine (fingerprint \(machine)) in \(store.location)")
            }
            log("\(spec) is run \(run.id) of \(run.shortRevision) (\(ISO8601DateFormatter().string(from: run.date)), \(run.suite))")
            return try store.results(runs: [run.id])[run.id] ?? []
        } catch let e as HistoryError {
            throw FormatError(e.description)
        }
    }
}
