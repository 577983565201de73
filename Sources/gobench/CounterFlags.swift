// Flags that attach perf counters to a run (issue 8 fills this in).

import ArgumentParser
import GoBenchKit

struct CounterFlags: ParsableArguments {
    /// The instruments these flags ask for.
    func instruments() throws -> [Instrument] { [] }
}
