// pprof's profile.proto (github.com/google/pprof/proto/profile.proto),
// encoded and decoded by hand: a profile is a handful of repeated messages
// whose strings all live in one string table (index 0 is ""), gzipped on
// disk. Field numbers below are the proto's. The encoder writes packed
// repeated scalars; the decoder accepts packed and unpacked, as protobuf
// requires, so it reads Go's own `go test -cpuprofile` files too.
//
// Invariants of an encoded profile (checked by `validate()`, as pprof's
// own `Profile.CheckValid` does): ids are non-zero and unique per kind;
// every sample has one value per sample type; every location's mapping
// (when non-zero) and every line's function exist.

import CGoBench
import Foundation

/// A decoded or to-be-encoded profile.proto.
public struct PprofProfile: Sendable, Equatable {
    public struct ValueType: Sendable, Equatable { public var type: String; public var unit: String
        public init(type: String, unit: String) { self.type = type; self.unit = unit } }
    public struct Sample: Sendable, Equatable {
        /// Leaf first.
        public var locationIDs: [UInt64]
        public var values: [Int64]
        public init(locationIDs: [UInt64], values: [Int64]) { self.locationIDs = locationIDs; self.values = values }
    }
    public struct Mapping: Sendable, Equatable {
        public var id: UInt64, start: UInt64, limit: UInt64, offset: UInt64
        public var file: String
        public var hasFunctions: Bool
        public var hasFilenames = false
        public var hasLineNumbers = false
        public var hasInlineFrames = false
        public init(id: UInt64, start: UInt64, limit: UInt64, offset: UInt64, file: String, hasFunctions: Bool,
                    hasFilenames: Bool = false, hasLineNumbers: Bool = false, hasInlineFrames: Bool = false) {
            self.id = id; self.start = start; self.limit = limit; self.offset = offset; self.file = file
            self.hasFunctions = hasFunctions; self.hasFilenames = hasFilenames
            self.hasLineNumbers = hasLineNumbers; self.hasInlineFrames = hasInlineFrames
        }
    }
    /// One level of a location's inline chain: a function and the line in it.
    public struct Line: Sendable, Equatable {
        public var functionID: UInt64
        /// 0: unknown.
        public var line: Int64
        public init(functionID: UInt64, line: Int64 = 0) { self.functionID = functionID; self.line = line }
    }
    public struct Location: Sendable, Equatable {
        public var id: UInt64, mappingID: UInt64, address: UInt64
        /// The inline chain, innermost first (the last is the function
        /// that the others were inlined into), as profile.proto orders it.
        public var lines: [Line]
        /// The lines' function ids, innermost first.
        public var functionIDs: [UInt64] { lines.map(\.functionID) }
        public init(id: UInt64, mappingID: UInt64, address: UInt64, lines: [Line]) {
            self.id = id; self.mappingID = mappingID; self.address = address; self.lines = lines
        }
        public init(id: UInt64, mappingID: UInt64, address: UInt64, functionIDs: [UInt64]) {
            self.init(id: id, mappingID: mappingID, address: address, lines: functionIDs.map { Line(functionID: $0) })
        }
    }
    public struct Function: Sendable, Equatable {
        public var id: UInt64
        public var name: String, systemName: String, file: String
        public var startLine: Int64 = 0
        public init(id: UInt64, name: String, systemName: String, file: String, startLine: Int64 = 0) {
            self.id = id; self.name = name; self.systemName = systemName; self.file = file; self.startLine = startLine
        }
    }

    public var sampleTypes: [ValueType] = []
    public var samples: [Sample] = []
    public var mappings: [Mapping] = []
    public var locations: [Location] = []
    public var functions: [Function] = []
    public var timeNanos: Int64 = 0
    public var durationNanos: Int64 = 0
    public var periodType: ValueType?
    public var period: Int64 = 0
    public var comments: [String] = []

    public init() {}

    /// Field numbers of profile.proto's messages.
    enum Field {
        // Profile
        static let sampleType = 1, sample = 2, mapping = 3, location = 4, function = 5, stringTable = 6
        static let timeNanos = 9, durationNanos = 10, periodType = 11, period = 12, comment = 13
        static let defaultSampleType = 14
        // ValueType: type = 1, unit = 2. Sample: location_id = 1, value = 2.
        // Mapping: id 1, memory_start 2, memory_limit 3, file_offset 4, filename 5,
        // build_id 6, has_functions 7, has_filenames 8, has_line_numbers 9, has_inline_frames 10.
        // Location: id 1, mapping_id 2, address 3, line 4.
        // Line: function_id 1, line 2. Function: id 1, name 2, system_name 3, filename 4, start_line 5.
    }

    /// One line per broken rule; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        let mids = Set(mappings.map(\.id)), lids = Set(locations.map(\.id)), fids = Set(functions.map(\.id))
        if mids.contains(0) || mids.count != mappings.count { problems.append("mapping ids not unique and non-zero") }
        if lids.contains(0) || lids.count != locations.count { problems.append("location ids not unique and non-zero") }
        if fids.contains(0) || fids.count != functions.count { problems.append("function ids not unique and non-zero") }
        for s in samples {
            if s.values.count != sampleTypes.count { problems.append("sample with \(s.values.count) values for \(sampleTypes.count) types"); break }
            if let bad = s.locationIDs.first(where: { !lids.contains($0) }) { problems.append("sample names missing location \(bad)"); break }
        }
        for l in locations {
            if l.mappingID != 0 && !mids.contains(l.mappingID) { problems.append("location \(l.id) names missing mapping \(l.mappingID)"); break }
            if let bad = l.functionIDs.first(where: { !fids.contains($0) }) { problems.append("location \(l.id) names missing function \(bad)"); break }
        }
        return problems
    }
}

// MARK: encoding

struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    /// A varint field, omitted when zero (proto3 default).
    mutating func uint(_ field: Int, _ v: UInt64) { if v != 0 { tag(field, 0); varint(v) } }
    mutating func int(_ field: Int, _ v: Int64) { uint(field, UInt64(bitPattern: v)) }
    mutating func bool(_ field: Int, _ v: Bool) { if v { tag(field, 0); varint(1) } }
    mutating func bytesField(_ field: Int, _ b: [UInt8]) { tag(field, 2); varint(UInt64(b.count)); bytes += b }
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var w = ProtoWriter()
        build(&w)
        bytesField(field, w.bytes)
    }
    mutating func packed(_ field: Int, _ vs: [UInt64]) {
        guard !vs.isEmpty else { return }
        var w = ProtoWriter()
        for v in vs { w.varint(v) }
        bytesField(field, w.bytes)
    }
}

extension PprofProfile {
    /// profile.proto bytes, not compressed.
    public func encode() -> [UInt8] {
        var strings: [String] = [""]
        var index: [String: Int64] = ["": 0]
        func s(_ x: String) -> Int64 {
            if let i = index[x] { return i }
            let i = Int64(strings.count)
            strings.append(x)
            index[x] = i
            return i
        }
        var w = ProtoWriter()
        for t in sampleTypes {
            let (ti, ui) = (s(t.type), s(t.unit))
            w.message(Field.sampleType) { $0.int(1, ti); $0.int(2, ui) }
        }
        for smp in samples {
            w.message(Field.sample) {
                $0.packed(1, smp.locationIDs)
                $0.packed(2, smp.values.map { UInt64(bitPattern: $0) })
            }
        }
        for m in mappings {
            let fi = s(m.file)
            w.message(Field.mapping) {
                $0.uint(1, m.id); $0.uint(2, m.start); $0.uint(3, m.limit); $0.uint(4, m.offset)
                $0.int(5, fi); $0.bool(7, m.hasFunctions); $0.bool(8, m.hasFilenames)
                $0.bool(9, m.hasLineNumbers); $0.bool(10, m.hasInlineFrames)
            }
        }
        for l in locations {
            w.message(Field.location) { lw in
                lw.uint(1, l.id); lw.uint(2, l.mappingID); lw.uint(3, l.address)
                for line in l.lines { lw.message(4) { $0.uint(1, line.functionID); $0.int(2, line.line) } }
            }
        }
        for f in functions {
            let (ni, si, fi) = (s(f.name), s(f.systemName), s(f.file))
            w.message(Field.function) { $0.uint(1, f.id); $0.int(2, ni); $0.int(3, si); $0.int(4, fi); $0.int(5, f.startLine) }
        }
        let commentIdx = comments.map { s($0) }
        if let pt = periodType { _ = s(pt.type); _ = s(pt.unit) }
        for str in strings { w.bytesField(Field.stringTable, Array(str.utf8)) }
        w.int(Field.timeNanos, timeNanos)
        w.int(Field.durationNanos, durationNanos)
        if let pt = periodType {
            let (ti, ui) = (s(pt.type), s(pt.unit))
            w.message(Field.periodType) { $0.int(1, ti); $0.int(2, ui) }
        }
        w.int(Field.period, period)
        for c in commentIdx { w.int(Field.comment, c) }
        return w.bytes
    }

    /// The gzipped file pprof reads.
    public func encodeGzipped() throws -> Data {
        let raw = encode()
        var out: UnsafeMutablePointer<UInt8>?
        var outLen = 0
        let rc = raw.withUnsafeBufferPointer { cgb_gzip($0.baseAddress, $0.count, &out, &outLen) }
        guard rc == 0, let o = out else { throw FormatError("gzip failed (zlib error \(rc))") }
        defer { free(o) }
        return Data(bytes: o, count: outLen)
    }
}

// MARK: decoding

struct ProtoReader {
    let bytes: [UInt8]
    var pos: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        pos = from
        end = to ?? bytes.count
    }

    var atEnd: Bool { pos >= end }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < end, shift < 64 else { throw FormatError("bad varint at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            v |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    /// (field, wire type).
    mutating func tag() throws -> (Int, Int) {
        let t = try varint()
        guard t >> 3 > 0 else { throw FormatError("bad field number at byte \(pos)") }
        return (Int(t >> 3), Int(t & 7))
    }

    /// A length-delimited field's range.
    mutating func lengthDelimited() throws -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw FormatError("truncated field at byte \(pos)") }
        let r = pos..<(pos + Int(n))
        pos += Int(n)
        return r
    }

    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: guard end - pos >= 8 else { throw FormatError("truncated field") }; pos += 8
        case 2: _ = try lengthDelimited()
        case 5: guard end - pos >= 4 else { throw FormatError("truncated field") }; pos += 4
        default: throw FormatError("unsupported wire type \(wire) at byte \(pos)")
        }
    }

    /// A repeated scalar, packed (wire 2) or one element (wire 0).
    mutating func repeated(_ wire: Int, into out: inout [UInt64]) throws {
        if wire == 0 { out.append(try varint()); return }
        guard wire == 2 else { throw FormatError("bad wire type \(wire) for a repeated integer") }
        let r = try lengthDelimited()
        var sub = ProtoReader(bytes, from: r.lowerBound, to: r.upperBound)
        while !sub.atEnd { out.append(try sub.varint()) }
    }

    /// Calls `field(number, wire, &reader)` for each field of the message in `range`.
    func fields(_ range: Range<Int>, _ field: (Int, Int, inout ProtoReader) throws -> Void) throws {
        var sub = ProtoReader(bytes, from: range.lowerBound, to: range.upperBound)
        while !sub.atEnd {
            let (f, w) = try sub.tag()
            try field(f, w, &sub)
        }
    }
}

extension PprofProfile {
    /// Decodes profile.proto bytes, gzipped or not. Throws a one-line
    /// FormatError for anything malformed.
    public static func decode(_ data: Data) throws -> PprofProfile {
        var bytes = [UInt8](data)
        if bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b {
            var out: UnsafeMutablePointer<UInt8>?
            var outLen = 0
            let rc = bytes.withUnsafeBufferPointer { cgb_gunzip($0.baseAddress, $0.count, &out, &outLen) }
            guard rc == 0, let o = out else { throw FormatError("not a pprof profile: corrupt gzip data (zlib error \(rc))") }
            bytes = Array(UnsafeBufferPointer(start: o, count: outLen))
            free(o)
        }
        guard !bytes.isEmpty else { throw FormatError("not a pprof profile: empty") }
        do {
            return try decodeRaw(bytes)
        } catch let e as FormatError {
            throw FormatError("not a pprof profile: \(e.description)")
        }
    }

    private struct RawVT { var type: Int64 = 0, unit: Int64 = 0 }

    static func decodeRaw(_ bytes: [UInt8]) throws -> PprofProfile {
        var r = ProtoReader(bytes)
        var strings: [String] = []
        var vts: [RawVT] = []
        var periodVT: RawVT?
        var rawMappings: [(PprofProfile.Mapping, Int64)] = []
        var rawFunctions: [(UInt64, Int64, Int64, Int64, Int64)] = []
        var p = PprofProfile()
        var commentIdx: [Int64] = []
        func valueType(_ range: Range<Int>) throws -> RawVT {
            var vt = RawVT()
            try r.fields(range) { f, w, sub in
                switch (f, w) {
                case (1, 0): vt.type = Int64(bitPattern: try sub.varint())
                case (2, 0): vt.unit = Int64(bitPattern: try sub.varint())
                default: try sub.skip(w)
                }
            }
            return vt
        }
        while !r.atEnd {
            let (f, w) = try r.tag()
            switch (f, w) {
            case (Field.sampleType, 2): vts.append(try valueType(try r.lengthDelimited()))
            case (Field.sample, 2):
                var locs: [UInt64] = [], vals: [UInt64] = []
                try r.fields(try r.lengthDelimited()) { f, w, sub in
                    switch f {
                    case 1: try sub.repeated(w, into: &locs)
                    case 2: try sub.repeated(w, into: &vals)
                    default: try sub.skip(w)
                    }
                }
                p.samples.append(Sample(locationIDs: locs, values: vals.map { Int64(bitPattern: $0) }))
            case (Field.mapping, 2):
                var m = Mapping(id: 0, start: 0, limit: 0, offset: 0, file: "", hasFunctions: false)
                var file: Int64 = 0
                try r.fields(try r.lengthDelimited()) { f, w, sub in
                    switch (f, w) {
                    case (1, 0): m.id = try sub.varint()
                    case (2, 0): m.start = try sub.varint()
                    case (3, 0): m.limit = try sub.varint()
                    case (4, 0): m.offset = try sub.varint()
                    case (5, 0): file = Int64(bitPattern: try sub.varint())
                    case (7, 0): m.hasFunctions = try sub.varint() != 0
                    case (8, 0): m.hasFilenames = try sub.varint() != 0
                    case (9, 0): m.hasLineNumbers = try sub.varint() != 0
                    case (10, 0): m.hasInlineFrames = try sub.varint() != 0
                    default: try sub.skip(w)
                    }
                }
                rawMappings.append((m, file))
            case (Field.location, 2):
                var l = Location(id: 0, mappingID: 0, address: 0, lines: [])
                try r.fields(try r.lengthDelimited()) { f, w, sub in
                    switch (f, w) {
                    case (1, 0): l.id = try sub.varint()
                    case (2, 0): l.mappingID = try sub.varint()
                    case (3, 0): l.address = try sub.varint()
                    case (4, 2):
                        var line = Line(functionID: 0)
                        try sub.fields(try sub.lengthDelimited()) { f, w, s2 in
                            switch (f, w) {
                            case (1, 0): line.functionID = try s2.varint()
                            case (2, 0): line.line = Int64(bitPattern: try s2.varint())
                            default: try s2.skip(w)
                            }
                        }
                        l.lines.append(line)
                    default: try sub.skip(w)
                    }
                }
                p.locations.append(l)
            case (Field.function, 2):
                var fn: (UInt64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0)
                try r.fields(try r.lengthDelimited()) { f, w, sub in
                    switch (f, w) {
                    case (1, 0): fn.0 = try sub.varint()
                    case (2, 0): fn.1 = Int64(bitPattern: try sub.varint())
                    case (3, 0): fn.2 = Int64(bitPattern: try sub.varint())
                    case (4, 0): fn.3 = Int64(bitPattern: try sub.varint())
                    case (5, 0): fn.4 = Int64(bitPattern: try sub.varint())
                    default: try sub.skip(w)
                    }
                }
                rawFunctions.append(fn)
            case (Field.stringTable, 2):
                let range = try r.lengthDelimited()
                guard let str = String(validating: bytes[range], as: UTF8.self) else {
                    throw FormatError("string table entry \(strings.count) is not UTF-8")
                }
                strings.append(str)
            case (Field.timeNanos, 0): p.timeNanos = Int64(bitPattern: try r.varint())
            case (Field.durationNanos, 0): p.durationNanos = Int64(bitPattern: try r.varint())
            case (Field.periodType, 2): periodVT = try valueType(try r.lengthDelimited())
            case (Field.period, 0): p.period = Int64(bitPattern: try r.varint())
            case (Field.comment, _):
                var cs: [UInt64] = []
                try r.repeated(w, into: &cs)
                commentIdx += cs.map { Int64(bitPattern: $0) }
            default: try r.skip(w)
            }
        }
        guard strings.first == "" else { throw FormatError("string table missing or not starting with \"\"") }
        func str(_ i: Int64) throws -> String {
            guard i >= 0 && Int(i) < strings.count else { throw FormatError("string index \(i) out of range") }
            return strings[Int(i)]
        }
        p.sampleTypes = try vts.map { ValueType(type: try str($0.type), unit: try str($0.unit)) }
        if let pt = periodVT { p.periodType = ValueType(type: try str(pt.type), unit: try str(pt.unit)) }
        p.mappings = try rawMappings.map { var m = $0.0; m.file = try str($0.1); return m }
        p.functions = try rawFunctions.map {
            Function(id: $0.0, name: try str($0.1), systemName: try str($0.2), file: try str($0.3), startLine: $0.4)
        }
        p.comments = try commentIdx.map { try str($0) }
        guard !p.sampleTypes.isEmpty else { throw FormatError("no sample types") }
        let problems = p.validate()
        guard problems.isEmpty else { throw FormatError(problems[0]) }
        return p
    }
}

#if canImport(Glibc)
import Glibc
#endif
