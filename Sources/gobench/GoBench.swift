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
                      GoCommand.self, ABCommand.self, CalibrateCommand.self, CheckOrderCommand.self, ReportCommand.self,
                      HistoryCommand.self, ExportCommand.self, ProfileOverheadCommand.self, WorkerCommand.self]
    )

    /// ArgumentParser's own entry point, except that a usage error (an
    /// unknown option, a value an enum option does not take) is one line
    /// and exit 1, like every other bad input, instead of a usage screen
    /// and exit 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == 64 {
                let message = GoBench.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                FileHandle.standardError.write(Data("gobench: \(message)\n".utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// Prints "gobench: <message>" on standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("gobench: \(message)\n".utf8))
    return ExitCode(code)
}

/// Exit 1 after a run in which a worker process failed (its benchmark is
/// named on standard error; the results of the others were written).
func exitOnFailures(_ result: SessionResult) throws {
    if !result.failures.isEmpty {
        throw fail("\(result.failures.count) benchmark(s) failed: " + result.failures.keys.sorted().joined(separator: ", "))
    }
}

/// Runs `body`, turning the harness's one-line errors (every OneLineError:
/// bad input, I/O, a missing toolchain, a failed build, a broken worker,
/// a machine mismatch) into their message and exit code 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as OneLineError {
        throw fail(e.description)
    }
}
