// CPUID for the machine fingerprint: the hypervisor's vendor signature
// (leaf 0x40000000, "KVMKVMKVM", "Microsoft Hv", "VMwareVMware"), which
// /proc/cpuinfo does not show. Symbols are prefixed `cgb_`. Imported only
// by Model/MachineFingerprint.swift.
#ifndef CGOBENCH_MACHINE_H
#define CGOBENCH_MACHINE_H

/// Writes the hypervisor vendor signature (up to 12 characters, NUL
/// terminated) into `out` (13 bytes) and returns 1, or returns 0 when the
/// CPU reports no hypervisor (CPUID.1:ECX bit 31 clear) or is not x86.
int cgb_hypervisor_vendor(char out[13]);

#endif
