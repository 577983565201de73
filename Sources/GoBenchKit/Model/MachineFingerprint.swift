// The machine a timing belongs to. A figure is tied to its machine: a
// committed baseline from another VM flagged 23 false regressions on
// unchanged code, and two VMs that both call their CPU "AMD EPYC" measured
// mutex/uncontended at 22.7 and 5.5 ns. So a machine is identified by what
// decides its speed: the CPU's vendor, family, model and stepping (the
// model-name string alone is not enough), its core count, the hypervisor,
// the kernel, the transparent-huge-page mode (it decides whether large
// allocations fault 2 MiB pages with direct compaction) and the compiler.
// `hash` condenses those fields; two results with different hashes must
// not have their timings judged against each other (VerdictPolicy), and a
// noise profile is kept per hash (NoiseProfile).

import CGoBench
import Foundation

public struct MachineFingerprint: Sendable, Equatable, Codable {
    public var vendor: String
    public var family: Int
    public var model: Int
    public var stepping: Int
    public var modelName: String
    public var cores: Int
    /// CPUID's hypervisor signature ("KVMKVMKVM"), or "none" on bare metal.
    public var hypervisor: String
    public var kernel: String
    /// /sys/kernel/mm/transparent_hugepage/enabled, the bracketed choice.
    public var thp: String
    public var swift: String

    public init(vendor: String, family: Int, model: Int, stepping: Int, modelName: String, cores: Int,
                hypervisor: String, kernel: String, thp: String, swift: String) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.stepping = stepping
        self.modelName = modelName
        self.cores = cores
        self.hypervisor = hypervisor
        self.kernel = kernel
        self.thp = thp
        self.swift = swift
    }

    /// The fields in a fixed order, as (name, value): what the hash covers
    /// and what `differences` names.
    public var fields: [(name: String, value: String)] {
        [("cpu-vendor", vendor), ("cpu-family", String(family)), ("cpu-model", String(model)),
         ("cpu-stepping", String(stepping)), ("cpu-name", modelName), ("cores", String(cores)),
         ("hypervisor", hypervisor), ("kernel", kernel), ("thp", thp), ("swift", swift)]
    }

    /// 16 hex digits of FNV-1a 64 over the fields: stable across processes
    /// and versions (Swift's Hasher is seeded per process, so it cannot be
    /// used for a stored identity).
    public var hash: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (name, value) in fields {
            for byte in "\(name)=\(value)\n".utf8 {
                h ^= UInt64(byte)
                h = h &* 0x0000_0100_0000_01b3
            }
        }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    /// "AuthenticAMD 25/1/1 AMD EPYC, 2 cores, KVMKVMKVM, 6.1.0, thp madvise".
    public var summary: String {
        "\(vendor) \(family)/\(model)/\(stepping) \(modelName), \(cores) cores, hypervisor \(hypervisor), "
            + "kernel \(kernel), thp \(thp), swift \(swift)"
    }

    /// The fields that differ, as "cpu-model 1 vs 2"; empty when the two
    /// describe the same machine.
    public func differences(from other: MachineFingerprint) -> [String] {
        zip(fields, other.fields).compactMap { a, b in
            a.value == b.value ? nil : "\(a.name) \(a.value) vs \(b.value)"
        }
    }

    /// Context entries ("fingerprint", "cpu-family", ...) for context.json
    /// and Go-text config lines.
    public var contextEntries: [(key: String, value: String)] {
        [("fingerprint", hash)] + fields.map { (key: $0.name, value: $0.value) }
    }

    /// Rebuilds a fingerprint from context entries written by
    /// `contextEntries`; nil when any field is missing (a file from before
    /// fingerprints).
    public init?(context: RunEnvironment) {
        guard let vendor = context["cpu-vendor"], let family = context["cpu-family"].flatMap(Int.init),
              let model = context["cpu-model"].flatMap(Int.init), let stepping = context["cpu-stepping"].flatMap(Int.init),
              let name = context["cpu-name"], let cores = context["cores"].flatMap(Int.init),
              let hv = context["hypervisor"], let kernel = context["kernel"], let thp = context["thp"],
              let swift = context["swift"] else { return nil }
        self.init(vendor: vendor, family: family, model: model, stepping: stepping, modelName: name, cores: cores,
                  hypervisor: hv, kernel: kernel, thp: thp, swift: swift)
    }

    /// This machine, now.
    public static func current() -> MachineFingerprint {
        var vendor = "unknown", name = "unknown"
        var family = -1, model = -1, stepping = -1
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            // The first processor's block is enough: a VM's vCPUs are alike.
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "vendor_id" where vendor == "unknown": vendor = value
                case "cpu family" where family < 0: family = Int(value) ?? -1
                case "model" where model < 0: model = Int(value) ?? -1
                case "stepping" where stepping < 0: stepping = Int(value) ?? -1
                case "model name" where name == "unknown": name = value
                // arm64 spells them differently.
                case "CPU implementer" where vendor == "unknown": vendor = value
                case "CPU part" where model < 0: model = Int(value.dropFirst(2), radix: 16) ?? -1
                case "CPU variant" where family < 0: family = Int(value.dropFirst(2), radix: 16) ?? -1
                case "CPU revision" where stepping < 0: stepping = Int(value) ?? -1
                default: break
                }
            }
        }
        var sig = [CChar](repeating: 0, count: 13)
        let hypervisor = cgb_hypervisor_vendor(&sig) != 0
            ? String(decoding: sig.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "none"
        return MachineFingerprint(vendor: vendor, family: family, model: model, stepping: stepping, modelName: name,
                                  cores: ProcessInfo.processInfo.activeProcessorCount,
                                  hypervisor: hypervisor.isEmpty ? "unnamed" : hypervisor,
                                  kernel: RunEnvironment.kernelRelease(), thp: transparentHugePages(),
                                  swift: RunEnvironment.swiftVersion())
    }

    /// The selected THP mode ("madvise" from "always [madvise] never").
    static func transparentHugePages() -> String {
        guard let text = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8),
              let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]"), open < close else {
            return "unknown"
        }
        return String(text[text.index(after: open)..<close])
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
