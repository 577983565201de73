// Each export format checked against its published description: Bencher's
// BMF JSON Schema (bencher.dev/docs/reference/bencher-metric-format) and a
// schema of github-action-benchmark's BenchmarkResult (src/extract.ts:
// name, value and unit required; range and extra optional strings),
// validated by Python's jsonschema; Go benchmark text by the rules of
// golang.org/design/14313-benchmark-format, line by line, and read back.

import Foundation
@testable import GoBenchHistory
import GoBenchKit
import Testing

let bmfSchema = """
{
  "$id": "https://bencher.dev/bmf.json",
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "object",
  "patternProperties": {
    ".+": {
      "type": "object",
      "patternProperties": {
        ".+": {
          "type": "object",
          "properties": {
            "value": {"type": "number"},
            "lower_value": {"type": "number"},
            "upper_value": {"type": "number"}
          },
          "required": ["value"]
        }
      }
    }
  }
}
"""

let githubActionBenchmarkSchema = """
{
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "array",
  "items": {
    "type": "object",
    "properties": {
      "name": {"type": "string"},
      "value": {"type": "number"},
      "unit": {"type": "string"},
      "range": {"type": "string"},
      "extra": {"type": "string"}
    },
    "required": ["name", "value", "unit"],
    "additionalProperties": false
  }
}
"""

let jsonschemaAvailable: Bool = {
    let ok = (try? runProgram("/usr/bin/env", ["python3", "-c", "import jsonschema"]).status) == 0
    if !ok { print("export schema checks skipped: python3 with jsonschema is not installed") }
    return ok
}()

/// Validates `json` against `schema` with Python's jsonschema; returns its
/// error message, or nil when valid.
func validate(_ json: String, schema: String) throws -> String? {
    let dir = try scratch("schema")
    try json.write(toFile: "\(dir)/doc.json", atomically: true, encoding: .utf8)
    try schema.write(toFile: "\(dir)/schema.json", atomically: true, encoding: .utf8)
    let r = try runProgram("/usr/bin/env", ["python3", "-c", """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[2]))
        jsonschema.Draft7Validator.check_schema(schema)
        jsonschema.validate(json.load(open(sys.argv[1])), schema)
        """, "\(dir)/doc.json", "\(dir)/schema.json"])
    return r.status == 0 ? nil : r.stderr
}

@Suite struct ExportTests {
    func run() throws -> (dir: String, results: [RepetitionResult]) {
        var rng = SplitMix64(seed: 21)
        let results = syntheticResults(reps: 6, rng: &rng)
        let dir = try writeRunFolder(try scratch("export") + "/run", results: results, context: syntheticContext(git: "abc123"))
        return (dir, results)
    }

    @Test(.enabled(if: jsonschemaAvailable, "needs python3 with jsonschema"))
    func bmfMatchesBenchersSchemaAndCarriesTheMedianAndCI() throws {
        let (dir, results) = try run()
        let text = try Export.export(.bmf, runDirectory: dir)
        #expect(try validate(text, schema: bmfSchema) == nil)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: [String: Double]]])
        let times = results.filter { $0.name == "tiny/add" && $0.impl == .swift }.map { $0.metric("ns/op")!.value }
        let s = Statistics.summarize(times)
        let latency = try #require(doc["tiny/add"]?["latency"])
        // The text holds the doubles exactly (Foundation's JSON parser on
        // Linux may be off by an ulp, so the check is on the text).
        #expect(text.contains("\"latency\": {\"value\": \(jsonNumber(s.median)), \"lower_value\": \(jsonNumber(s.low)), "
                              + "\"upper_value\": \(jsonNumber(s.high))}"), "\(text)")
        #expect(abs(latency["value"]! - s.median) <= 1e-12 * s.median)
        #expect(doc["tiny/add [go]"]?["latency"] != nil)
        #expect(doc["tiny/add"]?["parks/op"] != nil && doc["tiny/add"]?["ops/s"] != nil)
        #expect(doc["tiny/add"]?["parallelism"] == nil, "run conditions are no dashboard measure")
        #expect(doc.count == 3)
    }

    @Test(.enabled(if: jsonschemaAvailable, "needs python3 with jsonschema"))
    func githubActionBenchmarkSplitsByDirection() throws {
        let (dir, results) = try run()
        let smaller = try Export.export(.githubActionBenchmark, runDirectory: dir, better: .lower)
        let bigger = try Export.export(.githubActionBenchmark, runDirectory: dir, better: .higher)
        #expect(try validate(smaller, schema: githubActionBenchmarkSchema) == nil)
        #expect(try validate(bigger, schema: githubActionBenchmarkSchema) == nil)
        let s = try #require(try JSONSerialization.jsonObject(with: Data(smaller.utf8)) as? [[String: Any]])
        let b = try #require(try JSONSerialization.jsonObject(with: Data(bigger.utf8)) as? [[String: Any]])
        #expect(Set(s.map { $0["unit"] as! String }) == ["ns/op", "parks/op", "allocs/op"])
        #expect(Set(b.map { $0["unit"] as! String }) == ["ops/s"])
        #expect(s.count == 9 && b.count == 3)
        #expect(Set(s.map { $0["name"] as! String }).count == s.count, "names are unique: one chart each")
        let add = try #require(s.first { $0["name"] as? String == "tiny/add ns/op" })
        let times = results.filter { $0.name == "tiny/add" && $0.impl == .swift }.map { $0.metric("ns/op")!.value }
        #expect(smaller.contains("\"name\": \"tiny/add ns/op\", \"unit\": \"ns/op\", \"value\": \(jsonNumber(Statistics.median(times))),"))
        #expect(abs((add["value"] as! Double) - Statistics.median(times)) <= 1e-12 * Statistics.median(times))
    }

    /// Every line is blank, a configuration line (a key starting with a
    /// lower-case letter, without spaces or upper case, then ": "), a Unit
    /// line, or a benchmark line ("Benchmark" + name, an iteration count,
    /// then value-unit pairs); and GoText reads it back.
    @Test func benchfmtFollowsTheBenchmarkFormat() throws {
        let (dir, results) = try run()
        var context = syntheticContext(git: "abc123")
        context["Odd Key"] = "value"
        try AtomicFile.write(context.json(), to: "\(dir)/context.json")
        let text = try Export.export(.benchfmt, runDirectory: dir)
        let config = try Regex(#"^\p{Ll}[^\s\p{Lu}]*: .*$"#)
        let unit = try Regex(#"^Unit \S+( \S+=\S+)+$"#)
        let bench = try Regex(#"^Benchmark[^\s\p{Ll}]\S*\s+\d+(\s+[-+]?[0-9.]+(e[-+]?\d+)?\s+\S+)+$"#)
        var benchLines = 0, configLines = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) where !line.isEmpty {
            if line.wholeMatch(of: bench) != nil { benchLines += 1; continue }
            if line.wholeMatch(of: unit) != nil { continue }
            #expect(line.wholeMatch(of: config) != nil, "not a benchfmt line: \(line)")
            configLines += 1
        }
        #expect(benchLines == results.count)
        #expect(configLines == context.entries.count)
        #expect(text.contains("git: abc123\n") && text.contains("odd-key: value\n"))
        let parsed = try GoText.parse(text)
        #expect(parsed.results.count == results.count)
        #expect(parsed.environment["fingerprint"] == MachineFingerprint.current().hash)
    }

    @Test func aFolderWithoutResultsIsAnError() throws {
        let dir = try scratch("export-empty")
        #expect(throws: SelectionError.self) { try Export.export(.bmf, runDirectory: dir) }
    }
}
