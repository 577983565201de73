// What to measure besides time, as a value: the perf counters, the exact
// instruction counter, the stack sampler. The CLI's flags produce one; a
// worker process receives it in its WorkerSpec and builds the same
// instruments the parent would, so a measurement taken in a child is the
// measurement the flags asked for.

import Foundation

/// How instructions/op are counted.
public enum InstructionMode: String, Sendable, Codable, CaseIterable {
    case none
    /// Re-run each repetition under valgrind's callgrind: exact counts.
    case callgrind
    /// Only issue the client requests (the child side of `callgrind`, or
    /// for running gobench under callgrind yourself).
    case callgrindClient = "callgrind-client"
}

public struct ProfileSpec: Sendable, Codable, Equatable {
    public var hz: Int
    public var unwinder: String
    public var source: String

    public init(hz: Int, unwinder: String, source: String) {
        self.hz = hz
        self.unwinder = unwinder
        self.source = source
    }

    public init(_ config: SamplerConfig) {
        self.init(hz: config.hz, unwinder: config.unwinder.rawValue, source: config.source.rawValue)
    }

    public func config() throws -> SamplerConfig {
        guard let u = Unwinder(rawValue: unwinder) else { throw SelectionError("unknown unwinder \"\(unwinder)\"") }
        guard let s = SampleSource(rawValue: source) else { throw SelectionError("unknown profile source \"\(source)\"") }
        return SamplerConfig(hz: hz, unwinder: u, source: s)
    }
}

public struct InstrumentSpec: Sendable, Codable, Equatable {
    /// perf event names ([]: no counting, availability still reported).
    public var counters: [String]
    public var instructions: InstructionMode
    /// Iterations per callgrind child.
    public var callgrindIterations: Int
    public var profile: ProfileSpec?
    /// A note for the counters' context line.
    public var counterNote: String?
    /// Count heap allocations (allocs/op, B/op, frees/op).
    public var allocs: Bool

    public init(counters: [String] = CounterSelection.defaultNames, instructions: InstructionMode = .none,
                callgrindIterations: Int = 1000, profile: ProfileSpec? = nil, counterNote: String? = nil,
                allocs: Bool = true) {
        self.counters = counters
        self.instructions = instructions
        self.callgrindIterations = callgrindIterations
        self.profile = profile
        self.counterNote = counterNote
        self.allocs = allocs
    }

    /// Nothing but time (and the drift conditions the runner always adds).
    public static let timeOnly = InstrumentSpec(counters: [], allocs: false)

    /// The instruments, counters first: they are opened before the sampler
    /// is armed and closed after it is disarmed (probes stop in reverse);
    /// allocation counting last. The runner adds drift and peak memory
    /// outside them all (`outerInstruments`).
    /// What every run measures around the others: the run conditions and
    /// peak memory, whose /proc reads must fall outside the counters' and
    /// the allocation counter's windows.
    public static func outerInstruments() -> [Instrument] {
        [DriftInstrument(), PeakMemoryInstrument()]
    }

    public func makeInstruments() throws -> [Instrument] {
        var out: [Instrument] = [CounterInstrument(names: counters, note: counterNote)]
        switch instructions {
        case .none: break
        case .callgrind: out.append(CallgrindInstrument(iterations: callgrindIterations))
        case .callgrindClient: out.append(CallgrindClientInstrument())
        }
        if let p = profile { out.append(Profiler(config: try p.config())) }
        // Innermost: nothing another probe allocates in start or stop is
        // counted.
        out.append(AllocInstrument(requested: allocs))
        return out
    }
}
