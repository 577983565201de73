// Helpers shared by every GoRuntime test file (the sync tests' thread
// helpers are in SyncTestSupport.swift).

import Testing

/// SplitMix64 (Steele, Lea and Flood): a small fixed-seed generator, so a
/// randomized test that fails fails the same way again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<n (modulo bias is irrelevant for tests).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Checks that what a fatal-error exit test wrote to stderr contains every
/// one of `messages` (Go's "fatal error: ..." lines). Does nothing when the
/// exit test itself failed: its own #expect has said so.
func expectStderr(of result: ExitTest.Result?, contains messages: String...,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    guard let result else { return }
    let err = String(decoding: result.standardErrorContent, as: UTF8.self)
    for m in messages {
        #expect(err.contains(m), "stderr was: \(err)", sourceLocation: sourceLocation)
    }
}
