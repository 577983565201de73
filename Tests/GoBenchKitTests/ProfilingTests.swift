// Tests of the sampling profiler: unwinding a known stack in the signal
// handler, sampling every worker of a multi-threaded benchmark, the folded
// grammar, the pprof encoder/decoder, and the SVG flame graphs.
//
// The sampling tests burn CPU on purpose (about 0.3-0.6 s each) and run
// serialized so that they do not compete with each other for the 2 vCPUs.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import GoBenchKit
import CGoBench

// MARK: Known workloads (test-only)

/// Depth of the known recursion.
private let recursionDepth = 50

/// Spins for `cpuNs` of this thread's CPU time. No calls inside the loop
/// but the CPU clock read every 4096 rounds, so samples land here.
@inline(never)
func profLeafSpin(_ cpuNs: Int64) -> UInt64 {
    let end = threadCPUNanos() + cpuNs
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    var i = 0
    while true {
        x = x &* 6364136223846793005 &+ 1442695040888963407
        i &+= 1
        if i & 4095 == 0 && threadCPUNanos() >= end { break }
    }
    return x
}

/// Recurses `depth` times, then spins in the leaf. Not a tail call: the
/// result is used after the call returns.
@inline(never)
func profRecurse(_ depth: Int, _ cpuNs: Int64) -> UInt64 {
    if depth <= 1 { return profLeafSpin(cpuNs) }
    return profRecurse(depth - 1, cpuNs) &+ UInt64(depth)
}

@inline(never)
func profCapture(_ depth: Int, _ unwinder: Unwinder) -> [UInt64] {
    if depth <= 1 { return Sampler.captureStack(unwinder) }
    let r = profCapture(depth - 1, unwinder)
    return r + []
}

/// A hot function doing nine parts of the work, a cold one doing one.
@inline(never) func profHot(_ ns: Int64) -> UInt64 { profLeafSpin(ns * 9 / 10) }
@inline(never) func profCold(_ ns: Int64) -> UInt64 { profLeafSpin(ns / 10) }

/// Samples the calling thread while `body` runs, and symbolizes.
private func sampleThisThread(_ config: SamplerConfig, _ body: () -> Void) -> (FoldedStacks, SamplerStats) {
    let ring = SampleRing()
    var raw = RawBenchmarkSamples()
    let armed = ring.arm(config)
    body()
    ring.disarm()
    if case .failure(let e) = armed { Issue.record("\(e)") }
    raw.absorb(ring, worker: 0)
    let p = ProfileBuilder.build(raw, symbolizer: Symbolizer(), hz: config.hz, unwinder: config.unwinder)
    return (FoldedStacks(pprof: p), ring.stats)
}

/// Fraction of the samples taken in the leaf spin whose stack shows the
/// whole recursion: exactly `recursionDepth` profRecurse frames.
private func intactFraction(_ f: FoldedStacks) -> (intact: Int, inLeaf: Int) {
    var intact = 0, inLeaf = 0
    for (stack, c) in f.counts where stack.contains(where: { $0.hasPrefix("profLeafSpin(") }) {
        inLeaf += c
        if stack.filter({ $0.hasPrefix("profRecurse(") }).count == recursionDepth { intact += c }
    }
    return (intact, inLeaf)
}

@Suite(.serialized)
struct ProfilingSamplerTests {
    @Test(.disabled(if: Sampler.stacksAreUnreliable, "ThreadSanitizer defers signals: no exact stacks"))
    func libunwindKeepsA50DeepRecursionIntactAndFPIsCompared() throws {
        try #require(Sampler.libunwindAvailable, "libunwind.so.8 is needed (apt-get install libunwind-dev)")
        let (lu, luStats) = sampleThisThread(SamplerConfig(hz: 997, unwinder: .libunwind)) {
            blackHole(profRecurse(recursionDepth, 600_000_000))
        }
        let (fp, _) = sampleThisThread(SamplerConfig(hz: 997, unwinder: .fp)) {
            blackHole(profRecurse(recursionDepth, 300_000_000))
        }
        let l = intactFraction(lu), p = intactFraction(fp)
        print("50-deep recursion intact: libunwind \(l.intact)/\(l.inLeaf), fp \(p.intact)/\(p.inLeaf); stats \(luStats)")
        // Timer fallback caps at ~250/s; perf gives ~1 kHz. Either way, a
        // 0.6 s spin gives well over 100 samples.
        #expect(l.inLeaf >= 100)
        #expect(Double(l.intact) >= 0.99 * Double(l.inLeaf))
        #expect(luStats.truncated == 0 && luStats.lost == 0)
        #expect(p.inLeaf > 0)
        // The leaf spin's own frame is set up before the loop, so even the
        // frame-pointer walk sees the recursion here; it may lose samples
        // taken in prologues, never gain intact ones out of nothing.
        #expect(p.intact <= p.inLeaf)
    }

    /// Kernel callchains: samples with no signal and no handler time, and
    /// the 50-deep recursion intact (the leaf spin keeps its frame).
    @Test(.enabled(if: Sampler.kernelCallchainsAvailable, "perf events or their mmap ring are refused here"))
    func kernelCallchainsSampleWithoutASignal() throws {
        let (k, stats) = sampleThisThread(SamplerConfig(hz: 997, unwinder: .kernel, source: .perf)) {
            blackHole(profRecurse(recursionDepth, 300_000_000))
        }
        let r = intactFraction(k)
        print("kernel callchains: 50-deep recursion intact \(r.intact)/\(r.inLeaf); stats \(stats)")
        #expect(r.inLeaf >= 100, "\(stats)")
        #expect(Double(r.intact) >= 0.9 * Double(r.inLeaf))
        #expect(stats.handlerNanoseconds == 0 && stats.lost == 0)
    }

    @Test(.disabled(if: Sampler.stacksAreUnreliable, "ThreadSanitizer defers signals: no exact stacks"))
    func stacksDeeperThanTheLimitAreMarkedTruncated() throws {
        try #require(Sampler.libunwindAvailable)
        let (f, stats) = sampleThisThread(SamplerConfig(hz: 997, unwinder: .libunwind)) {
            blackHole(profRecurse(Sampler.maxFrames + 20, 150_000_000))
        }
        let inLeaf = f.counts.filter { $0.key.contains { $0.hasPrefix("profLeafSpin(") } }
        let leafSamples = inLeaf.values.reduce(0, +)
        #expect(leafSamples >= 20)
        #expect(stats.truncated >= leafSamples)
        // Each cut stack: "[truncated]" root, then exactly maxFrames frames.
        #expect(inLeaf.keys.allSatisfy { $0.first == "[truncated]" && $0.count == Sampler.maxFrames + 1 })
    }

    @Test func bothUnwindersAgreeOnAKnownStackOutsideSignals() throws {
        try #require(Sampler.libunwindAvailable)
        let s = Symbolizer()
        let names = { (frames: [UInt64]) in frames.map { s.function(at: $0, isReturnAddress: true).name } }
        // From the innermost profCapture down: the wrapper frames above it
        // (Sampler.captureStack and its closure) are the same for both.
        func fromRecursion(_ n: [String]) -> [String] {
            Array(n.drop { !$0.hasPrefix("profCapture(") })
        }
        let lu = fromRecursion(names(profCapture(10, .libunwind))), fp = fromRecursion(names(profCapture(10, .fp)))
        #expect(lu.prefix(10).allSatisfy { $0.hasPrefix("profCapture(") }, "\(lu)")
        #expect(lu.count > 10 && !lu[10].hasPrefix("profCapture("))
        #expect(Array(lu.prefix(12)) == Array(fp.prefix(12)), "libunwind \(lu.prefix(12)) fp \(fp.prefix(12))")
    }

    @Test func samplesComeFromEveryWorkerAndHotFunctionsDominate() throws {
        let profiler = Profiler(config: SamplerConfig(hz: 997))
        profiler.log = { _ in }
        let bench = Benchmark("test/hot-cold/threads=2", threads: 2) { _ in
            { _ in
                for _ in 0..<10 { blackHole(profHot(30_000_000)); blackHole(profCold(30_000_000)) }
            }
        }
        _ = Runner(instruments: [profiler]).runRepetition(bench, n: 2, repetition: 0)
        let profiles = profiler.profiles()
        let p = try #require(profiles.first)
        #expect(p.raw.perWorker.keys.sorted() == [0, 1])
        #expect(p.raw.perWorker.values.allSatisfy { $0 > 20 })
        #expect(p.pprof.validate().isEmpty)
        // Under TSan the handler runs at TSan's safe points: counts hold,
        // stacks do not.
        guard !Sampler.stacksAreUnreliable else { return }
        let hot = p.folded.samples(containing: "profHot(_:)")
        let cold = p.folded.samples(containing: "profCold(_:)")
        print("hot \(hot) cold \(cold) of \(p.folded.total); \(p.summaryLine)")
        #expect(hot > 4 * cold)
        #expect(Double(hot) > 0.6 * Double(p.folded.total))

        // The pprof file round-trips through our own decoder.
        let data = try p.pprof.encodeGzipped()
        let back = try PprofProfile.decode(data)
        #expect(back == p.pprof)
        #expect(FoldedStacks(pprof: back) == p.folded)
        #expect(back.sampleTypes.map(\.type) == ["samples", "cpu"])
        #expect(back.periodType?.unit == "nanoseconds")
        #expect(back.mappings.allSatisfy { $0.hasFunctions })
        #expect(back.functions.contains { $0.name == "profHot(_:)" && $0.systemName.hasPrefix("$s") })

        // And through go tool pprof where Go is installed.
        if let go = ["/usr/local/bin/go", "/usr/bin/go", "/usr/lib/go-1.19/bin/go"].first(where: FileManager.default.isExecutableFile) {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-pprof-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("p.pb.gz")
            try data.write(to: file)
            let (rc, out) = try profRunProcess(go, ["tool", "pprof", "-top", file.path], env: ["HOME": dir.path, "GOCACHE": dir.path])
            #expect(rc == 0, "\(out)")
            #expect(out.contains("profHot(_:)"))
        }

        // A libunwind already loaded must not disturb C++ exceptions (TOMLKit).
        #expect(throws: (any Error).self) { _ = try Suite.parse("name = \"x\"\n[[benchmark]\npattern = ", path: "bad.toml") }
    }

    @Test func timerFallbackSamplesToo() {
        // Spin for a fixed amount of CPU time (not a fixed iteration count:
        // a debug build on a loaded machine runs the loop at any speed).
        let (f, stats) = sampleThisThread(SamplerConfig(hz: 997, unwinder: .fp, source: .timer)) {
            let start = threadCPUNanos()
            while threadCPUNanos() - start < 400_000_000 { blackHole(profLeafSpin(5_000_000)) }
        }
        // CPU-time timers deliver at most ~250/s here (HZ=250), and only at
        // ticks where this thread is on the CPU: expirations between them
        // coalesce into one signal, whose overrun count weights the sample.
        // 400 ms of CPU gave 17-100 signals depending on load; the periods
        // they stand for should still cover the CPU time.
        #expect(stats.samples >= 5)
        let expected = 0.4 * 997
        #expect(Double(stats.periods) > 0.7 * expected && Double(stats.periods) < 1.3 * expected,
                "\(stats.samples) samples + \(stats.overruns) overruns for ~\(Int(expected)) periods")
        #expect(f.total == stats.periods)
        guard !Sampler.stacksAreUnreliable else { return }
        #expect(f.samples(containing: "profLeafSpin(_:)") * 10 >= f.total * 9)
    }
}

private func profRunProcess(_ path: String, _ args: [String], env: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

struct ProfilingFormatTests {
    @Test func foldedGrammar() throws {
        var f = FoldedStacks()
        f.add(["main", "a;b", "leaf 12"], count: 3)
        f.add(["main", "x\ny", "f"], count: 2)
        f.add(["main", "a;b", "leaf 12"], count: 1)
        f.add(["main", "g  7"], count: 5)
        let text = f.text()
        #expect(text == "main;a:b;leaf_12 4\nmain;g__7 5\nmain;x y;f 2\n")
        // Every line as flamegraph.pl splits it: /^(.*)\s+?(\d+(?:\.\d*)?)$/
        let re = try NSRegularExpression(pattern: #"^(.*)\s+?(\d+(?:\.\d*)?)$"#)
        for line in text.split(separator: "\n").map(String.init) {
            let m = try #require(re.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)))
            let stack = String(line[Range(m.range(at: 1), in: line)!])
            #expect(!stack.contains("\n"))
            #expect(stack.split(separator: ";").allSatisfy { !$0.isEmpty && $0.range(of: #"\s\d+$"#, options: .regularExpression) == nil })
            #expect(Int(line[Range(m.range(at: 2), in: line)!]) != nil)
        }
        let lines = text.split(separator: "\n")
        #expect(lines == lines.sorted())
        #expect(try FoldedStacks.parse(text) == f)
        #expect(f.total == 11)
    }

    @Test func malformedFoldedInputIsRejectedWithOneLine() {
        for bad in ["a;b;c\n", "a;b x\n", "a;;b 3\n", "", "a;b -2\n"] {
            do {
                _ = try FoldedStacks.parse(bad)
                Issue.record("accepted \(bad.debugDescription)")
            } catch let e as FormatError {
                #expect(!e.description.contains("\n"))
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func malformedPprofIsRejected() {
        let cases: [Data] = [Data([0x1f, 0x8b, 0, 1, 2, 3]), Data([0x0a, 0xff]), Data([0x12, 0x05, 0x01])]
        for d in cases {
            #expect(throws: FormatError.self) { _ = try StackFile.parse(d) }
        }
    }

    @Test func pprofEncodesByHandAndDecodes() throws {
        var p = PprofProfile()
        p.sampleTypes = [.init(type: "samples", unit: "count"), .init(type: "cpu", unit: "nanoseconds")]
        p.periodType = .init(type: "cpu", unit: "nanoseconds")
        p.period = 1_003_009
        p.durationNanos = 5_000_000_000
        p.mappings = [.init(id: 1, start: 0x400000, limit: 0x500000, offset: 0, file: "/bin/x", hasFunctions: true)]
        p.functions = [.init(id: 1, name: "main", systemName: "main", file: "/bin/x"),
                       .init(id: 2, name: "A.f", systemName: "$s1A1fyyF", file: "/bin/x"),
                       .init(id: 3, name: "inl", systemName: "inl", file: "")]
        p.locations = [.init(id: 1, mappingID: 1, address: 0x401000, functionIDs: [1]),
                       .init(id: 2, mappingID: 1, address: 0x402000, functionIDs: [3, 2])]
        p.samples = [.init(locationIDs: [2, 1], values: [7, 7 * 1_003_009]),
                     .init(locationIDs: [1], values: [1, 1_003_009])]
        p.comments = ["hello"]
        let bytes = p.encode()
        // The first field is sample_type (1), length-delimited: tag 0x0a.
        #expect(bytes.first == 0x0a)
        let back = try PprofProfile.decode(try p.encodeGzipped())
        #expect(back == p)
        let f = FoldedStacks(pprof: back)
        #expect(f.counts == [["main", "A.f", "inl_[i]"]: 7, ["main"]: 1])
        var broken = p
        broken.samples[0].locationIDs = [9]
        #expect(!broken.validate().isEmpty)
    }

    @Test func flameGraphsAreWellFormedSVG() throws {
        let base = FoldedStacks([(["main", "a", "b"], 10), (["main", "c<&>\"'"], 5)])
        let new = FoldedStacks([(["main", "a", "b"], 20), (["main", "d"], 5), (["main", "c<&>\"'"], 1)])
        for svg in [FlameGraph.svg(new, title: "t & <t>", subtitle: "s"),
                    FlameGraph.diffSVG(base: base, new: new, title: "diff")] {
            let parser = XMLParser(data: Data(svg.utf8))
            let counter = ProfElementCounter()
            parser.delegate = counter
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
            #expect(counter.counts["svg"] == 1)
            #expect(counter.counts["rect", default: 0] >= 5)   // background + all + frames
            #expect(counter.counts["title", default: 0] == 6)  // all, main, a, b, c..., d
            #expect(svg.contains("function zoom(") && svg.contains("function search("))
        }
        let plain = FlameGraph.svg(new, title: "t")
        #expect(plain.contains("<title>main (26 samples, 100.00%)</title>"))
        #expect(plain.contains("c&lt;&amp;&gt;&quot;&apos;"))
        let diff = FlameGraph.diffSVG(base: base, new: new, title: "d")
        // b grew (20 vs 10 scaled by 26/15), c shrank: red and blue frames.
        #expect(diff.contains("fill=\"rgb(255,"))
        #expect(diff.range(of: #"fill="rgb\(\d+,\d+,255\)""#, options: .regularExpression) != nil)
    }

    /// The SVG's script, run by node (where installed) against a small
    /// DOM stand-in built from the SVG's own frames: click-to-zoom,
    /// reset, and search with the matched share.
    @Test(.enabled(if: profNode != nil, "node is not installed: the SVG's script cannot be run"))
    func flameGraphScriptZoomsAndSearches() throws {
        let node = try #require(profNode)
        let stacks = FoldedStacks([(["main", "a", "b"], 30), (["main", "a", "c"], 10), (["main", "d"], 60)])
        let svg = FlameGraph.svg(stacks, title: "t")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-fgjs-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svgFile = dir.appendingPathComponent("g.svg"), js = dir.appendingPathComponent("t.js")
        try svg.write(to: svgFile, atomically: true, encoding: .utf8)
        try flameGraphDOMHarness.write(to: js, atomically: true, encoding: .utf8)
        let (rc, out) = try profRunProcess(node, [js.path, svgFile.path])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("OK"), "\(out)")
    }

    @Test func demangledNamesAreReadable() {
        // A private function's discriminator is not a parameter list.
        #expect(Demangler.dropPrivateDiscriminators("closure #2 in GoBenchSuites.(accessBenchmarks in _78F0167BE356B4C19BE00B4801CBFA74)() -> [GoBenchKit.Benchmark]")
                == "closure #2 in GoBenchSuites.accessBenchmarks() -> [GoBenchKit.Benchmark]")
        let closure = "$s13GoBenchSuites16accessBenchmarks33_78F0167BE356B4C19BE00B4801CBFA74LLSay0aB3Kit9BenchmarkVGyFyAD6WorkerCYbcAD10RunContextCYbcfU_yAIYbcfU0_"
        #expect(Demangler.readable(closure) == "closure #2 @Sendable in closure #1 @Sendable in GoBenchSuites.accessBenchmarks")
        if Demangler.hasSimplifiedDemangler {
            #expect(Demangler.simplified(closure) == "closure #2 in closure #1 in accessBenchmarks()")
        }
        #expect(Demangler.simplified("memcpy") == "memcpy")
        #expect(Demangler.simplified("_ZN5swift8Demangle4NodeC2Ev") == "swift::Demangle::Node::Node()")
        #expect(Demangler.dropSignatures("GoRuntime.HashMap.subscript.getter : (Swift.Int) -> Swift.Int?")
                == "GoRuntime.HashMap.subscript.getter")
        #expect(Demangler.dropSignatures("closure #2 @Sendable (GoBenchKit.Worker) -> () in closure #3 @Sendable (GoBenchKit.RunContext) -> @Sendable (GoBenchKit.Worker) -> () in GoBenchSuites.harnessBenchmarks() -> [GoBenchKit.Benchmark]")
                == "closure #2 @Sendable in closure #3 @Sendable in GoBenchSuites.harnessBenchmarks")
        #expect(Demangler.readable("memcpy") == "memcpy")
    }
}

/// node, where installed (runs the SVG's script).
private let profNode = ["/usr/bin/node", "/usr/local/bin/node"].first(where: FileManager.default.isExecutableFile)
/// Go 1.19's go command, where installed (`go tool pprof`).
let profGo = ["/usr/lib/go-1.19/bin/go", "/usr/local/go/bin/go", "/usr/bin/go"].first(where: FileManager.default.isExecutableFile)

// MARK: DWARF symbolization, inline frames, lines

struct ProfilingSymbolsTests {
    /// An always-inlined C helper (Sampler.c): DWARF names the helper at
    /// its line, then the function it was inlined into.
    @Test(.enabled(if: Symbolizer.findLLVMSymbolizer() != nil, "no llvm-symbolizer next to swiftc or on PATH"))
    func inlinedFunctionGivesItsInlineChainAndLine() throws {
        var line: Int32 = 0
        let pc = cgb_symbolizer_probe(&line)
        try #require(pc != 0 && line > 0, "no pc probe on this architecture")
        let s = Symbolizer()
        // pc is the instruction after the probe's own: look up pc - 1.
        let chain = s.frames(at: pc, isReturnAddress: true)
        #expect(chain.map(\.name) == ["cgb_probe_inlined_leaf", "cgb_symbolizer_probe"], "\(chain)")
        #expect(chain.first?.line == Int(line), "\(chain)")
        #expect(chain.first?.file.hasSuffix("Sampler.c") == true, "\(chain)")
        #expect((chain.first?.startLine ?? 0) > 0 && (chain.first?.startLine ?? 0) < Int(line))
        #expect(s.function(at: pc, isReturnAddress: true).name == "cgb_symbolizer_probe")
        // Swift frames get their file and line too.
        let here = profStackInside().map { s.frames(at: $0, isReturnAddress: true) }
        let hot = try #require(here.first { $0.last?.name == "profStackInside()" }, "\(here)")
        #expect(hot.last?.file.hasSuffix("ProfilingTests.swift") == true && (hot.last?.line ?? 0) > 0, "\(hot)")
        // Without DWARF: the ELF symbol, no line.
        let elfOnly = Symbolizer(dwarf: false).frames(at: pc, isReturnAddress: true)
        #expect(elfOnly.map(\.name) == ["cgb_symbolizer_probe"] && elfOnly[0].line == 0)
    }

    /// libc frames are named (from .dynsym, or libc6-dbg's DWARF).
    @Test func sharedObjectFramesAreNamed() throws {
        let s = Symbolizer()
        let addr = UInt64(UInt(bitPattern: unsafeBitCast(dlsym(nil, "getpid"), to: Int.self)))
        try #require(addr != 0)
        let f = s.function(at: addr + 1, isReturnAddress: false)
        #expect(f.name.contains("getpid"), "\(f)")
    }

    /// A profile with inline Lines, line numbers, start lines and the
    /// mapping's flags survives encode/decode; folded frames mark inlined
    /// frames `_[i]`; line granularity adds file:line.
    @Test func pprofRoundTripKeepsInlineLines() throws {
        let p = inlineFixture(source: "/src/hot.swift")
        let back = try PprofProfile.decode(try p.encodeGzipped())
        #expect(back == p)
        #expect(back.locations[0].lines.map(\.line) == [7, 12])
        #expect(back.mappings[0].hasInlineFrames && back.mappings[0].hasLineNumbers && back.mappings[0].hasFilenames)
        #expect(back.functions.map(\.startLine) == [10, 5, 1])
        let f = FoldedStacks(pprof: back)
        #expect(f.counts == [["main()", "outer()", "inner()_[i]"]: 9, ["main()", "outer()"]: 3], "\(f.counts)")
        let lines = FoldedStacks(pprof: back, granularity: .line)
        #expect(lines.counts[["main() hot.swift:2", "outer() hot.swift:12", "inner() hot.swift:7_[i]"]] == 9, "\(lines.counts)")
        // flamegraph.pl's line split (/^(.*)\s+?(\d+(?:\.\d*)?)$/) and its
        // inline annotation (/_\[i\]$/) both hold on every line.
        let re = try NSRegularExpression(pattern: #"^(.*)\s+?(\d+(?:\.\d*)?)$"#)
        for text in [f.text(), lines.text()] {
            for line in text.split(separator: "\n").map(String.init) {
                let m = try #require(re.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)))
                let stack = String(line[Range(m.range(at: 1), in: line)!]).split(separator: ";")
                #expect(stack.allSatisfy { !$0.isEmpty && $0.range(of: #"\s\d+$"#, options: .regularExpression) == nil }, "\(line)")
            }
            #expect(text.contains("_[i];") == false)   // inlined frames sit above their caller only
            #expect(try FoldedStacks.parse(text).total == 12)
        }
        let svg = FlameGraph.svg(f, title: "t")
        #expect(svg.contains("inner() (inlined) (9 samples"))
    }

    /// `go tool pprof -list` and `-lines` read our inline Lines against a
    /// real source file.
    @Test(.enabled(if: profGo != nil, "Go 1.19 is not installed: no go tool pprof"))
    func goToolPprofListsSourceLines() throws {
        let go = try #require(profGo)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gobench-pplist-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("hot.swift")
        try (1...14).map { "// source line \($0)" }.joined(separator: "\n").write(to: src, atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("p.pb.gz")
        try inlineFixture(source: src.path).encodeGzipped().write(to: file)
        let env = ["HOME": dir.path, "GOCACHE": dir.path, "PPROF_TMPDIR": dir.path]
        let (rc, out) = try profRunProcess(go, ["tool", "pprof", "-sample_index=samples", "-list", "inner", file.path], env: env)
        #expect(rc == 0, "\(out)")
        // All 9 samples (flat and cumulative) sit on line 7 of the source.
        #expect(out.contains("ROUTINE ======================== inner() in \(src.path)"), "\(out)")
        #expect(out.range(of: #"\n\s+9\s+9\s+7:// source line 7\n"#, options: .regularExpression) != nil, "\(out)")
        let (rc2, lines) = try profRunProcess(go, ["tool", "pprof", "-sample_index=samples", "-top", "-lines", file.path], env: env)
        #expect(rc2 == 0, "\(lines)")
        #expect(lines.contains("inner() ") && lines.contains("hot.swift:7") && lines.contains("(inline)"), "\(lines)")
    }

    /// A differential graph of two fixtures, normalized per operation:
    /// red where a frame grew per op, blue where it shrank.
    @Test func differentialGraphHasBothColours() throws {
        let base = FoldedStacks([(["main", "grow"], 100), (["main", "shrink"], 300)])
        let new = FoldedStacks([(["main", "grow"], 400), (["main", "shrink"], 100)])
        // The same samples per op on both sides but for the two frames.
        let d = ProfileDiff(base: base, baseOps: 1000, new: new, newOps: 1000)
        #expect(d.folded.contains("main;grow 100 400\n") && d.folded.contains("main;shrink 300 100\n"), "\(d.folded)")
        #expect(d.svg.contains("fill=\"rgb(255,"), "no red")
        #expect(d.svg.range(of: #"fill="rgb\(\d+,\d+,255\)""#, options: .regularExpression) != nil, "no blue")
        // Twice the ops on the new side: counts per op halve.
        let half = ProfileDiff(base: base, baseOps: 1000, new: new, newOps: 2000)
        #expect(half.folded.contains("main;grow 100 200\n"), "\(half.folded)")
    }
}

/// The stack from inside this function (one of its frames is here).
@inline(never) func profStackInside() -> [UInt64] {
    let frames = Sampler.captureStack(.fp)
    return frames + []
}

/// main() -> outer() with inner() inlined into outer at line 12; 9 samples
/// in inner (line 7), 3 in outer (line 13).
private func inlineFixture(source: String) -> PprofProfile {
    var p = PprofProfile()
    p.sampleTypes = [.init(type: "samples", unit: "count"), .init(type: "cpu", unit: "nanoseconds")]
    p.periodType = .init(type: "cpu", unit: "nanoseconds")
    p.period = 1_003_009
    p.mappings = [.init(id: 1, start: 0x400000, limit: 0x500000, offset: 0, file: "/bin/x", hasFunctions: true,
                        hasFilenames: true, hasLineNumbers: true, hasInlineFrames: true)]
    p.functions = [.init(id: 1, name: "outer()", systemName: "$s1x5outeryyF", file: source, startLine: 10),
                   .init(id: 2, name: "inner()", systemName: "$s1x5inneryyF", file: source, startLine: 5),
                   .init(id: 3, name: "main()", systemName: "main", file: source, startLine: 1)]
    p.locations = [.init(id: 1, mappingID: 1, address: 0x401000, lines: [.init(functionID: 2, line: 7), .init(functionID: 1, line: 12)]),
                   .init(id: 2, mappingID: 1, address: 0x401100, lines: [.init(functionID: 1, line: 13)]),
                   .init(id: 3, mappingID: 1, address: 0x402000, lines: [.init(functionID: 3, line: 2)])]
    p.samples = [.init(locationIDs: [1, 3], values: [9, 9 * 1_003_009]),
                 .init(locationIDs: [2, 3], values: [3, 3 * 1_003_009])]
    return p
}

private final class ProfElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        counts[name, default: 0] += 1
    }
}

/// A DOM stand-in for the flame graph's script: enough of getElementById,
/// getElementsByTagName, querySelector, attributes, classList and events.
private let flameGraphDOMHarness = #"""
const fs = require("fs");
const svg = fs.readFileSync(process.argv[2], "utf8");
const script = svg.match(/<!\[CDATA\[([\s\S]*?)\]\]>/)[1];
function el(attrs, text) {
  return { attrs: Object.assign({}, attrs), textContent: text || "", handlers: {}, cls: new Set(), children: {},
    getAttribute(k) { return this.attrs[k]; }, setAttribute(k, v) { this.attrs[k] = String(v); },
    querySelector(t) { return this.children[t]; },
    addEventListener(ev, f) { this.handlers[ev] = f; },
    get classList() { const s = this.cls; return { add: c => s.add(c), remove: c => s.delete(c), contains: c => s.has(c) }; } };
}
const attrsOf = s => { const o = {}; s.replace(/([\w-]+)="([^"]*)"/g, (_, k, v) => { o[k] = v; }); return o; };
const unescape = s => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const gs = [];
for (const m of svg.matchAll(/<g (data-x[^>]*)><title>([^<]*)<\/title><rect ([^>]*)\/><text ([^>]*)>([^<]*)<\/text><\/g>/g)) {
  const g = el(attrsOf(m[1]));
  g.children.title = el({}, unescape(m[2]));
  g.children.rect = el(attrsOf(m[3]));
  g.children.text = el(attrsOf(m[4]), unescape(m[5]));
  gs.push(g);
}
const ids = { frames: { getElementsByTagName: () => gs }, details: { firstChild: { nodeValue: "" } },
  matched: el({}), unzoom: el({}), search: el({}, "Search") };
ids.unzoom.cls.add("hide");
global.document = { getElementById: id => ids[id] };
global.window = { addEventListener() {} };
let answer = "";
global.prompt = () => answer;
eval(script + "\nglobal.__api = { init, search, unzoom };");
__api.init({});
const byName = n => gs.find(g => g.children.title.textContent.startsWith(n + " ("));
const w = g => +g.children.rect.getAttribute("width");
function check(c, msg) { if (!c) { console.log("FAIL " + msg); process.exit(1); } }
check(gs.length === 6, "6 frames, got " + gs.length);
const full = w(byName("all"));
// Zoom into a: a fills the width, b keeps its share of a, d is hidden, main and all are greyed parents.
byName("a").handlers.click.call(byName("a"));
check(Math.abs(w(byName("a")) - full) < 0.2, "a fills the width after zoom");
check(Math.abs(w(byName("b")) - full * 0.75) < 0.2, "b is 3/4 of a");
check(byName("d").cls.has("hide"), "d hidden");
check(byName("main").cls.has("parent") && byName("all").cls.has("parent"), "ancestors greyed");
check(!ids.unzoom.cls.has("hide"), "reset button shown");
// Search: magenta matches, union share (a contains b: counted once).
answer = "^(a|b)$";
ids.search.handlers.click();
check(byName("b").children.rect.getAttribute("fill") === "rgb(230,0,230)", "b highlighted");
check(byName("d").children.rect.getAttribute("fill") !== "rgb(230,0,230)", "d not highlighted");
check(ids.matched.textContent === "Matched: 40.0%", "matched share: " + ids.matched.textContent);
ids.search.handlers.click();  // second click resets the search
check(byName("b").children.rect.getAttribute("fill") !== "rgb(230,0,230)", "search reset");
ids.unzoom.handlers.click();
check(!byName("d").cls.has("hide") && Math.abs(w(byName("d")) - full * 0.6) < 0.2, "unzoom restores d");
check(ids.unzoom.cls.has("hide"), "reset button hidden again");
console.log("OK");
"""#
