// The map's hash functions, random source and prefetch hint: the Swift
// face of CGoRuntimeHash (the only Map file that talks to C).
//
// Mirrors runtime/alg.go (alginit, memhash64/strhash dispatch through
// useAeshash) and runtime/stubs.go (fastrand). The AES hash (AESENC over a
// 128-byte per-process key schedule) is used when CPUID reports AES, SSSE3
// and SSE4.1, exactly Go's condition; otherwise the wyhash-style
// memhashFallback of runtime/hash64.go.
//
// Deterministic mode: when the environment variable GOBENCH_DETERMINISTIC=1
// is set at the first map creation (it is read once), the key schedule, the
// fallback hash keys and the fastrand base are fixed constants, so every
// map's hash0, every iteration start and every bucket placement repeat
// exactly from run to run (what callgrind instruction counts need).
// Otherwise all of them come from the system's random source, like Go's
// getRandomData.

import CGoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide hashing state, set up once (Go's alginit).
public enum MapHash {
    /// True when GOBENCH_DETERMINISTIC=1 was set when hashing was first
    /// initialised: fixed key material and random seeds.
    public static var isDeterministic: Bool { setup.deterministic }

    /// True when the AES-NI hash is in use (else runtime/hash64.go's
    /// fallback).
    public static var usesAES: Bool { setup.aes }

    /// Forces one-time initialisation; after the first call, one acquire
    /// load of a C flag (no call: every map creation runs it).
    @inlinable @inline(__always)
    public static func ensureInitialized() {
        if _slowPath(cgort_hash_ready() == 0) { initialize() }
    }

    @usableFromInline @inline(never)
    static func initialize() { _ = setup }

    private static let setup: (deterministic: Bool, aes: Bool) = {
        let env = getenv("GOBENCH_DETERMINISTIC")
        let deterministic = env.map { String(cString: $0) == "1" } ?? false
        var sched = [UInt8](repeating: 0, count: 128)
        var keys = [UInt64](repeating: 0, count: 4)
        var fastrandBase: UInt64
        if deterministic {
            // Fixed, arbitrary key material (digits of pi, 0x243f6a88...).
            var x: UInt64 = 0x243f_6a88_85a3_08d3
            for i in 0..<128 {
                x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                sched[i] = UInt8(truncatingIfNeeded: x >> 56)
            }
            for i in 0..<4 { x = x &* 6_364_136_223_846_793_005 &+ 1; keys[i] = x }
            fastrandBase = 0x1319_8a2e_0370_7344
        } else {
            var g = SystemRandomNumberGenerator()
            for i in 0..<128 { sched[i] = UInt8.random(in: 0...255, using: &g) }
            for i in 0..<4 { keys[i] = g.next() }
            fastrandBase = g.next()
        }
        cgort_fastrand_seed(fastrandBase)
        let aes = cgort_hash_init(sched, keys, 1) != 0
        return (deterministic, aes)
    }()

    /// Go's memhash64: the hash of an 8-byte key under `seed`.
    @inlinable @inline(__always)
    public static func memhash64(_ key: UInt64, seed: UInt64) -> UInt64 {
        cgort_memhash64(key, seed)
    }

    /// Go's memhash / strhash: the hash of `count` bytes under `seed`.
    @inlinable @inline(__always)
    public static func memhash(_ bytes: UnsafeRawPointer?, count: Int, seed: UInt64) -> UInt64 {
        cgort_memhash(bytes, UInt64(count), seed)
    }

    /// The AES and fallback implementations, for tests that compare them.
    public static func aeshash64(_ key: UInt64, seed: UInt64) -> UInt64 { cgort_aeshash64(key, seed) }
    public static func aeshash(_ b: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        cgort_aeshash(b.baseAddress, UInt64(b.count), seed)
    }
    public static func memhash64Fallback(_ key: UInt64, seed: UInt64) -> UInt64 {
        cgort_memhash64_fallback(key, seed)
    }
    public static func memhashFallback(_ b: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        cgort_memhash_fallback(b.baseAddress, UInt64(b.count), seed)
    }
    /// Whether this CPU could run the AES hash.
    public static var cpuHasAES: Bool { cgort_cpu_has_aes() != 0 }

    /// Go's fastrand64: a per-thread wyrand stream.
    @inlinable @inline(__always)
    public static func fastrand64() -> UInt64 { cgort_fastrand64() }

    /// Hint that the cache line at `p` will be written soon (a prefetch:
    /// it never faults, so `p` may be a word that is not a pointer).
    @inlinable @inline(__always)
    static func prefetchForWrite(_ p: UnsafeRawPointer?) { cgort_prefetch_write(p) }
}
