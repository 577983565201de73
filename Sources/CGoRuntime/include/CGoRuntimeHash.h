// CGoRuntimeHash: the Go runtime's map hash functions (runtime/asm_amd64.s
// aeshashbody, memhash64; runtime/hash64.go memhashFallback,
// memhash64Fallback) and its per-thread random source (runtime/stubs.go
// fastrand, wyrand).
//
// Why C: the AES-NI hash needs AESENC/PSHUFB/PINSRQ, which Swift cannot
// emit. The AES functions carry __attribute__((target("aes,sse4.1,ssse3")))
// so the rest of the package is compiled for the baseline ISA; CPUID decides
// at run time (cgort_hash_init), as Go's alginit does, whether they are used.
// Only GoRuntime/Map/Hash.swift imports these declarations.
#ifndef CGORUNTIME_HASH_H
#define CGORUNTIME_HASH_H

#include <stdint.h>
#include <stddef.h>

/// Go's alginit: installs the per-process key material. `keysched` is 128
/// bytes for the AES key schedule (aeskeysched), `hashkey` four words for the
/// fallback hash (forced odd, as Go does). `allow_aes` = 0 forces the
/// fallback even where the CPU has AES. Returns 1 when the AES hash is in use.
/// Call once, before any hash; not thread-safe against concurrent hashing.
int cgort_hash_init(const uint8_t *keysched, const uint64_t *hashkey, int allow_aes);

/// Set (release) by cgort_hash_init when it is done; read it through
/// cgort_hash_ready.
extern int cgort_hash_initialized;

/// 1 once cgort_hash_init has run (acquire load: the key material it
/// installed is visible). Inline so that the check costs no call.
static inline int cgort_hash_ready(void) {
    return __atomic_load_n(&cgort_hash_initialized, __ATOMIC_ACQUIRE);
}

/// 1 when the CPU has AES-NI, SSSE3 and SSE4.1 (Go's condition in alginit).
int cgort_cpu_has_aes(void);

/// The two implementations, callable directly for tests.
uint64_t cgort_aeshash64(uint64_t key, uint64_t seed);
uint64_t cgort_aeshash(const void *p, uint64_t len, uint64_t seed);
uint64_t cgort_memhash64_fallback(uint64_t key, uint64_t seed);
uint64_t cgort_memhash_fallback(const void *p, uint64_t len, uint64_t seed);

/// 1 when cgort_hash_init chose the AES hash (written once, before any
/// hash; read by the dispatchers below).
extern int cgort_use_aeshash;

/// The AES key schedule (Go's aeskeysched), installed by cgort_hash_init.
extern _Alignas(16) uint8_t cgort_aeskeysched[128];

/// aeshash64 (asm_amd64.s memhash64: MOVQ seed, X0; PINSRQ $1, key, X0;
/// three AESENC with keysched[0], [16], [32]; MOVQ X0, ret), written with
/// the compiler's builtins so that it needs only AES and SSE2 and can be
/// inlined: into Swift code compiled with -Xcc -maes (GoRuntime and
/// GoBenchSuites), or as a call anywhere else. Only call it where
/// cgort_use_aeshash is set.
#if defined(__x86_64__)
static inline __attribute__((target("aes")))
uint64_t cgort_aeshash64_inline(uint64_t key, uint64_t seed) {
    typedef long long cgort_v2i64 __attribute__((vector_size(16)));
    const cgort_v2i64 *ks = (const cgort_v2i64 *)cgort_aeskeysched;
    cgort_v2i64 x = { (long long)seed, (long long)key };
    x = __builtin_ia32_aesenc128(x, ks[0]);
    x = __builtin_ia32_aesenc128(x, ks[1]);
    x = __builtin_ia32_aesenc128(x, ks[2]);
    return (uint64_t)x[0];
}
#else
static inline uint64_t cgort_aeshash64_inline(uint64_t key, uint64_t seed) {
    return cgort_aeshash64(key, seed);
}
#endif

/// Go's memhash64 (hash of an 8-byte key): AES when in use, else the
/// fallback. Inline, so that the dispatch costs a load and a branch in the
/// caller, and the AES hash no call where the caller can inline it.
static inline uint64_t cgort_memhash64(uint64_t key, uint64_t seed) {
    if (__builtin_expect(cgort_use_aeshash, 1)) return cgort_aeshash64_inline(key, seed);
    return cgort_memhash64_fallback(key, seed);
}

/// Go's memhash / strhash over `len` bytes at `p` (dispatch as above).
static inline uint64_t cgort_memhash(const void *p, uint64_t len, uint64_t seed) {
    if (__builtin_expect(cgort_use_aeshash, 1)) return cgort_aeshash(p, len, seed);
    return cgort_memhash_fallback(p, len, seed);
}

/// Hint that the cache line at `p` will be written soon. Never faults,
/// whatever `p` is (the map uses it on words that may not be pointers).
static inline void cgort_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Go's fastrand64 (wyrand on a per-thread state). Each thread's state is
/// derived from the base set by cgort_fastrand_seed and the order in which
/// threads first call it, so a fixed base gives a repeatable sequence in a
/// single-threaded program.
uint64_t cgort_fastrand64(void);
void cgort_fastrand_seed(uint64_t base);

#endif
