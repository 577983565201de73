// The Go runtime's map hashes, ported from runtime/asm_amd64.s (aeshashbody,
// memhash64) and runtime/hash64.go (memhashFallback, memhash64Fallback), and
// runtime/stubs.go fastrand (wyrand). See include/CGoRuntimeHash.h.
//
// The AES code mirrors Go's register dance instruction for instruction with
// intrinsics: in Go's assembler `AESENC src, dst` is dst = aesenc(dst, src),
// i.e. _mm_aesenc_si128(dst, src). The only liberty taken is in the 0..15
// byte case: Go loads 16 bytes and masks (or shuffles, near a page end); we
// copy the bytes into a zeroed 16-byte block, which yields the same vector.
#include "CGoRuntimeHash.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define CGORT_AES_TARGET __attribute__((target("aes,sse4.1,ssse3")))
#endif

// Per-process key material (Go: aeskeysched, hashkey in runtime/alg.go).
_Alignas(16) uint8_t cgort_aeskeysched[128];
static uint64_t hashkey[4];
int cgort_use_aeshash;
int cgort_hash_initialized;

// runtime/hash64.go constants.
#define M1 0xa0761d6478bd642fULL
#define M2 0xe7037ed1a0b428dbULL
#define M3 0x8ebc6af09c88c6e3ULL
#define M4 0x589965cc75374cc3ULL
#define M5 0x1d8e4e27c47d124fULL

int cgort_cpu_has_aes(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned aes = 1u << 25, sse41 = 1u << 19, ssse3 = 1u << 9;
    return (c & aes) && (c & sse41) && (c & ssse3);
#else
    return 0;
#endif
}

int cgort_hash_init(const uint8_t *keysched, const uint64_t *key, int allow_aes) {
    memcpy(cgort_aeskeysched, keysched, sizeof cgort_aeskeysched);
    for (int i = 0; i < 4; i++) hashkey[i] = key[i] | 1;  // Go: make them odd
    cgort_use_aeshash = allow_aes && cgort_cpu_has_aes();
    __atomic_store_n(&cgort_hash_initialized, 1, __ATOMIC_RELEASE);
    return cgort_use_aeshash;
}

// ---------------------------------------------------------------- fallback

static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t p = (__uint128_t)a * b;
    return (uint64_t)(p >> 64) ^ (uint64_t)p;
}
static inline uint64_t r4(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t r8(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

uint64_t cgort_memhash64_fallback(uint64_t a, uint64_t seed) {
    return mix(M5 ^ 8, mix(a ^ M2, a ^ seed ^ hashkey[0] ^ M1));
}

uint64_t cgort_memhash_fallback(const void *ptr, uint64_t s, uint64_t seed) {
    const uint8_t *p = ptr;
    uint64_t a, b;
    seed ^= hashkey[0] ^ M1;
    if (s == 0) {
        return seed;
    } else if (s < 4) {
        a = p[0];
        a |= (uint64_t)p[s >> 1] << 8;
        a |= (uint64_t)p[s - 1] << 16;
        b = 0;
    } else if (s == 4) {
        a = r4(p); b = a;
    } else if (s < 8) {
        a = r4(p); b = r4(p + s - 4);
    } else if (s == 8) {
        a = r8(p); b = a;
    } else if (s <= 16) {
        a = r8(p); b = r8(p + s - 8);
    } else {
        uint64_t l = s;
        if (l > 48) {
            uint64_t seed1 = seed, seed2 = seed;
            for (; l > 48; l -= 48) {
                seed = mix(r8(p) ^ M2, r8(p + 8) ^ seed);
                seed1 = mix(r8(p + 16) ^ M3, r8(p + 24) ^ seed1);
                seed2 = mix(r8(p + 32) ^ M4, r8(p + 40) ^ seed2);
                p += 48;
            }
            seed ^= seed1 ^ seed2;
        }
        for (; l > 16; l -= 16) {
            seed = mix(r8(p) ^ M2, r8(p + 8) ^ seed);
            p += 16;
        }
        a = r8(p + l - 16);
        b = r8(p + l - 8);
    }
    return mix(M5 ^ s, mix(a ^ M2, b ^ seed));
}

// ---------------------------------------------------------------- AES

#if defined(__x86_64__)
static inline CGORT_AES_TARGET __m128i ks(int i) {
    return _mm_load_si128((const __m128i *)(cgort_aeskeysched + 16 * i));
}
static inline CGORT_AES_TARGET __m128i enc(__m128i x, __m128i k) { return _mm_aesenc_si128(x, k); }
static inline CGORT_AES_TARGET __m128i ld(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)p); }

CGORT_AES_TARGET uint64_t cgort_aeshash64(uint64_t key, uint64_t seed) {
    return cgort_aeshash64_inline(key, seed);
}

CGORT_AES_TARGET uint64_t cgort_aeshash(const void *ptr, uint64_t n, uint64_t seed) {
    const uint8_t *p = ptr;
    // Seed vector: 64 bits of seed, then the low 16 bits of the length four
    // times (PINSRW $4; PSHUFHW $0).
    __m128i x0 = _mm_insert_epi16(_mm_cvtsi64_si128((long long)seed), (int)(uint16_t)n, 4);
    x0 = _mm_shufflehi_epi16(x0, 0);
    __m128i x1 = x0;                       // unscrambled seed
    x0 = _mm_xor_si128(x0, ks(0));
    x0 = enc(x0, x0);

    if (n < 16) {
        if (n == 0) {                      // aes0
            x0 = enc(x0, x0);
            return (uint64_t)_mm_cvtsi128_si64(x0);
        }
        _Alignas(16) uint8_t buf[16] = {0};
        memcpy(buf, p, n);
        __m128i d = _mm_load_si128((const __m128i *)buf);
        d = _mm_xor_si128(d, x0);          // final1
        d = enc(d, d); d = enc(d, d); d = enc(d, d);
        return (uint64_t)_mm_cvtsi128_si64(d);
    }
    if (n == 16) {                         // aes16
        __m128i d = _mm_xor_si128(ld(p), x0);
        d = enc(d, d); d = enc(d, d); d = enc(d, d);
        return (uint64_t)_mm_cvtsi128_si64(d);
    }
    if (n <= 32) {                         // aes17to32
        x1 = enc(_mm_xor_si128(x1, ks(1)), _mm_xor_si128(x1, ks(1)));
        __m128i x2 = _mm_xor_si128(ld(p), x0);
        __m128i x3 = _mm_xor_si128(ld(p + n - 16), x1);
        for (int r = 0; r < 3; r++) { x2 = enc(x2, x2); x3 = enc(x3, x3); }
        return (uint64_t)_mm_cvtsi128_si64(_mm_xor_si128(x2, x3));
    }
    if (n <= 64) {                         // aes33to64
        __m128i s1 = _mm_xor_si128(x1, ks(1));
        __m128i s2 = _mm_xor_si128(x1, ks(2));
        __m128i s3 = _mm_xor_si128(x1, ks(3));
        s1 = enc(s1, s1); s2 = enc(s2, s2); s3 = enc(s3, s3);
        __m128i x4 = _mm_xor_si128(ld(p), x0);
        __m128i x5 = _mm_xor_si128(ld(p + 16), s1);
        __m128i x6 = _mm_xor_si128(ld(p + n - 32), s2);
        __m128i x7 = _mm_xor_si128(ld(p + n - 16), s3);
        for (int r = 0; r < 3; r++) {
            x4 = enc(x4, x4); x5 = enc(x5, x5); x6 = enc(x6, x6); x7 = enc(x7, x7);
        }
        x4 = _mm_xor_si128(x4, x6);
        x5 = _mm_xor_si128(x5, x7);
        return (uint64_t)_mm_cvtsi128_si64(_mm_xor_si128(x4, x5));
    }
    // 65 bytes and up: seven more starting seeds.
    __m128i s[8];
    s[0] = x0;
    for (int i = 1; i < 8; i++) {
        s[i] = _mm_xor_si128(x1, ks(i));
        s[i] = enc(s[i], s[i]);
    }
    __m128i v[8];
    if (n <= 128) {                        // aes65to128
        for (int i = 0; i < 4; i++) v[i] = ld(p + 16 * i);
        for (int i = 0; i < 4; i++) v[4 + i] = ld(p + n - 64 + 16 * i);
        for (int i = 0; i < 8; i++) v[i] = _mm_xor_si128(v[i], s[i]);
        for (int r = 0; r < 3; r++)
            for (int i = 0; i < 8; i++) v[i] = enc(v[i], v[i]);
    } else {                               // aes129plus
        // Start with the last (possibly overlapping) 128-byte block.
        for (int i = 0; i < 8; i++) v[i] = _mm_xor_si128(ld(p + n - 128 + 16 * i), s[i]);
        uint64_t blocks = (n - 1) >> 7;
        do {
            for (int i = 0; i < 8; i++) v[i] = enc(v[i], v[i]);       // scramble state
            for (int i = 0; i < 8; i++) v[i] = enc(v[i], ld(p + 16 * i)); // xor in a block
            p += 128;
        } while (--blocks != 0);
        for (int r = 0; r < 3; r++)
            for (int i = 0; i < 8; i++) v[i] = enc(v[i], v[i]);
    }
    v[0] = _mm_xor_si128(v[0], v[4]);
    v[1] = _mm_xor_si128(v[1], v[5]);
    v[2] = _mm_xor_si128(v[2], v[6]);
    v[3] = _mm_xor_si128(v[3], v[7]);
    v[0] = _mm_xor_si128(v[0], v[2]);
    v[1] = _mm_xor_si128(v[1], v[3]);
    v[0] = _mm_xor_si128(v[0], v[1]);
    return (uint64_t)_mm_cvtsi128_si64(v[0]);
}
#else
uint64_t cgort_aeshash64(uint64_t key, uint64_t seed) { return cgort_memhash64_fallback(key, seed); }
uint64_t cgort_aeshash(const void *p, uint64_t n, uint64_t seed) { return cgort_memhash_fallback(p, n, seed); }
#endif

// ---------------------------------------------------------------- fastrand

static uint64_t fastrand_base = 0x853c49e6748fea9bULL;
static uint64_t fastrand_threads;
static __thread uint64_t fastrand_state;
static __thread int fastrand_ready;

void cgort_fastrand_seed(uint64_t base) {
    __atomic_store_n(&fastrand_base, base, __ATOMIC_RELAXED);
    __atomic_store_n(&fastrand_threads, 0, __ATOMIC_RELAXED);
}

uint64_t cgort_fastrand64(void) {
    if (__builtin_expect(!fastrand_ready, 0)) {
        uint64_t k = __atomic_fetch_add(&fastrand_threads, 1, __ATOMIC_RELAXED);
        fastrand_state = mix(__atomic_load_n(&fastrand_base, __ATOMIC_RELAXED) ^ M3, (k + 1) * M4);
        fastrand_ready = 1;
    }
    // wyrand, as runtime/stubs.go fastrand on amd64 (the 64-bit variant
    // fastrand64 returns the full hi ^ lo).
    fastrand_state += M1;
    return mix(fastrand_state, fastrand_state ^ M2);
}
