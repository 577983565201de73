// The run context: what machine, kernel, toolchain and revision produced a
// result, and what the harness could measure there. Every output starts
// with it (Go-text config lines, context.json beside the CSV), so a result
// file read months later still says where it came from.

import Foundation

/// Ordered key/value facts about a run.
public struct RunEnvironment: Sendable, Equatable {
    public var entries: [(key: String, value: String)]

    public static func == (a: RunEnvironment, b: RunEnvironment) -> Bool {
        a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.value) == b.entries.map(\.value)
    }

    public init(entries: [(key: String, value: String)] = []) {
        self.entries = entries
    }

    public subscript(key: String) -> String? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let v = newValue { entries[i].value = v } else { entries.remove(at: i) }
            } else if let v = newValue {
                entries.append((key, v))
            }
        }
    }

    /// Reads the facts of this machine and process. Go's own keys first
    /// (goos, goarch, cpu) so benchstat groups by them, then ours.
    public static func capture(date: Date = Date()) -> RunEnvironment {
        var e = RunEnvironment()
        e["goos"] = "linux"
        #if arch(x86_64)
        e["goarch"] = "amd64"
        #elseif arch(arm64)
        e["goarch"] = "arm64"
        #else
        e["goarch"] = "unknown"
        #endif
        e["cpu"] = cpuModel()
        e["pkg"] = "gobench"
        e["date"] = iso8601(date)
        e["cores"] = String(ProcessInfo.processInfo.activeProcessorCount)
        e["kernel"] = kernelRelease()
        e["swift"] = swiftVersion()
        e["git"] = gitRevision()
        e["host"] = ProcessInfo.processInfo.hostName
        for (k, v) in MachineFingerprint.current().contextEntries where e[k] == nil { e[k] = v }
        return e
    }

    static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    static func kernelRelease() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The compiler version this binary was built with.
    static func swiftVersion() -> String {
        #if compiler(>=6.3)
        return "6.3+"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// `git describe --always --dirty` of the working directory, or
    /// "unknown" outside a repository.
    static func gitRevision() -> String {
        guard let r = try? Subprocess.run("/usr/bin/env", ["git", "describe", "--always", "--dirty", "--abbrev=12"]),
              r.status == 0 else { return "unknown" }
        let s = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? "unknown" : s
    }

    /// Reads a context.json written by `json()` (a flat object of strings).
    public static func load(json path: String) throws -> RunEnvironment {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError("\(path): cannot read") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FormatError("\(path): not a JSON object")
        }
        var env = RunEnvironment()
        // JSONSerialization loses the order; keep it stable by key.
        for (k, v) in object.sorted(by: { $0.key < $1.key }) {
            env[k] = (v as? String) ?? "\(v)"
        }
        return env
    }

    /// JSON object with the entries in order.
    public func json() -> String {
        var s = "{\n"
        for (i, e) in entries.enumerated() {
            s += "  \(jsonString(e.key)): \(jsonString(e.value))"
            s += i + 1 < entries.count ? ",\n" : "\n"
        }
        return s + "}\n"
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                out += String(format: "\\u%04x", u.value)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
