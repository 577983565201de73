// Turning a finished run into a RunRecord: the machine fingerprint from its
// context, the commit it measured (from the context's `git` describe
// string, resolved to a full hash and committer date with git), the branch,
// the date, the suite and the run folder.

import Foundation
import GoBenchKit

public enum Recording {
    /// The record of a session that just ran in `repository` (the working
    /// directory by default).
    public static func record(of session: SessionResult, suite: String,
                              repository: String? = nil) -> RunRecord {
        record(context: session.environment, results: session.results, suite: suite,
               runDirectory: session.runDirectory, repository: repository)
    }

    /// The record of a run given by its context and results. `revision`
    /// overrides the context's `git` entry (for runs imported from a build
    /// of another commit).
    public static func record(context: RunEnvironment, results: [RepetitionResult], suite: String,
                              runDirectory: String?, revision: String? = nil,
                              repository: String? = nil) -> RunRecord {
        let describe = revision ?? context["git"] ?? "unknown"
        let commit = GitCommit.resolve(describe, repository: repository)
        let date = context["date"].flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
        return RunRecord(fingerprint: MachineFingerprint(context: context) ?? MachineFingerprint.current(),
                         revision: commit?.hash ?? "unknown", describe: describe,
                         branch: commit.map { _ in GitCommit.branch(containing: describe, repository: repository) } ?? "",
                         commitTime: commit?.time, date: date, suite: suite,
                         runDirectory: runDirectory.map(absolutePath), context: context, results: results)
    }

    static func absolutePath(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }
}

/// What git says about a commit.
public struct GitCommit: Sendable, Equatable {
    public var hash: String
    public var time: Date

    /// Resolves a revision or describe string ("c698f54", "HEAD~3",
    /// "v1.0-2-gc698f54-dirty") to its full hash and committer date; nil
    /// outside a repository or for an unknown revision.
    public static func resolve(_ spec: String, repository: String? = nil) -> GitCommit? {
        var rev = spec
        if rev.hasSuffix("-dirty") { rev = String(rev.dropLast("-dirty".count)) }
        guard !rev.isEmpty, rev != "unknown",
              let out = git(["show", "-s", "--format=%H %ct", "\(rev)^{commit}", "--"], in: repository) else { return nil }
        let parts = out.split(separator: " ")
        guard parts.count == 2, let t = Double(parts[1]) else { return nil }
        return GitCommit(hash: String(parts[0]), time: Date(timeIntervalSince1970: t))
    }

    /// The current branch when `spec` is HEAD's commit, else "".
    static func branch(containing spec: String, repository: String?) -> String {
        guard let head = resolve("HEAD", repository: repository), let c = resolve(spec, repository: repository),
              head.hash == c.hash, let b = git(["rev-parse", "--abbrev-ref", "HEAD"], in: repository) else { return "" }
        return b == "HEAD" ? "" : b
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    public static func isAncestor(_ ancestor: String, of descendant: String, repository: String? = nil) -> Bool? {
        guard let r = try? Subprocess.run("/usr/bin/env", ["git", "merge-base", "--is-ancestor", ancestor, descendant],
                                          in: repository) else { return nil }
        switch r.status {
        case 0: return true
        case 1: return false
        default: return nil
        }
    }

    static func git(_ args: [String], in dir: String?) -> String? {
        guard let r = try? Subprocess.run("/usr/bin/env", ["git"] + args, in: dir), r.status == 0 else { return nil }
        let s = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }
}
