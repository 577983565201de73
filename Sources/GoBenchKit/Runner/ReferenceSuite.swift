// A reference implementation measured beside ours: another runtime's own
// benchmarks, mirroring ours name for name, run one round after each of
// our rounds (or passes) so that both sides meet the same drift. The
// harness knows only this protocol; what the reference is (Go 1.19's
// testing.B suite, in GoBenchReference) and how its rows are compared with
// ours is the reference's business.

public protocol ReferenceSuite: AnyObject {
    /// The implementation its rows carry.
    var implementation: Implementation { get }
    /// Rounds it wants (usually our repetition count).
    var rounds: Int { get }
    /// Lines for the run context ("go: go version go1.19.8 ...").
    var contextLines: [(key: String, value: String)] { get }
    /// One round of every selected reference benchmark.
    func runRound(_ round: Int) throws -> [RepetitionResult]
    /// After the run: what to add to the run folder and the console.
    func report(_ results: [RepetitionResult]) -> ReferenceReport
}

/// Files for the run folder (name, contents) and text for the console.
public struct ReferenceReport: Sendable {
    public var files: [(name: String, contents: String)]
    public var console: String

    public init(files: [(name: String, contents: String)] = [], console: String = "") {
        self.files = files
        self.console = console
    }
}
