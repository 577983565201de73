// The profiler as a runner instrument: every worker thread of every counted
// repetition is armed right before its timed loop and disarmed right after
// it (the runner calls `start`/`stop` on the worker itself), so samples
// cover the timed loops only, as `go test -cpuprofile` covers b.N loops.
//
// Stages:
//   1. makeProbe (worker thread, before the start barrier): allocate and
//      pre-fault a ring;
//   2. start/stop (worker thread): arm/disarm, and the thread CPU time
//      between them;
//   3. collect (coordinator, after the workers joined): drain every ring
//      into raw address stacks per benchmark, with per-worker counts and
//      the sampler's own counters;
//   4. finish (once per run): symbolize every address once, and write per
//      benchmark <run>/profiles/<name>.folded, .pb.gz and .svg, plus
//      summary.txt with achieved rates, lost and truncated samples.
//
// Locking contract: `lock` guards `raw`; collect and finish run on the
// coordinating thread, so it only matters for `profiles()` callers on other
// threads.

import Foundation

/// Raw samples of one benchmark, summed over its counted repetitions.
public struct RawBenchmarkSamples: Sendable {
    /// Leaf-first address stacks to counts.
    public var stacks: [[UInt64]: Int] = [:]
    /// Samples per worker index.
    public var perWorker: [Int: Int] = [:]
    public var threads = 1
    public var cpuNanoseconds: Int64 = 0
    public var wallNanoseconds: Int64 = 0
    /// Iterations of the sampled repetitions, summed: samples per op for
    /// differential graphs.
    public var ops = 0
    public var stats = SamplerStats()
    public var sources: Set<String> = []
    public var armFailures: [String] = []
    public var startedAt = Date()
}

extension RawBenchmarkSamples {
    /// Drains `ring` (after its thread disarmed) into these samples.
    public mutating func absorb(_ ring: SampleRing, worker: Int) {
        var stacks = self.stacks
        var n = 0
        ring.drain { stack, truncated, weight in
            // A cut stack gets a "[truncated]" root (address 0), so its
            // frames do not pose as a complete call chain.
            stacks[truncated ? Array(stack) + [0] : Array(stack), default: 0] += weight
            n += weight
        }
        self.stacks = stacks
        perWorker[worker, default: 0] += n
        stats = stats + ring.stats
    }
}

/// One benchmark's symbolized profile.
public struct BenchmarkProfile: Sendable {
    public var benchmark: String
    public var raw: RawBenchmarkSamples
    public var pprof: PprofProfile
    public var folded: FoldedStacks
    public var hz: Int

    /// Samples per second of sampled thread CPU time.
    public var achievedHz: Double {
        raw.cpuNanoseconds > 0 ? Double(raw.stats.periods) / (Double(raw.cpuNanoseconds) / 1e9) : 0
    }

    /// Samples x nominal period over measured CPU time (1.0 when every
    /// period of CPU time produced a sample).
    public var coverage: Double {
        raw.cpuNanoseconds > 0 ? Double(raw.stats.periods) * 1e9 / Double(hz) / Double(raw.cpuNanoseconds) : 0
    }

    /// Mean CPU time inside the handler per signal, in nanoseconds.
    public var handlerNanosecondsPerSample: Double {
        raw.stats.signals > 0 ? Double(raw.stats.handlerNanoseconds) / Double(raw.stats.signals) : 0
    }

    /// One line for the run summary.
    public var summaryLine: String {
        let workers = raw.perWorker.filter { $0.value > 0 }.count
        return String(format: "%@: %d samples from %d/%d workers, %.1f Hz achieved (asked %d), cpu %.3fs, "
                      + "samples*period/cpu %.1f%%, handler %.2f cpu-us/sample (%.2f%% of cpu), overruns %d, lost %d, truncated %d, "
                      + "unwind-failed %d, source %@",
                      benchmark, raw.stats.samples, workers, raw.threads, achievedHz, hz,
                      Double(raw.cpuNanoseconds) / 1e9, coverage * 100, handlerNanosecondsPerSample / 1000,
                      raw.cpuNanoseconds > 0 ? Double(raw.stats.handlerNanoseconds) * 100 / Double(raw.cpuNanoseconds) : 0,
                      raw.stats.overruns, raw.stats.lost, raw.stats.truncated,
                      raw.stats.unwindFailed, raw.sources.sorted().joined(separator: "+"))
            + (raw.armFailures.isEmpty ? "" : ", arm failures: \(raw.armFailures[0])")
    }
}

final class ProfileProbe: InstrumentProbe {
    let ring = SampleRing()
    let config: SamplerConfig
    let worker: Int
    var source: Result<SampleSource, SamplerError>?
    var cpuStart: Int64 = 0
    var cpuNanoseconds: Int64 = 0

    init(config: SamplerConfig, worker: Int) {
        self.config = config
        self.worker = worker
    }

    func start() {
        source = ring.arm(config)
        cpuStart = threadCPUNanos()
    }

    func stop() {
        cpuNanoseconds = threadCPUNanos() - cpuStart
        ring.disarm()
    }
}

public final class Profiler: Instrument, @unchecked Sendable {
    public let config: SamplerConfig
    private let lock = HarnessLock()
    private var raw: [String: RawBenchmarkSamples] = [:]
    private var order: [String] = []
    /// The last `profiles()` call's symbolization: addresses, seconds, tool.
    public private(set) var lastSymbolization: (addresses: Int, seconds: Double, tool: String?) = (0, 0, nil)
    /// Summary lines go here (stderr by default).
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// Frames of the folded files and SVGs: per function or per line.
    public var granularity: FoldedStacks.Granularity = .function

    public init(config: SamplerConfig = SamplerConfig()) {
        self.config = config
    }

    public var name: String { "profile" }

    public var contextLines: [(key: String, value: String)] {
        let unwinder = config.unwinder == .libunwind && !Sampler.libunwindAvailable ? "fp (libunwind missing)" : config.unwinder.rawValue
        return [("profile", "hz=\(config.hz) unwind=\(unwinder) source=\(config.source.rawValue)")]
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        ProfileProbe(config: config, worker: worker)
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        var r = lock.withLock { raw[benchmark] } ?? RawBenchmarkSamples()
        if r.stacks.isEmpty && r.stats.signals == 0 { r.startedAt = Date() }
        r.threads = probes.count
        r.wallNanoseconds += wallNanoseconds
        r.ops += n
        var samples = 0
        var cpu: Int64 = 0
        for case let p as ProfileProbe in probes {
            r.absorb(p.ring, worker: p.worker)
            samples += p.ring.stats.periods
            cpu += p.cpuNanoseconds
            switch p.source {
            case .success(let src)?: r.sources.insert(src.rawValue)
            case .failure(let e)?: if r.armFailures.count < 4 { r.armFailures.append(e.description) }
            case nil: break
            }
        }
        r.cpuNanoseconds += cpu
        lock.withLock {
            if raw[benchmark] == nil { order.append(benchmark) }
            raw[benchmark] = r
        }
        let hz = cpu > 0 ? Double(samples) / (Double(cpu) / 1e9) : 0
        return [.condition(hz, unit: "profile-hz")]
    }

    /// Symbolized profiles of every benchmark seen so far, in run order.
    public func profiles() -> [BenchmarkProfile] {
        let (names, raws) = lock.withLock { (order, raw) }
        let symbolizer = Symbolizer()
        // One batch for the whole run: a single llvm-symbolizer process.
        var all = Set<UInt64>()
        for r in raws.values { all.formUnion(ProfileBuilder.adjustedAddresses(r)) }
        symbolizer.resolve(all)
        lastSymbolization = (symbolizer.resolvedAddresses, symbolizer.resolveSeconds, symbolizer.dwarfTool)
        return names.compactMap { name in
            guard let r = raws[name] else { return nil }
            let p = ProfileBuilder.build(r, symbolizer: symbolizer, hz: config.hz, unwinder: config.unwinder)
            return BenchmarkProfile(benchmark: name, raw: r, pprof: p, folded: FoldedStacks(pprof: p, granularity: granularity),
                                    hz: config.hz)
        }
    }

    public func finish(runDirectory: String?) throws {
        let all = profiles()
        guard !all.isEmpty else { return }
        var summary = ""
        for p in all { summary += p.summaryLine + "\n" }
        guard let run = runDirectory else {
            log("profile (not saved: --no-save)\n" + summary)
            return
        }
        let dir = "\(run)/profiles"
        try AtomicFile.makeDirectory(dir)
        for p in all {
            let base = "\(dir)/\(Profiler.fileName(p.benchmark))"
            try AtomicFile.write(p.folded.text(), to: base + ".folded")
            try AtomicFile.write(try p.pprof.encodeGzipped(), to: base + ".pb.gz")
            let subtitle = String(format: "%d samples, %.0f Hz achieved, %@ unwinding, lost %d, truncated %d",
                                  p.raw.stats.samples, p.achievedHz, config.unwinder.rawValue,
                                  p.raw.stats.lost, p.raw.stats.truncated)
            try AtomicFile.write(FlameGraph.svg(p.folded, title: p.benchmark, subtitle: subtitle), to: base + ".svg")
        }
        // Suite-wide: every benchmark a root frame of one graph.
        var suite = FoldedStacks()
        for p in all { for (stack, c) in p.folded.counts { suite.add([p.benchmark] + stack, count: c) } }
        try AtomicFile.write(suite.text(), to: "\(dir)/\(Profiler.suiteFileName).folded")
        try AtomicFile.write(FlameGraph.svg(suite, title: "all benchmarks of the run",
                                            subtitle: "\(all.count) benchmarks, \(suite.total) samples; each benchmark a root frame"),
                             to: "\(dir)/\(Profiler.suiteFileName).svg")
        let sym = lastSymbolization
        summary += String(format: "symbolization: %d addresses in %.3f s (%@)\n", sym.addresses, sym.seconds,
                          sym.tool.map { "DWARF through \($0)" } ?? "ELF symbol tables only: no llvm-symbolizer")
        try AtomicFile.write(summary, to: "\(dir)/summary.txt")
        log("profiles: \(dir)/\n" + summary)
    }

    /// The suite-wide folded file and SVG in profiles/ (`_all.folded`):
    /// "_" first, so no benchmark's file name can be it.
    public static let suiteFileName = "_all"

    /// A file name for a benchmark: "/" and anything unusual become "_".
    public static func fileName(_ benchmark: String) -> String {
        String(benchmark.map { $0.isLetter || $0.isNumber || "=.-_,".contains($0) ? $0 : "_" })
    }
}

/// Raw stacks to a pprof profile: symbolize each address once, one
/// location per distinct (adjusted) address with one Line per inline level
/// (innermost first), one function per (name, file, start line).
enum ProfileBuilder {
    /// The addresses `build` will look up for `r`: the leaf as sampled,
    /// callers minus one (a return address points past its call).
    static func adjustedAddresses(_ r: RawBenchmarkSamples) -> Set<UInt64> {
        var out = Set<UInt64>()
        for stack in r.stacks.keys {
            for (i, a) in stack.enumerated() where a != 0 { out.insert(i == 0 ? a : a &- 1) }
        }
        return out
    }

    static func build(_ r: RawBenchmarkSamples, symbolizer: Symbolizer, hz: Int, unwinder: Unwinder) -> PprofProfile {
        var p = PprofProfile()
        let period = Int64(1_000_000_000 / max(1, hz))
        p.sampleTypes = [.init(type: "samples", unit: "count"), .init(type: "cpu", unit: "nanoseconds")]
        p.periodType = .init(type: "cpu", unit: "nanoseconds")
        p.period = period
        p.durationNanos = r.wallNanoseconds
        p.timeNanos = Int64(r.startedAt.timeIntervalSince1970 * 1e9)
        p.comments = ["gobench profile: unwind=\(unwinder.rawValue) asked \(hz) Hz",
                      "lost=\(r.stats.lost) truncated=\(r.stats.truncated) unwind-failed=\(r.stats.unwindFailed)",
                      "\(PprofProfile.opsCommentPrefix)\(r.ops)"]
        symbolizer.resolve(adjustedAddresses(r))
        var mappingID: [Int: UInt64] = [:]
        var functionID: [SymbolizedFunction: UInt64] = [:]
        var locationID: [UInt64: UInt64] = [:]   // adjusted address -> id
        func function(_ f: SymbolizedFunction) -> UInt64 {
            let key = f.function
            if let id = functionID[key] { return id }
            let id = UInt64(functionID.count + 1)
            functionID[key] = id
            p.functions.append(.init(id: id, name: f.name, systemName: f.systemName, file: f.file,
                                     startLine: Int64(f.startLine)))
            return id
        }
        func location(_ address: UInt64, leaf: Bool) -> UInt64 {
            // Callers are return addresses: the location is the call itself.
            let a = leaf || address == 0 ? address : address &- 1
            if let id = locationID[a] { return id }
            let chain = address == 0 ? [SymbolizedFunction(name: "[truncated]", systemName: "[truncated]", file: "")]
                : symbolizer.frames(at: a, isReturnAddress: false)
            let lines = chain.map { PprofProfile.Line(functionID: function($0), line: Int64($0.line)) }
            var mid: UInt64 = 0
            if a != 0, let mi = symbolizer.moduleIndex(for: a) {
                if let id = mappingID[mi] { mid = id } else {
                    mid = UInt64(mappingID.count + 1)
                    mappingID[mi] = mid
                    let m = symbolizer.modules[mi]
                    p.mappings.append(.init(id: mid, start: m.start, limit: m.limit, offset: m.fileOffset,
                                            file: m.path, hasFunctions: true))
                }
                // A mapping symbolized through DWARF has files, lines and
                // its inline frames resolved (pprof then does not try).
                if chain.contains(where: { $0.line > 0 }), let k = p.mappings.firstIndex(where: { $0.id == mid }) {
                    p.mappings[k].hasFilenames = true
                    p.mappings[k].hasLineNumbers = true
                    p.mappings[k].hasInlineFrames = true
                }
            }
            let id = UInt64(p.locations.count + 1)
            locationID[a] = id
            p.locations.append(.init(id: id, mappingID: mid, address: a, lines: lines))
            return id
        }
        // Deterministic order: by count, then by stack.
        for (stack, count) in r.stacks.sorted(by: {
            $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key)
        }) {
            let ids = stack.enumerated().map { location($0.element, leaf: $0.offset == 0) }
            p.samples.append(.init(locationIDs: ids, values: [Int64(count), Int64(count) * period]))
        }
        // pprof takes the first mapping for the main binary ("File: ...").
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        if let i = p.mappings.firstIndex(where: { $0.file == exe }), i > 0 {
            p.mappings.insert(p.mappings.remove(at: i), at: 0)
        }
        return p
    }
}
