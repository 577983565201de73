// Results are written to a temporary file in the destination folder and
// renamed over the destination, so an interrupted run (Ctrl-C, a crash)
// leaves either the old file or the complete new one, never half of one.

import Foundation

public enum AtomicFile {
    /// Writes `contents` to `path` through a temporary sibling and rename(2).
    public static func write(_ contents: String, to path: String) throws {
        try write(Data(contents.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw InputError("cannot write \(path): cannot create \(tmp)")
        }
        if rename(tmp, path) != 0 {
            let err = String(cString: strerror(errno))
            unlink(tmp)
            throw InputError("cannot write \(path): \(err)")
        }
    }

    /// Creates a folder and its parents; a one-line error when impossible.
    public static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw InputError("cannot create folder \(path)")
        }
    }
}
