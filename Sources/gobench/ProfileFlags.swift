// Flags that attach the stack sampler to a run: `gobench run --profile`,
// and the same flags under `gobench profile`.

import ArgumentParser
import GoBenchKit

struct ProfileFlags: ParsableArguments {
    @Flag(name: .long, help: "Sample stacks during the timed loops; write folded, pprof and SVG per benchmark.")
    var profile = false

    @Option(name: .long, help: "Samples per second of thread CPU time.")
    var profileRate: Int = SamplerConfig.defaultHz

    @Option(name: .long, help: "Stack unwinder in the signal handler: libunwind (exact) or fp (frame pointers, cheaper).")
    var unwind: Unwinder = .libunwind

    @Option(name: .long, help: "What sends SIGPROF: auto, perf (task-clock event) or timer (thread CPU timer).")
    var profileSource: SampleSource = .auto

    /// The sampler configuration these flags describe.
    func config() throws -> SamplerConfig {
        guard (1...10_000).contains(profileRate) else {
            throw SelectionError("--profile-rate must be between 1 and 10000")
        }
        return SamplerConfig(hz: profileRate, unwinder: unwind, source: profileSource)
    }

    /// The instruments these flags ask for.
    func instruments() throws -> [Instrument] {
        guard profile else { return [] }
        return [Profiler(config: try config())]
    }
}
