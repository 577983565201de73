// Instruments watch the timed region of every counted repetition without the
// runner knowing what they measure: perf counter groups, the stack sampler,
// callgrind's collection switch. Each worker thread gets its own probe,
// created and driven on that thread, because perf events and per-thread
// timers belong to the thread that opens them.

/// Per-thread half of an instrument. All three calls happen on the worker's
/// own thread: `start` right before the timed loop, `stop` right after it.
public protocol InstrumentProbe: AnyObject {
    func start()
    func stop()
}

/// An instrument: makes probes, then turns them into metrics.
public protocol Instrument: AnyObject, Sendable {
    /// A short name for the run context ("counters", "profile").
    var name: String { get }

    /// Lines for the run context, e.g. ("counters", "hw=unavailable sw=ok").
    var contextLines: [(key: String, value: String)] { get }

    /// Called on worker thread `worker` before the start barrier.
    func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe

    /// The same, told whether the body starts threads of its own
    /// (Benchmark.startsThreads); an instrument that can follow them does
    /// (the counters inherit into them). By default, `makeProbe` above.
    func makeProbe(benchmark: String, worker: Int, threads: Int, startsThreads: Bool) -> InstrumentProbe

    /// Called on the coordinating thread after every worker stopped. `n` is
    /// the repetition's total iteration count.
    func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                 wallNanoseconds: Int64) -> [Metric]

    /// Lines for the run context known only after the run (the run's peak
    /// memory); they replace `contextLines` entries of the same key.
    var closingContextLines: [(key: String, value: String)] { get }

    /// Called once after the whole run, to write files into the run folder.
    func finish(runDirectory: String?) throws
}

extension Instrument {
    public func makeProbe(benchmark: String, worker: Int, threads: Int, startsThreads: Bool) -> InstrumentProbe {
        makeProbe(benchmark: benchmark, worker: worker, threads: threads)
    }
    public var contextLines: [(key: String, value: String)] { [] }
    public var closingContextLines: [(key: String, value: String)] { [] }
    public func finish(runDirectory: String?) throws {}
}
