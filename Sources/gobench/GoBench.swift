// gobench: the command line. Each subcommand parses its arguments and hands
// them to GoBenchKit; nothing here measures or formats by itself.

import ArgumentParser
import Foundation
import GoBenchKit
import GoBenchSuites

@main
struct GoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gobench",
        abstract: "Benchmark and profile Swift ports of the Go runtime's hot paths.",
        subcommands: [ListCommand.self, RunCommand.self, AllCommand.self, CompareCommand.self,
                      ProfileCommand.self, FlamegraphCommand.self, CountersCommand.self,
                      GoCommand.self, ABCommand.self, CalibrateCommand.self,
                      HistoryCommand.self, ExportCommand.self]
    )
}

/// Prints "gobench: <message>" on standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("gobench: \(message)\n".utf8))
    return ExitCode(code)
}

/// Runs `body`, turning the harness's one-line errors into exit code 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as FormatError {
        throw fail(e.description)
    } catch let e as SelectionError {
        throw fail(e.description)
    }
}
