// The size-class generator: a port of Go 1.19's runtime/mksizeclasses.go.
//
// Design. Go keeps the generator as a `go run` program beside the runtime
// and checks its output in. Here the algorithm lives in GoRuntime (behind
// `@_spi(Generator)`) so that two clients can share one copy of it:
//   - the `mksizeclasses` executable target, which writes
//     Sources/GoRuntime/Malloc/SizeClasses.swift, and
//   - the tests, which regenerate the text in-process and fail if it differs
//     from the checked-in file by a single byte, and which compare the
//     computed classes with the tables the allocator was compiled with.
// Nothing in the allocator calls this file at run time.
//
// The algorithm (mksizeclasses.go, makeClasses):
//   1. Walk sizes from 8 to 32 KiB in steps of `align`; the step grows at
//      powers of two (16 from 32 B, size/8 from 128 B, 256 from 2 KiB) so
//      that the per-object rounding waste stays under 12.5%.
//   2. For each size pick the smallest span (in 8 KiB pages) whose tail
//      waste is at most 1/8 of the span.
//   3. If that span size and object count equal the previous class's, the
//      new size just widens the previous class (same objects per span, no
//      reason for a new class).
//   4. Finally grow every class to the largest multiple of 128 that still
//      fits the same object count in its span ("use all of the span").
//   5. Check the division magic: (n * (2^32/size + 1)) >> 32 == n / size for
//      every offset n in the span, so objIndex can multiply instead of
//      divide (mbitmap.go, mspan.objIndex).
// The class count must come out as 68 (67 real classes + the dummy class 0),
// exactly as Go 1.19 asserts.

#if canImport(Glibc)
import Glibc
#endif

/// The size-class algorithm of Go's runtime/mksizeclasses.go.
@_spi(Generator)
public enum SizeClassGenerator {
    /// Largest small object (Go's `_MaxSmallSize`); larger ones get their own span.
    public static let maxSmallSize = 32 << 10
    /// Granularity of `size_to_class8` (sizes up to `smallSizeMax`).
    public static let smallSizeDiv = 8
    /// Upper bound of `size_to_class8`; above it `size_to_class128` applies.
    public static let smallSizeMax = 1024
    /// Granularity of `size_to_class128`.
    public static let largeSizeDiv = 128
    /// log2 of the page size (8 KiB pages).
    public static let pageShift = 13
    public static let pageSize = 1 << pageShift
    /// Go 1.19's class count, including the unused class 0.
    public static let expectedClassCount = 68

    /// One size class: its object size and pages per span.
    public struct SizeClass: Equatable, Sendable {
        public var size: Int
        public var npages: Int
    }

    @inline(__always)
    static func powerOfTwo(_ x: Int) -> Bool { x != 0 && x & (x - 1) == 0 }

    /// mksizeclasses.go `makeClasses`: the 68 classes, class 0 a dummy.
    public static func makeClasses() -> [SizeClass] {
        var classes = [SizeClass(size: 0, npages: 0)]  // class #0 is a dummy entry

        var align = 8
        var size = align
        while size <= maxSmallSize {
            if powerOfTwo(size) {  // bump the alignment once in a while
                if size >= 2048 {
                    align = 256
                } else if size >= 128 {
                    align = size / 8
                } else if size >= 32 {
                    align = 16  // Go's heap bitmaps assume 16-byte alignment from 32 bytes
                }
            }
            precondition(powerOfTwo(align), "incorrect alignment")

            // Make the allocation size a multiple of pages such that the
            // leftover is less than 1/8 of the total.
            var allocsize = pageSize
            while allocsize % size > allocsize / 8 {
                allocsize += pageSize
            }
            let npages = allocsize / pageSize

            // Same span size and object count as the previous class: merge.
            let last = classes[classes.count - 1]
            if classes.count > 1 && npages == last.npages && allocsize / size == allocsize / last.size {
                classes[classes.count - 1].size = size
            } else {
                classes.append(SizeClass(size: size, npages: npages))
            }
            size += align
        }

        // Increase object sizes if we can fit the same number of objects
        // in a span: less tail waste, same count.
        for i in 1..<classes.count {
            let psize = classes[i].npages * pageSize
            let newSize = (psize / (psize / classes[i].size)) & ~(largeSizeDiv - 1)
            if newSize > classes[i].size { classes[i].size = newSize }
        }

        precondition(classes.count == expectedClassCount, "number of size classes has changed")
        for c in classes { checkDivMagic(c) }
        return classes
    }

    /// The 32-bit reciprocal of mbitmap.go's objIndex: `^uint32(0)/size + 1`.
    public static func divMagic(_ size: Int) -> UInt32 {
        size == 0 ? 0 : UInt32.max / UInt32(size) &+ 1
    }

    /// mksizeclasses.go `computeDivMagic`: proves that 32 bits of precision
    /// divide every offset in the span exactly, by the same two checks.
    static func checkDivMagic(_ c: SizeClass) {
        let d = c.size
        if d == 0 { return }
        let max = c.npages * pageSize
        let n = Int.bitWidth - max.leadingZeroBitCount  // bits.Len(max)
        var f: Int
        if powerOfTwo(d) {
            f = d.trailingZeroBitCount
        } else {
            var l = 0
            while true {
                if d <= ((1 << (n + l)) % d) + (1 << l) { f = n + l; break }
                l += 1
            }
        }
        precondition(f <= 32, "size class \(d) requires more than 32 bits of precision")
        let m = UInt64(divMagic(d))
        for x in 0...max where UInt32(truncatingIfNeeded: (UInt64(x) &* m) >> 32) != UInt32(x / d) {
            preconditionFailure("bad 32-bit multiply magic for size \(d) at \(x)")
        }
    }

    /// mksizeclasses.go's `size_to_class8` table: class for each size/8.
    public static func sizeToClass8(_ classes: [SizeClass]) -> [Int] {
        (0...(smallSizeMax / smallSizeDiv)).map { i in
            classes.firstIndex { $0.size >= i * smallSizeDiv }!
        }
    }

    /// mksizeclasses.go's `size_to_class128` table: class for each
    /// (size-1024)/128.
    public static func sizeToClass128(_ classes: [SizeClass]) -> [Int] {
        (0...((maxSmallSize - smallSizeMax) / largeSizeDiv)).map { i in
            classes.firstIndex { $0.size >= smallSizeMax + i * largeSizeDiv }!
        }
    }

    // MARK: - Rendering SizeClasses.swift

    /// printf-style formatting through the C library, so the comment table
    /// rounds percentages exactly as Go's fmt (%8.2f) does.
    static func cFormat(_ format: String, _ args: CVarArg...) -> String {
        withVaList(args) { va in
            var buf = [CChar](repeating: 0, count: 256)
            _ = vsnprintf(&buf, buf.count, format, va)
            return String(cString: buf)
        }
    }

    /// `%-<width>s`: left-justified in `width` columns.
    static func left(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// mksizeclasses.go `printComment`: the class table and the alignment
    /// table, byte for byte as Go prints them, as Swift comments.
    static func comment(_ classes: [SizeClass]) -> String {
        var out = "// " + [left("class", 5), left("bytes/obj", 9), left("bytes/span", 10), left("objects", 7),
                           left("tail waste", 10), left("max waste", 9), left("min align", 9)].joined(separator: "  ") + "\n"
        var prevSize = 0
        var minAligns = [Int](repeating: 0, count: pageShift + 1)
        for (i, c) in classes.enumerated() where i > 0 {
            let spanSize = c.npages * pageSize
            let objects = spanSize / c.size
            let tailWaste = spanSize - c.size * (spanSize / c.size)
            let maxWaste = Double((c.size - prevSize - 1) * objects + tailWaste) / Double(spanSize)
            let alignBits = min(c.size.trailingZeroBitCount, pageShift)
            for j in minAligns.indices {
                if j > alignBits {
                    minAligns[j] = 0
                } else if minAligns[j] == 0 {
                    minAligns[j] = c.size
                }
            }
            prevSize = c.size
            out += cFormat("// %5d  %9d  %10d  %7d  %10d  %8.2f%%  %9d\n",
                           i, c.size, spanSize, objects, tailWaste, 100 * maxWaste, 1 << alignBits)
        }
        out += "\n"
        out += "// " + [left("alignment", 9), left("bits", 4), left("min obj size", 12)].joined(separator: "  ") + "\n"
        for (bits, size) in minAligns.enumerated() {
            if size == 0 { break }
            if bits + 1 < minAligns.count && size == minAligns[bits + 1] { continue }
            out += cFormat("// %9d  %4d  %12d\n", 1 << bits, bits, size)
        }
        out += "\n"
        return out
    }

    static func arrayLiteral(_ name: String, _ type: String, _ doc: String, _ values: [String]) -> String {
        var out = "/// \(doc)\n@usableFromInline\nlet \(name): [\(type)] = [\n"
        var line = "   "
        for v in values {
            if line.count + v.count + 2 > 80 {
                out += line + "\n"
                line = "   "
            }
            line += " \(v),"
        }
        out += line + "\n]\n"
        return out
    }

    /// The complete text of SizeClasses.swift (mksizeclasses.go `main`).
    public static func render() -> String {
        let classes = makeClasses()
        var out = """
        // Code generated by mksizeclasses (Sources/mksizeclasses, a port of Go 1.19's
        // runtime/mksizeclasses.go); DO NOT EDIT.
        // Regenerate with: swift run mksizeclasses
        // A test (MallocSizeClassTests) fails if regenerating would change this file.
        //
        // Mirrors runtime/sizeclasses.go. Columns: bytes/obj is the class's object
        // size, bytes/span the span it carves (whole 8 KiB pages), tail waste what
        // is left at the span's end, max waste the worst internal fragmentation
        // (a request one byte above the previous class), min align the largest
        // power of two dividing the object size (object addresses are that
        // aligned because spans start on page boundaries).


        """
        out += comment(classes)
        out += """
        /// Largest small object; larger requests get a span of their own.
        @usableFromInline let maxSmallSize = \(maxSmallSize)
        /// Granularity of `sizeToClass8`.
        @usableFromInline let smallSizeDiv = \(smallSizeDiv)
        /// Sizes up to this use `sizeToClass8`, larger ones `sizeToClass128`.
        @usableFromInline let smallSizeMax = \(smallSizeMax)
        /// Granularity of `sizeToClass128`.
        @usableFromInline let largeSizeDiv = \(largeSizeDiv)
        /// Size classes including the unused class 0.
        @usableFromInline let numSizeClasses = \(classes.count)
        /// log2 of the allocator's page size.
        @usableFromInline let pageShift = \(pageShift)


        """
        out += arrayLiteral("classToSize", "UInt16", "Object size of each class (Go's class_to_size).",
                            classes.map { String($0.size) })
        out += arrayLiteral("classToAllocNPages", "UInt8", "Pages per span of each class (Go's class_to_allocnpages).",
                            classes.map { String($0.npages) })
        out += arrayLiteral("classToDivMagic", "UInt32",
                            "`UInt32.max / size + 1` per class, for objIndex (Go's class_to_divmagic).",
                            classes.map { String(divMagic($0.size)) })
        out += arrayLiteral("sizeToClass8", "UInt8", "Class of a size up to 1024, indexed by (size + 7) / 8 (Go's size_to_class8).",
                            sizeToClass8(classes).map { String($0) })
        out += arrayLiteral("sizeToClass128", "UInt8",
                            "Class of a size above 1024, indexed by (size - 1024 + 127) / 128 (Go's size_to_class128).",
                            sizeToClass128(classes).map { String($0) })
        return out
    }
}
