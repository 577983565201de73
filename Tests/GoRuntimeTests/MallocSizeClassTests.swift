// Size classes: the generated file is current, the tables are Go 1.19's,
// and the size -> class lookup picks the smallest class that fits.

import Testing
@testable @_spi(Generator) import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Go 1.19 runtime/sizeclasses.go class_to_size and class_to_allocnpages,
/// copied from the Go source as the reference.
private let goClassToSize = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
    384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304,
    2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
]
private let goClassToAllocNPages = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4,
]

func mallocReadFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The integers of a Go array literal `var <name> = [...]T{...}`.
func mallocGoArray(_ source: String, _ name: String) -> [Int]? {
    let needle = Array("var \(name) = ".utf8)
    let hay = Array(source.utf8)
    guard let at = (0...(hay.count - needle.count)).first(where: { hay[$0..<($0 + needle.count)].elementsEqual(needle) })
    else { return nil }
    let rest = Substring(String(decoding: hay[(at + needle.count)...], as: UTF8.self))
    guard let open = rest.firstIndex(of: "{"), let close = rest.firstIndex(of: "}") else { return nil }
    let body = rest[rest.index(after: open)..<close]
    // Entries are plain integers or `^uint32(0)/N + 1`.
    return body.split(separator: ",").map { $0.trimmingCharacters(in: " \n\t") }.filter { !$0.isEmpty }.map { e in
        if e.hasPrefix("^uint32(0)/") {
            let n = Int(e.dropFirst("^uint32(0)/".count).split(separator: " ")[0].split(separator: "+")[0])!
            return Int(UInt32.max / UInt32(n) + 1)
        }
        return Int(e)!
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

@Suite("Malloc size classes")
struct MallocSizeClassTests {
    /// Regenerating SizeClasses.swift must not change it.
    @Test func generatedFileIsCurrent() throws {
        let here = #filePath  // .../Tests/GoRuntimeTests/MallocSizeClassTests.swift
        let root = here.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        let path = root + "/Sources/GoRuntime/Malloc/SizeClasses.swift"
        let onDisk = try #require(mallocReadFile(path), "cannot read \(path)")
        let regenerated = SizeClassGenerator.render()
        if onDisk != regenerated {
            let a = onDisk.split(separator: "\n", omittingEmptySubsequences: false)
            let b = regenerated.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("SizeClasses.swift is stale at line \(first + 1); run `swift run mksizeclasses`")
        }
    }

    /// The compiled tables are the generator's output and Go 1.19's table.
    @Test func tablesMatchGo119() {
        let classes = SizeClassGenerator.makeClasses()
        #expect(classes.count == 68)
        #expect(classes.map(\.size) == goClassToSize)
        #expect(classes.map(\.npages) == goClassToAllocNPages)
        #expect(Allocator.classSizes == goClassToSize)
        #expect(Allocator.classPages == goClassToAllocNPages)
        #expect(classToDivMagic.map(Int.init) == goClassToSize.map { $0 == 0 ? 0 : Int(UInt32.max / UInt32($0) + 1) })
        #expect(sizeToClass8.map(Int.init) == SizeClassGenerator.sizeToClass8(classes))
        #expect(sizeToClass128.map(Int.init) == SizeClassGenerator.sizeToClass128(classes))
        #expect(sizeToClass8.count == 129 && sizeToClass128.count == 249)
    }

    /// Where the Go 1.19 source is installed, compare every table and the
    /// comment table with it directly.
    @Test(.enabled(if: access("/usr/lib/go-1.19/src/runtime/sizeclasses.go", R_OK) == 0))
    func tablesMatchInstalledGoSource() throws {
        let go = try #require(mallocReadFile("/usr/lib/go-1.19/src/runtime/sizeclasses.go"))
        #expect(mallocGoArray(go, "class_to_size") == classToSize.map(Int.init))
        #expect(mallocGoArray(go, "class_to_allocnpages") == classToAllocNPages.map(Int.init))
        #expect(mallocGoArray(go, "class_to_divmagic") == classToDivMagic.map(Int.init))
        #expect(mallocGoArray(go, "size_to_class8") == sizeToClass8.map(Int.init))
        #expect(mallocGoArray(go, "size_to_class128") == sizeToClass128.map(Int.init))
        let goComment = go.split(separator: "\n").filter { $0.hasPrefix("// ") && !$0.contains("Code generated") }
        let ours = Set(SizeClassGenerator.render().split(separator: "\n"))
        #expect(goComment.count == 1 + 67 + 1 + 7)
        for line in goComment { #expect(ours.contains(line), "missing comment line: \(line)") }
    }

    /// Every size from 1 to 32768 maps to the smallest class that fits.
    @Test func everySizeMapsToSmallestFittingClass() {
        let sizes = Allocator.classSizes
        for size in 1...32768 {
            let c = Allocator.sizeClass(forSize: size)
            if c < 1 || c >= sizes.count || sizes[c] < size || sizes[c - 1] >= size {
                Issue.record("size \(size) -> class \(c)")
                return
            }
        }
        #expect(Allocator.sizeClass(forSize: 32769) == 0)
        #expect(Allocator.sizeClass(forSize: 0) == 0)
    }
}
