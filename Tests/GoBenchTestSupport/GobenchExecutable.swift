// What the test targets that run the gobench binary share: where that
// binary is. A library target, not a test target, so that several test
// targets can import it (SwiftPM does not let one test target import
// another).

import Foundation

public struct GobenchNotFound: Error, CustomStringConvertible {
    public let description: String
}

/// The gobench executable built beside the running test bundle, else
/// .build/debug or .build/release under the working directory.
public func gobenchExecutable() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // Swift Testing may run from inside the .xctest bundle folder.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("gobench").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    for config in ["debug", "release"] {
        let p = FileManager.default.currentDirectoryPath + "/.build/\(config)/gobench"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    throw GobenchNotFound(description: "gobench executable not found near \(CommandLine.arguments[0])")
}
