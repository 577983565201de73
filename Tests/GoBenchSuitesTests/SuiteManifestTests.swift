// Every manifest under suites/ loads and resolves against the registry:
// an entry naming a benchmark that is not registered, or a pattern that
// matches none, is an error (Suite.plans), so a renamed benchmark or a
// broken manifest fails here before it fails in CI's `gobench all`.

import Foundation
import GoBenchKit
import GoBenchSuites
import Testing

@Suite struct SuiteManifestTests {
    @Test("every suites/*.toml loads and every entry names registered benchmarks")
    func everyManifestResolves() throws {
        let registry = Suites.registry()
        let suites = try Suite.loadAll(directory: repositoryRoot() + "/suites")
        #expect(suites.contains { $0.name == "default" }, "suites/default.toml is what `gobench all` runs")
        for suite in suites {
            let plans = try suite.plans(from: registry)
            #expect(!plans.isEmpty, "\(suite.path) selects no benchmark")
            #expect(plans.allSatisfy { $0.count >= 1 }, "\(suite.path): a plan without repetitions")
        }
    }

    @Test("a manifest entry that matches nothing is an error, not a silent gap")
    func unknownEntriesFail() throws {
        let registry = Suites.registry()
        let unknownName = try Suite.parse("""
            [[benchmark]]
            name = "map/access/hit/n=1k-renamed"
            """)
        #expect(throws: SelectionError.self) { try unknownName.plans(from: registry) }
        let deadPattern = try Suite.parse("""
            [[benchmark]]
            pattern = "^no-such-subsystem/"
            """)
        #expect(throws: SelectionError.self) { try deadPattern.plans(from: registry) }
    }
}
