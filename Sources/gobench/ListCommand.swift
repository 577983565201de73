import ArgumentParser
import GoBenchKit
import GoBenchSuites

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print every registered benchmark (or those matching a regex).")

    @Argument(help: "Unanchored regular expression over benchmark names.")
    var pattern: String = "."

    @Flag(name: .shortAndLong, help: "Also print threads and a one-line summary.")
    var verbose = false

    func run() throws {
        let selected = try reportingErrors { try Suites.registry().select(pattern) }
        guard !selected.isEmpty else { throw fail("no benchmark matches \"\(pattern)\"") }
        for b in selected {
            if verbose {
                print("\(b.name)\tthreads=\(b.threads)\t\(b.summary)")
            } else {
                print(b.name)
            }
        }
    }
}
