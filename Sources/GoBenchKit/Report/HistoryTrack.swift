// A benchmark metric's history, as the HTML report draws it: one point per
// commit on this machine (the median and its 95% interval), and the change
// points found in the series. The history store (GoBenchHistory) fills
// these in; the harness only draws them, so it needs neither the store nor
// the change-point method, just their answers.

import Foundation

public struct HistoryTrack: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// The commit, shortened ("4c9a7f1a2b3c"), or "run 12" for a run of no known commit.
        public var label: String
        /// When the commit was made, else when its latest run was.
        public var date: Date
        public var summary: Summary
        /// This point holds the run the report is about.
        public var isCurrent: Bool

        public init(label: String, date: Date, summary: Summary, isCurrent: Bool = false) {
            self.label = label
            self.date = date
            self.summary = summary
            self.isCurrent = isCurrent
        }
    }

    public struct Change: Sendable, Equatable {
        /// Index in `points` of the first point after the change.
        public var index: Int
        /// Relative change of the series' level and its interval (0.1 = +10%).
        public var change: Double
        public var low: Double
        public var high: Double
        public var pValue: Double
        /// Worse in the metric's direction.
        public var isRegression: Bool
        /// The command that confirms it (a paired A/B of the commits on either side).
        public var confirm: String

        public init(index: Int, change: Double, low: Double, high: Double, pValue: Double, isRegression: Bool, confirm: String) {
            self.index = index
            self.change = change
            self.low = low
            self.high = high
            self.pValue = pValue
            self.isRegression = isRegression
            self.confirm = confirm
        }
    }

    public var key: MetricKey
    public var kind: MetricKind
    public var points: [Point]
    public var changes: [Change]

    public init(key: MetricKey, kind: MetricKind, points: [Point], changes: [Change] = []) {
        self.key = key
        self.kind = kind
        self.points = points
        self.changes = changes
    }
}

/// Where the report's history comes from: the machine it is for and how
/// many runs the store holds there, for the section's first line.
public struct HistoryProvenance: Sendable, Equatable {
    public var store: String
    public var machine: String
    public var runs: Int
    public var commits: Int
    /// The series cover at most this many of the latest commits.
    public var window: Int

    public init(store: String, machine: String, runs: Int, commits: Int, window: Int) {
        self.store = store
        self.machine = machine
        self.runs = runs
        self.commits = commits
        self.window = window
    }
}
