// Exact instruction counts without a PMU: `gobench run --instructions
// callgrind` re-runs each counted repetition of each benchmark in a child
// process, the same gobench binary as a worker (WorkerSpec on standard
// input: the benchmark at <iterations>x, a warm-up, one repetition, no perf
// counters, the callgrind client requests) under
//
//     valgrind --tool=callgrind --collect-atstart=no --instr-atstart=no \
//         gobench worker
//
// where `CallgrindClientInstrument` brackets the timed loop with client
// requests and dumps its cost; this side reads the dump's totals and
// reports `instructions/op` as an exact metric.
//
// Why the count repeats exactly: valgrind executes the same instructions
// for the same binary and input, and every random seed is pinned in the
// child: SWIFT_DETERMINISTIC_HASHING=1 fixes the Swift hash seed (it moved
// a Dictionary loop's count by ~0.2%), GOBENCH_DETERMINISTIC=1 asks the
// ports to fix theirs (a map's hash0, select's poll order). The warm-up run
// before the counted one (calibration with a fixed n) is not collected, so
// first-touch costs stay out.
//
// Multi-threaded benchmarks are counted too (valgrind runs one thread at a
// time; each thread toggles its own collection), but how threads
// interleave, and so how often a lock spins, depends on valgrind's
// scheduler: those counts are reported with exact=false.
//
// The child runs between the native repetitions, outside their timed
// regions. Each native repetition gets its own child, so the spread of
// instructions/op over repetitions shows whether the count is stable.

import Foundation

public final class CallgrindInstrument: Instrument, @unchecked Sendable {
    public let name = "instructions"
    /// Iterations each child runs (b.N under valgrind, ~50x slower).
    public let iterations: Int
    /// valgrind's path, or nil when it is not installed.
    public let valgrind: String?
    /// `valgrind --version`, e.g. "valgrind-3.19.0".
    public let valgrindVersion: String
    /// The binary to re-run (this process's executable by default).
    public let executable: String

    /// Environment the child gets on top of ours.
    public static let deterministicEnvironment = ["SWIFT_DETERMINISTIC_HASHING": "1", "GOBENCH_DETERMINISTIC": "1"]

    private let lock = HarnessLock()
    private var dumps: [(benchmark: String, repetition: Int, path: String)] = []
    private var tempDirectories: [String] = []
    private var warned = Set<String>()

    public init(iterations: Int = 1000, executable: String? = nil, valgrind: String? = nil) {
        self.iterations = max(1, iterations)
        self.executable = executable ?? CallgrindInstrument.currentExecutable()
        self.valgrind = valgrind ?? Subprocess.find("valgrind")
        self.valgrindVersion = self.valgrind.flatMap { CallgrindInstrument.version(of: $0) } ?? "unknown"
    }

    public var contextLines: [(key: String, value: String)] {
        guard valgrind != nil else {
            return [("instructions", "callgrind unavailable (valgrind not found in PATH): no instructions/op")]
        }
        let env = Self.deterministicEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return [("instructions", "callgrind exact (\(valgrindVersion), \(iterations) iterations per repetition, "
                 + env.joined(separator: " ") + ")")]
    }

    public func makeProbe(benchmark: String, worker: Int, threads: Int) -> InstrumentProbe {
        IdleProbe()
    }

    public func collect(benchmark: String, repetition: Int, probes: [InstrumentProbe], n: Int,
                        wallNanoseconds: Int64) -> [Metric] {
        guard let vg = valgrind else { return [] }
        switch measure(benchmark: benchmark, valgrind: vg) {
        case .success(let m):
            lock.withLock { dumps.append((benchmark, repetition, m.dumpPath)) }
            return [Metric(Double(m.instructions) / Double(max(m.n, 1)), unit: "instructions/op",
                           kind: probes.count == 1 ? .exact : .count)]
        case .failure(let e):
            warn("\(benchmark): no callgrind count: \(e.description)")
            return []
        }
    }

    /// Copies each dump into `<run>/callgrind/` (kcachegrind and
    /// callgrind_annotate read them) and removes the temporary folders.
    public func finish(runDirectory: String?) throws {
        let fm = FileManager.default
        let (kept, temps) = lock.withLock { (dumps, tempDirectories) }
        if let dir = runDirectory, !kept.isEmpty {
            let out = "\(dir)/callgrind"
            try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
            for d in kept {
                let safe = d.benchmark.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "=" ? $0 : "_" }
                let target = "\(out)/\(String(safe)).rep\(d.repetition).callgrind.out"
                try? fm.removeItem(atPath: target)
                try fm.copyItem(atPath: d.path, toPath: target)
            }
        }
        for t in temps { try? fm.removeItem(atPath: t) }
    }

    /// What one child run measured.
    public struct Measurement: Sendable {
        public var instructions: UInt64
        public var n: Int
        public var dumpPath: String
    }

    /// Runs `benchmark` once under callgrind and reads its dump.
    public func measure(benchmark: String, valgrind: String) -> Result<Measurement, FormatError> {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent(
            "gobench-callgrind-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))").path
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            return .failure(FormatError("cannot create \(dir): \(error)"))
        }
        lock.withLock { tempDirectories.append(dir) }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: valgrind)
        p.arguments = ["--tool=callgrind", "--collect-atstart=no", "--instr-atstart=no",
                       "--callgrind-out-file=\(dir)/callgrind.out", childExecutable(), "worker"]
        let spec = WorkerSpec(items: [.init(benchmark: benchmark, benchTime: .iterations(iterations), warmup: true, repetitions: [0])],
                              instruments: InstrumentSpec(counters: [], instructions: .callgrindClient, allocs: false),
                              process: 0)
        guard let specData = try? JSONEncoder().encode(spec) else {
            return .failure(FormatError("cannot encode the worker spec"))
        }
        let specPath = "\(dir)/spec.json"
        guard fm.createFile(atPath: specPath, contents: specData), let specIn = FileHandle(forReadingAtPath: specPath) else {
            return .failure(FormatError("cannot write \(specPath)"))
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in Self.deterministicEnvironment { env[k] = v }
        p.environment = env
        _ = fm.createFile(atPath: "\(dir)/stdout", contents: nil)
        _ = fm.createFile(atPath: "\(dir)/stderr", contents: nil)
        guard let out = FileHandle(forWritingAtPath: "\(dir)/stdout"),
              let err = FileHandle(forWritingAtPath: "\(dir)/stderr") else {
            return .failure(FormatError("cannot create output files in \(dir)"))
        }
        p.standardOutput = out
        p.standardError = err
        p.standardInput = specIn
        do {
            try p.run()
        } catch {
            return .failure(FormatError("cannot start \(valgrind): \(error)"))
        }
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        guard p.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: "\(dir)/stderr", encoding: .utf8)) ?? ""
            let tail = text.split(separator: "\n").suffix(3).joined(separator: " | ")
            return .failure(FormatError("valgrind exited with \(p.terminationStatus): \(tail)"))
        }

        // Find the dump our trigger produced.
        let prefix = "gobench:\(benchmark):rep=0:n="
        let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("callgrind.out") }.sorted()
        for f in files {
            guard let text = try? String(contentsOfFile: "\(dir)/\(f)", encoding: .utf8),
                  let dump = try? CallgrindDump.parse(text),
                  let request = dump.requestName, request.hasPrefix(prefix),
                  let n = Int(request.dropFirst(prefix.count)),
                  let ir = dump.total("Ir") else { continue }
            return .success(Measurement(instructions: ir, n: n, dumpPath: "\(dir)/\(f)"))
        }
        return .failure(FormatError("no callgrind dump with trigger \(prefix)... in \(dir) (\(files.count) files)"))
    }

    private var strippedCopy: String??

    /// The binary the child runs: a copy without DWARF sections where
    /// `objcopy` is available, else `executable` itself. valgrind 3.19
    /// gives up on the DWARF of Swift 6.3 debug builds ("Possibly
    /// corrupted debuginfo file"); the code, and so the instruction count,
    /// is byte for byte the same, and the symbol table still names the
    /// functions in the dumps.
    func childExecutable() -> String {
        lock.withLock { strippedChildLocked() }
    }

    /// `childExecutable`, with `lock` held.
    private func strippedChildLocked() -> String {
        if let known = strippedCopy { return known ?? executable }
        var result: String?
        if let objcopy = Subprocess.find("objcopy") {
            let fm = FileManager.default
            let dir = fm.temporaryDirectory.appendingPathComponent(
                "gobench-callgrind-exe-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))").path
            if (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil {
                tempDirectories.append(dir)
                let target = "\(dir)/gobench"
                let p = Process()
                p.executableURL = URL(fileURLWithPath: objcopy)
                p.arguments = ["--strip-debug", executable, target]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                if (try? p.run()) != nil {
                    p.waitUntilExit()
                    if p.terminationStatus == 0 && fm.isExecutableFile(atPath: target) { result = target }
                }
            }
        }
        strippedCopy = .some(result)
        return result ?? executable
    }

    /// An anchored regex matching exactly `name`.
    public static func exactPattern(_ name: String) -> String {
        var s = "^"
        for c in name {
            if "\\^$.|?*+()[]{}".contains(c) { s.append("\\") }
            s.append(c)
        }
        return s + "$"
    }

    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func version(of valgrind: String) -> String? {
        guard let r = try? Subprocess.run(valgrind, ["--version"]) else { return nil }
        let s = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }

    private func warn(_ message: String) {
        let first = lock.withLock { warned.insert(message).inserted }
        if first { FileHandle.standardError.write(Data("gobench: warning: \(message)\n".utf8)) }
    }
}

/// A probe with nothing to do on the worker thread.
final class IdleProbe: InstrumentProbe {
    func start() {}
    func stop() {}
}
