// `gobench flamegraph`: folded stacks or a pprof profile (ours, or Go's
// `go test -cpuprofile`) to an SVG flame graph; `--diff base new` draws a
// differential one.

import ArgumentParser
import Foundation
import GoBenchKit

struct FlamegraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamegraph",
        abstract: "Draw an SVG flame graph from folded stacks or a pprof profile.")

    @Argument(help: "Input: a .folded file or a pprof profile (.pb.gz); with --diff, the base and the new input.")
    var inputs: [String]

    @Flag(name: .long, help: "Differential graph of two inputs: base, then new.")
    var diff = false

    @Option(name: .shortAndLong, help: "Output SVG file (default: standard output).")
    var output: String?

    @Option(name: .long, help: "Title (default: the input's file name).")
    var title: String?

    @Option(name: .long, help: "For pprof input: index of the sample value to draw (0: the first sample type).")
    var sampleIndex: Int = 0

    @Option(name: .long, help: "For pprof input: one frame per function, or per function and line (function|line).")
    var granularity: String = FoldedStacks.Granularity.function.rawValue

    func validate() throws {
        if diff && inputs.count != 2 { throw ValidationError("--diff takes two inputs: base and new") }
        if !diff && inputs.count != 1 { throw ValidationError("expected one input (or --diff base new)") }
    }

    func run() throws {
        try reportingErrors {
            guard let g = FoldedStacks.Granularity(rawValue: granularity) else {
                throw SelectionError("unknown granularity \"\(granularity)\" (want function or line)")
            }
            let svg: String
            if diff {
                let base = try StackFile.load(inputs[0], sampleIndex: sampleIndex, granularity: g)
                let new = try StackFile.load(inputs[1], sampleIndex: sampleIndex, granularity: g)
                svg = FlameGraph.diffSVG(base: base, new: new,
                                         title: title ?? "\(name(inputs[0])) -> \(name(inputs[1]))",
                                         subtitle: "width: new (\(new.total) samples); red grew, blue shrank vs base (\(base.total) samples, scaled)")
            } else {
                let stacks = try StackFile.load(inputs[0], sampleIndex: sampleIndex, granularity: g)
                svg = FlameGraph.svg(stacks, title: title ?? name(inputs[0]), subtitle: "\(stacks.total) samples")
            }
            if let o = output {
                try AtomicFile.write(svg, to: o)
            } else {
                FileHandle.standardOutput.write(Data(svg.utf8))
            }
        }
    }

    private func name(_ path: String) -> String { (path as NSString).lastPathComponent }
}
