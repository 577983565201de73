// Flags that attach the stack sampler to a run (issue 9 fills this in).

import ArgumentParser
import GoBenchKit

struct ProfileFlags: ParsableArguments {
    /// The instruments these flags ask for.
    func instruments() throws -> [Instrument] { [] }
}
