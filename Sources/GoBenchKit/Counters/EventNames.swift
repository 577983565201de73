// Event names through libpfm4 (`pfm_get_os_event_encoding`): the only Swift
// file that calls the libpfm4 shim (CGoBench/Pfm.c). libpfm4 knows perf's
// generic names (cycles, branch-misses, L1-dcache-load-misses, task-clock,
// page-faults...) on every machine, and the PMU-specific names of the PMUs
// it detects (INST_RETIRED:ANY on Intel, RETIRED_INSTRUCTIONS on AMD).

import CGoBench

/// Why a name could not be encoded.
public struct EventNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// libpfm4's message ("event not found").
    public var reason: String
    public var description: String { "\(name): \(reason)" }
}

public enum EventNames {
    /// Encodes `name` with libpfm4.
    public static func encode(_ name: String) -> Result<CounterEvent, EventNameError> {
        var enc = cgb_pfm_encoding()
        let rc = cgb_pfm_encode(name, &enc)
        guard rc == 0 else {
            let message = String(cString: cgb_pfm_strerror(rc))
            return .failure(EventNameError(name: name, reason: "libpfm4: \(message)"))
        }
        let fstr = withUnsafeBytes(of: &enc.fstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return .success(CounterEvent(name: name, type: enc.type, config: enc.config,
                                     config1: enc.config1, config2: enc.config2, encodedAs: fstr))
    }

    /// The PMUs libpfm4 detected ("perf", "perf_raw", then the CPU's own
    /// PMU model where libpfm4 recognises the CPU).
    public static func detectedPMUs() -> [String] {
        var buf = [CChar](repeating: 0, count: 4096)
        _ = cgb_pfm_present_pmus(&buf, buf.count)
        let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return s.isEmpty ? [] : s.split(separator: ",").map(String.init)
    }
}
