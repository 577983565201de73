// Reading stacks from a file whatever its format: a pprof profile (gzipped
// or raw profile.proto, ours or Go's) or folded text. Every failure is one
// FormatError line naming the file.

import Foundation

public enum StackFile {
    /// Folded stacks from `path`; pprof input counts sample value `sampleIndex`.
    public static func load(_ path: String, sampleIndex: Int = 0,
                            granularity: FoldedStacks.Granularity = .function) throws -> FoldedStacks {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("\(path): cannot read file")
        }
        do {
            return try parse(data, sampleIndex: sampleIndex, granularity: granularity)
        } catch let e as FormatError {
            throw FormatError("\(path): \(e.description)")
        }
    }

    /// Whether `data` looks like pprof (gzip magic, or binary bytes) rather
    /// than folded text.
    public static func isPprof(_ data: Data) -> Bool {
        if data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b { return true }
        return data.contains(0) || String(data: data, encoding: .utf8) == nil
    }

    public static func parse(_ data: Data, sampleIndex: Int = 0,
                             granularity: FoldedStacks.Granularity = .function) throws -> FoldedStacks {
        guard !data.isEmpty else { throw FormatError("empty file") }
        if isPprof(data) {
            let p = try PprofProfile.decode(data)
            guard sampleIndex >= 0 && sampleIndex < p.sampleTypes.count else {
                throw FormatError("sample index \(sampleIndex) out of range (profile has \(p.sampleTypes.count) sample types)")
            }
            let f = FoldedStacks(pprof: p, valueIndex: sampleIndex, granularity: granularity)
            guard !f.isEmpty else { throw FormatError("profile has no samples") }
            return f
        }
        return try FoldedStacks.parse(String(decoding: data, as: UTF8.self))
    }
}
