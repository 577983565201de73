// Symbolization after the run: raw instruction addresses to inline chains
// of functions with their source files and lines.
//
// Two sources, in order:
//   1. DWARF, through the toolchain's `llvm-symbolizer` driven once per run
//      in batch mode (as pprof does): every address of every module goes
//      in as one "FILE 0xVADDR" line (from a temporary file), one JSON line
//      comes back over a pipe
//      with the inline chain, innermost first, each frame with its linkage
//      name, file, line and the function's start line. Shared objects'
//      separate debug info under /usr/lib/debug (libc6-dbg) is found by
//      build id. Measured on the release gobench: 70 addresses in 0.25 s,
//      a whole `gobench all` (1,958 addresses, 106 benchmarks) in 0.72 s.
//      Reading .debug_info/.debug_line here instead would mean a DWARF 5
//      line-program and abbreviation parser for the same answer.
//   2. ELF symbol tables (.symtab, then .dynsym), for anything DWARF does
//      not name (no debug info, llvm-symbolizer missing): one frame, no line.
//
// Why not dladdr: it reads only the dynamic symbol table, and a default
// release executable exports no Swift symbols; private, specialized and
// merged Swift functions are only in .symtab.
//
// Invariants:
//   - a module's runtime address = its file vaddr + bias, with the bias of
//     the mapping that contains the address (from the PT_LOAD segment that
//     maps the mapping's file offset); llvm-symbolizer gets file vaddrs;
//   - callers are return addresses: they are looked up at address - 1, so
//     a call that is the last instruction of a function names that
//     function (and its inline chain at the call), not the next one;
//   - every looked-up address is cached; each ELF file is parsed at most
//     once, and llvm-symbolizer runs once per `resolve` batch.

import CGoBench
import Foundation

/// One executable mapping of /proc/self/maps.
public struct MappedModule: Sendable, Equatable {
    public var start: UInt64
    public var limit: UInt64
    public var fileOffset: UInt64
    public var path: String
}

/// One frame of an address's inline chain, as the profile names it.
public struct SymbolizedFunction: Hashable, Sendable {
    /// Readable: demangled and simplified (`HashMap.subscript.getter`,
    /// `closure #2 in closure #1 in accessBenchmarks()`).
    public var name: String
    /// As in the symbol table or DWARF (mangled), or the same as `name`.
    public var systemName: String
    /// The source file (from DWARF), else the module's path.
    public var file: String
    /// The line within `file` this frame was at (0: unknown). Not part of
    /// the function's identity: see `function`.
    public var line: Int = 0
    /// The function's first line (0: unknown).
    public var startLine: Int = 0

    public init(name: String, systemName: String, file: String, line: Int = 0, startLine: Int = 0) {
        self.name = name
        self.systemName = systemName
        self.file = file
        self.line = line
        self.startLine = startLine
    }

    /// The function alone, line cleared: one pprof Function per value.
    public var function: SymbolizedFunction {
        var f = self
        f.line = 0
        return f
    }
}

public final class Symbolizer {
    public private(set) var modules: [MappedModule]
    private var elfs: [String: ELFSymbols?] = [:]
    /// Adjusted address to its inline chain, innermost first.
    private var cache: [UInt64: [SymbolizedFunction]] = [:]
    /// The llvm-symbolizer used (nil: ELF symbols only).
    public let dwarfTool: String?
    /// Seconds spent in `resolve` (the symbolizer process included).
    public private(set) var resolveSeconds = 0.0
    public private(set) var resolvedAddresses = 0

    /// Reads the current process's maps (or the given text, for tests).
    /// `dwarf: false` names frames from the ELF symbol tables only.
    public init(maps: String? = nil, dwarf: Bool = true) {
        let text = maps ?? Symbolizer.readProcFile("/proc/self/maps")
        modules = Symbolizer.parseMaps(text)
        dwarfTool = dwarf ? Symbolizer.findLLVMSymbolizer() : nil
    }

    /// `llvm-symbolizer`: $GOBENCH_LLVM_SYMBOLIZER, then the one next to
    /// `swiftc` (the toolchain's, which knows Swift's DWARF best), then PATH.
    public static func findLLVMSymbolizer() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["GOBENCH_LLVM_SYMBOLIZER"] {
            return p.isEmpty || !FileManager.default.isExecutableFile(atPath: p) ? nil : p
        }
        if let swiftc = Subprocess.find("swiftc", alsoIn: ["/opt/swift/usr/bin"]) {
            let real = URL(fileURLWithPath: swiftc).resolvingSymlinksInPath().deletingLastPathComponent().path
            let p = real + "/llvm-symbolizer"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return Subprocess.find("llvm-symbolizer")
    }

    /// A /proc file read to its end (they report size 0, so readers that
    /// trust the size stop early).
    static func readProcFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Executable, file-backed (or [vdso]) mappings, sorted by address.
    public static func parseMaps(_ text: String) -> [MappedModule] {
        var out: [MappedModule] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count >= 5, f[1].contains("x") else { continue }
            let range = f[0].split(separator: "-")
            guard range.count == 2, let lo = UInt64(range[0], radix: 16), let hi = UInt64(range[1], radix: 16),
                  let off = UInt64(f[2], radix: 16) else { continue }
            let path = f.count == 6 ? f[5].trimmingCharacters(in: .whitespaces) : ""
            guard path.hasPrefix("/") || path == "[vdso]" else { continue }
            out.append(MappedModule(start: lo, limit: hi, fileOffset: off, path: path))
        }
        return out.sorted { $0.start < $1.start }
    }

    /// The mapping containing `address`, by binary search.
    public func moduleIndex(for address: UInt64) -> Int? {
        var lo = 0, hi = modules.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if modules[mid].start <= address { lo = mid + 1 } else { hi = mid }
        }
        let i = lo - 1
        return i >= 0 && address < modules[i].limit ? i : nil
    }

    /// The outermost function at `address` (the one the others were
    /// inlined into); `isReturnAddress` for every frame but the
    /// interrupted leaf.
    public func function(at address: UInt64, isReturnAddress: Bool) -> SymbolizedFunction {
        frames(at: address, isReturnAddress: isReturnAddress).last!
    }

    /// The inline chain at `address`, innermost first; never empty.
    public func frames(at address: UInt64, isReturnAddress: Bool) -> [SymbolizedFunction] {
        let a = isReturnAddress && address > 0 ? address - 1 : address
        if let f = cache[a] { return f }
        resolve([a])
        return cache[a]!
    }

    /// Symbolizes every address not cached yet in one batch: one
    /// llvm-symbolizer run for all of them. Addresses are already adjusted
    /// (return addresses minus one).
    public func resolve<C: Collection>(_ addresses: C) where C.Element == UInt64 {
        let t0 = monotonicNanos()
        defer { resolveSeconds += Double(monotonicNanos() - t0) / 1e9 }
        var todo: [(UInt64, String, UInt64)] = []   // address, module path, file vaddr
        var seen = Set<UInt64>()
        for a in addresses where cache[a] == nil && seen.insert(a).inserted {
            guard let mi = moduleIndex(for: a) else {
                let hex = "0x" + String(a, radix: 16)
                cache[a] = [SymbolizedFunction(name: hex, systemName: hex, file: "")]
                continue
            }
            let m = modules[mi]
            if m.path.hasPrefix("/"), let elf = symbols(of: m.path),
               let bias = elf.bias(mappingStart: m.start, fileOffset: m.fileOffset) {
                todo.append((a, m.path, a &- bias))
            } else {
                cache[a] = [elfFallback(a)]
            }
        }
        resolvedAddresses += todo.count
        var dwarf: [[SymbolizedFunction]?] = []
        if let tool = dwarfTool, !todo.isEmpty {
            dwarf = Symbolizer.runLLVMSymbolizer(tool, todo.map { ($0.1, $0.2) })
        }
        for (k, t) in todo.enumerated() {
            if k < dwarf.count, let chain = dwarf[k], !chain.isEmpty {
                cache[t.0] = chain
            } else {
                cache[t.0] = [elfFallback(t.0)]
            }
        }
    }

    /// The symbol-table name of `a`, or module+offset.
    private func elfFallback(_ a: UInt64) -> SymbolizedFunction {
        guard let mi = moduleIndex(for: a) else {
            let hex = "0x" + String(a, radix: 16)
            return SymbolizedFunction(name: hex, systemName: hex, file: "")
        }
        let m = modules[mi]
        let base = (m.path as NSString).lastPathComponent
        if m.path.hasPrefix("/"), let elf = symbols(of: m.path),
           let bias = elf.bias(mappingStart: m.start, fileOffset: m.fileOffset),
           let mangled = elf.symbol(at: a &- bias) {
            return SymbolizedFunction(name: Demangler.simplified(mangled), systemName: mangled, file: m.path)
        }
        let fallback = "\(base)+0x\(String(a - m.start + m.fileOffset, radix: 16))"
        return SymbolizedFunction(name: fallback, systemName: fallback, file: m.path)
    }

    /// One llvm-symbolizer process for `queries` (module path, file vaddr):
    /// the answers in order, nil where DWARF had no function. The queries
    /// go in from a temporary file, not a pipe: a pipe's write end can be
    /// inherited by a child that another thread spawns at the same moment
    /// (Foundation's pipes are not close-on-exec), and llvm-symbolizer
    /// would then wait for an end of input that never comes.
    static func runLLVMSymbolizer(_ tool: String, _ queries: [(String, UInt64)]) -> [[SymbolizedFunction]?] {
        var text = ""
        for (path, v) in queries { text += "\"\(path)\" 0x\(String(v, radix: 16))\n" }
        let inputPath = NSTemporaryDirectory() + "gobench-symbolize-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).txt"
        guard FileManager.default.createFile(atPath: inputPath, contents: Data(text.utf8)),
              let input = FileHandle(forReadingAtPath: inputPath) else { return [] }
        defer { try? input.close(); try? FileManager.default.removeItem(atPath: inputPath) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["--inlining", "--output-style=JSON", "--functions=linkage", "--no-demangle"]
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try p.run() } catch { return [] }
        // Raw reads with EINTR retried: the sampler's SIGPROF may hit this
        // process's threads at any time, and FileHandle traps on EINTR.
        var out = Data()
        withExtendedLifetime(output) {
            let rfd = output.fileHandleForReading.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(rfd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                out.append(contentsOf: chunk[0..<n])
            }
        }
        p.waitUntilExit()
        var answers: [[SymbolizedFunction]?] = []
        answers.reserveCapacity(queries.count)
        for line in out.split(separator: UInt8(ascii: "\n")) {
            answers.append(parseAnswer(Data(line)))
        }
        return answers.count == queries.count ? answers : []
    }

    /// One JSON answer line: its inline chain, or nil when DWARF had none.
    static func parseAnswer(_ line: Data) -> [SymbolizedFunction]? {
        guard let obj = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              let symbols = obj["Symbol"] as? [[String: Any]] else { return nil }
        var chain: [SymbolizedFunction] = []
        for s in symbols {
            guard let fn = s["FunctionName"] as? String, !fn.isEmpty, fn != "??" else { return nil }
            var file = s["FileName"] as? String ?? ""
            // "/<compiler-generated>" (thunks, witnesses) names no file.
            if file == "??" || file.hasSuffix("<compiler-generated>") { file = "" }
            var startFile = s["StartFileName"] as? String ?? ""
            if startFile == "??" || startFile.hasSuffix("<compiler-generated>") { startFile = "" }
            chain.append(SymbolizedFunction(name: Demangler.simplified(fn), systemName: fn,
                                            file: startFile.isEmpty ? file : startFile,
                                            line: s["Line"] as? Int ?? 0, startLine: s["StartLine"] as? Int ?? 0))
        }
        return chain.isEmpty ? nil : chain
    }

    private func symbols(of path: String) -> ELFSymbols? {
        if let e = elfs[path] { return e }
        let e = ELFSymbols(path: path)
        elfs[path] = e
        return e
    }
}

/// The function symbols of one ELF64 little-endian file.
final class ELFSymbols {
    private struct Sym { var value: UInt64; var size: UInt64; var nameOffset: Int }
    private struct Load { var offset: UInt64; var vaddr: UInt64; var filesz: UInt64 }
    private let data: Data
    private var syms: [Sym] = []
    private var loads: [Load] = []
    /// .plt* sections (vaddr ranges): stubs have no symbols, and the
    /// nearest preceding one (`_init`) would be a wrong name.
    private var plts: [Range<UInt64>] = []

    // ELF constants (elf.h).
    private static let ptLoad: UInt32 = 1
    private static let shtSymtab: UInt32 = 2
    private static let shtDynsym: UInt32 = 11
    private static let sttFunc: UInt8 = 2
    private static let sttGnuIfunc: UInt8 = 10

    init?(path: String) {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped),
              d.count >= 64, d[0] == 0x7f, d[1] == 0x45, d[2] == 0x4c, d[3] == 0x46, d[4] == 2, d[5] == 1
        else { return nil }
        data = d
        guard parse() else { return nil }
    }

    private func u16(_ o: Int) -> UInt16 { data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt16.self) } }
    private func u32(_ o: Int) -> UInt32 { data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt32.self) } }
    private func u64(_ o: Int) -> UInt64 { data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt64.self) } }

    private func parse() -> Bool {
        let n = data.count
        let phoff = Int(u64(32)), shoff = Int(u64(40))
        let phentsize = Int(u16(54)), phnum = Int(u16(56)), shentsize = Int(u16(58)), shnum = Int(u16(60))
        for i in 0..<phnum {
            let p = phoff + i * phentsize
            guard p + 56 <= n else { return false }
            if u32(p) == ELFSymbols.ptLoad {
                loads.append(Load(offset: u64(p + 8), vaddr: u64(p + 16), filesz: u64(p + 32)))
            }
        }
        guard shoff > 0, shentsize >= 64, shoff + shnum * shentsize <= n else { return !loads.isEmpty }
        let shstrndx = Int(u16(62))
        if shstrndx < shnum {
            let names = Int(u64(shoff + shstrndx * shentsize + 24))
            for i in 0..<shnum {
                let sh = shoff + i * shentsize
                let nameAt = names + Int(u32(sh))
                guard nameAt + 4 < n else { continue }
                let isPlt = data.withUnsafeBytes { raw in
                    strncmp(raw.baseAddress!.advanced(by: nameAt).assumingMemoryBound(to: CChar.self), ".plt", 4) == 0
                }
                let addr = u64(sh + 16), size = u64(sh + 32)
                if isPlt && size > 0 { plts.append(addr..<(addr + size)) }
            }
        }
        // .symtab first: where both name an address, its (local) names win.
        for wanted in [ELFSymbols.shtSymtab, ELFSymbols.shtDynsym] {
            for i in 0..<shnum {
                let s = shoff + i * shentsize
                guard u32(s + 4) == wanted else { continue }
                let off = Int(u64(s + 24)), size = Int(u64(s + 32)), link = Int(u32(s + 40))
                let ent = max(24, Int(u64(s + 56)))
                guard link < shnum, off + size <= n else { continue }
                let strs = shoff + link * shentsize
                let strOff = Int(u64(strs + 24)), strSize = Int(u64(strs + 32))
                guard strOff + strSize <= n else { continue }
                var k = off
                while k + 24 <= off + size {
                    let nameIdx = Int(u32(k)), info = data[data.startIndex + k + 4], shndx = u16(k + 6)
                    let type = info & 0xf
                    let value = u64(k + 8), symSize = u64(k + 16)
                    if (type == ELFSymbols.sttFunc || type == ELFSymbols.sttGnuIfunc), shndx != 0, value != 0,
                       nameIdx > 0, nameIdx < strSize {
                        syms.append(Sym(value: value, size: symSize, nameOffset: strOff + nameIdx))
                    }
                    k += ent
                }
            }
        }
        // Stable sort keeps .symtab entries before .dynsym ones at equal
        // addresses; then keep one symbol per address, preferring a sized one.
        syms = syms.enumerated().sorted { ($0.element.value, $0.offset) < ($1.element.value, $1.offset) }.map(\.element)
        var unique: [Sym] = []
        unique.reserveCapacity(syms.count)
        for s in syms {
            if let last = unique.last, last.value == s.value {
                if last.size == 0 && s.size > 0 { unique[unique.count - 1] = s }
                continue
            }
            unique.append(s)
        }
        syms = unique
        return true
    }

    /// runtime - file vaddr for a mapping that starts at `mappingStart` and
    /// maps file offset `fileOffset`.
    func bias(mappingStart: UInt64, fileOffset: UInt64) -> UInt64? {
        for l in loads where fileOffset >= l.offset && fileOffset < l.offset + max(l.filesz, 1) {
            return mappingStart &- (l.vaddr &+ (fileOffset - l.offset))
        }
        return loads.isEmpty ? nil : mappingStart &- fileOffset
    }

    /// The name of the function containing file vaddr `v`.
    func symbol(at v: UInt64) -> String? {
        if plts.contains(where: { $0.contains(v) }) { return "[plt]" }
        var lo = 0, hi = syms.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if syms[mid].value <= v { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let s = syms[lo - 1]
        if s.size > 0 && v >= s.value + s.size { return nil }
        return data.withUnsafeBytes { raw -> String in
            let p = raw.baseAddress!.advanced(by: s.nameOffset).assumingMemoryBound(to: CChar.self)
            return String(cString: p)
        }
    }
}

/// Swift names through the runtime's own demangler.
public enum Demangler {
    /// The full demangling (`GoRuntime.HashMap.subscript.getter : (Swift.Int) -> Swift.Int?`),
    /// or nil when `mangled` is not a Swift symbol.
    public static func demangle(_ mangled: String) -> String? {
        guard mangled.hasPrefix("$s") || mangled.hasPrefix("_$s") || mangled.hasPrefix("$S")
                || mangled.hasPrefix("_$S") || mangled.hasPrefix("_T0") else { return nil }
        return mangled.withCString { p -> String? in
            guard let out = swift_demangle(p, strlen(p), nil, nil, 0) else { return nil }
            defer { free(out) }
            return String(cString: out)
        }
    }

    /// `swift_demangle_getSimplifiedDemangledName` of the toolchain's
    /// libswiftDemangle.so (what `swift demangle --simplified` prints),
    /// loaded privately from next to `swiftc`; nil where it is missing.
    private typealias SimplifiedFn = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int
    private struct Loaded: @unchecked Sendable { var fn: SimplifiedFn? }
    private static let simplifier: Loaded = {
        var dirs: [String] = []
        if let swiftc = Subprocess.find("swiftc", alsoIn: ["/opt/swift/usr/bin"]) {
            dirs.append(URL(fileURLWithPath: swiftc).resolvingSymlinksInPath()
                .deletingLastPathComponent().deletingLastPathComponent().path + "/lib")
        }
        for d in dirs {
            guard let h = dlopen(d + "/libswiftDemangle.so", RTLD_NOW | RTLD_LOCAL),
                  let sym = dlsym(h, "swift_demangle_getSimplifiedDemangledName") else { continue }
            return Loaded(fn: unsafeBitCast(sym, to: SimplifiedFn.self))
        }
        return Loaded(fn: nil)
    }()

    /// libstdc++'s `__cxa_demangle` (the Swift runtime's own C++ frames).
    private typealias CxaDemangleFn = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?,
                                                      UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?) -> UnsafeMutablePointer<CChar>?
    private struct LoadedCxa: @unchecked Sendable { var fn: CxaDemangleFn? }
    private static let cxa: LoadedCxa = {
        guard let sym = dlsym(nil, "__cxa_demangle") else { return LoadedCxa(fn: nil) }
        return LoadedCxa(fn: unsafeBitCast(sym, to: CxaDemangleFn.self))
    }()

    /// An Itanium C++ name demangled, or nil.
    static func cxxDemangle(_ mangled: String) -> String? {
        guard let fn = cxa.fn else { return nil }
        var status: Int32 = 0
        guard let out = mangled.withCString({ fn($0, nil, nil, &status) }), status == 0 else { return nil }
        defer { free(out) }
        return String(cString: out)
    }

    /// Whether `simplified` uses the toolchain's simplified demangler
    /// (else it falls back to `readable`).
    public static var hasSimplifiedDemangler: Bool { simplifier.fn != nil }

    /// The name as `swift demangle --simplified` prints it: closure context
    /// and the enclosing function kept, modules, types and signatures
    /// dropped (`closure #2 in closure #1 in accessBenchmarks()`,
    /// `HashMap.subscript.getter`, `specialized HashMap._lookup(_:)`).
    /// Non-Swift names come back unchanged; without libswiftDemangle.so,
    /// `readable`.
    public static func simplified(_ mangled: String) -> String {
        if mangled.hasPrefix("_Z") { return cxxDemangle(mangled) ?? mangled }
        guard demangle(mangled) != nil else { return mangled }
        guard let fn = simplifier.fn else { return readable(mangled) }
        var buf = [CChar](repeating: 0, count: 1024)
        var n = mangled.withCString { fn($0, &buf, buf.count) }
        if n >= buf.count {
            buf = [CChar](repeating: 0, count: n + 1)
            n = mangled.withCString { fn($0, &buf, buf.count) }
        }
        guard n > 0 else { return readable(mangled) }
        return String(cString: buf)
    }

    /// A readable name: demangled, with signatures, parameter lists and
    /// specialization prefixes dropped (`GoRuntime.HashMap.subscript.getter`,
    /// `closure #1 in GoBenchKitTests.work`), "[specialized]" appended where
    /// a specialization was dropped. Non-Swift names come back unchanged.
    public static func readable(_ mangled: String) -> String {
        guard var s = demangle(mangled) else { return mangled }
        s = dropPrivateDiscriminators(s)
        var specialized = false
        for prefix in ["generic specialization <", "function signature specialization <", "merged ",
                       "partial apply forwarder for ", "outlined ", "reabstraction thunk helper from "] {
            while s.hasPrefix(prefix) {
                guard prefix.hasSuffix("<") else {
                    if prefix == "merged " { s.removeFirst(prefix.count); continue }
                    break
                }
                // Skip to the matching '>' and the " of " after it.
                var depth = 0
                var idx = s.startIndex
                while idx < s.endIndex {
                    let c = s[idx]
                    if c == "<" { depth += 1 } else if c == ">" { depth -= 1; if depth == 0 { break } }
                    idx = s.index(after: idx)
                }
                guard idx < s.endIndex else { break }
                let rest = s[s.index(after: idx)...]
                guard rest.hasPrefix(" of ") else { break }
                s = String(rest.dropFirst(4))
                specialized = true
            }
        }
        s = dropSignatures(s)
        return specialized ? s + " [specialized]" : s
    }

    /// "(accessBenchmarks in _6F3A...)" (a private declaration's
    /// discriminator) becomes "accessBenchmarks"; without this the group
    /// would read as a parameter list and the name would be lost.
    static func dropPrivateDiscriminators(_ text: String) -> String {
        var s = text
        while let r = s.range(of: #"\(([^()\s]+) in _[0-9A-F]+\)"#, options: .regularExpression) {
            let inner = s[r].dropFirst().prefix { $0 != " " }
            s.replaceSubrange(r, with: inner)
        }
        return s
    }

    /// Removes " : type" tails and top-level "(...)", "(...) -> T" groups,
    /// keeping " in " joins of closures.
    static func dropSignatures(_ text: String) -> String {
        let chars = Array(text)
        var out: [Character] = []
        var i = 0
        func skipGroup(_ j: Int) -> Int {   // j at an opening bracket; returns index after its match
            var depth = 0
            var k = j
            while k < chars.count {
                switch chars[k] {
                case "(", "[", "<", "{": depth += 1
                case ")", "]", ">", "}":
                    if !(chars[k] == ">" && k > 0 && chars[k - 1] == "-") { depth -= 1 }
                default: break
                }
                k += 1
                if depth == 0 { return k }
            }
            return k
        }
        func startsWith(_ s: String, at j: Int) -> Bool {
            let a = Array(s)
            return j + a.count <= chars.count && Array(chars[j..<(j + a.count)]) == a
        }
        // From `start`, past a type (nested brackets balanced; "->" is not a
        // closing ">") up to " in " (closure context follows) or the end.
        func skipTypeTail(_ start: Int) -> Int {
            var k = start
            var depth = 0
            while k < chars.count {
                if depth == 0 && startsWith(" in ", at: k) { break }
                switch chars[k] {
                case "(", "[", "<", "{": depth += 1
                case ")", "]", "}": depth -= 1
                case ">": if chars[k - 1] != "-" { depth -= 1 }
                default: break
                }
                k += 1
            }
            return k
        }
        while i < chars.count {
            if startsWith(" : ", at: i) {
                // Type tail: drop up to " in " (closure context follows) or the end.
                i = skipTypeTail(i + 3)
                continue
            }
            if chars[i] == "(" {
                var k = skipGroup(i)
                // Effects and a return type: " async", " throws", " -> T".
                while true {
                    if startsWith(" async", at: k) { k += 6; continue }
                    if startsWith(" throws", at: k) { k += 7; continue }
                    if startsWith(" -> ", at: k) {
                        k = skipTypeTail(k + 4)
                        continue
                    }
                    break
                }
                // "closure #1 (Int) -> () in f": keep one space before "in".
                if out.last == " " && startsWith(" in ", at: k) { out.removeLast() }
                i = k
                continue
            }
            out.append(chars[i])
            i += 1
        }
        // Removed groups can leave doubled spaces.
        var collapsed: [Character] = []
        for c in out where !(c == " " && collapsed.last == " ") { collapsed.append(c) }
        return String(collapsed).trimmingCharacters(in: .whitespaces)
    }
}
