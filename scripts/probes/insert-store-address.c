// insert-store-address: why a Go-layout map insert into a table far bigger
// than the caches costs ~3x what its memory traffic suggests on some
// machines (the 2-vCPU EPYC guest gobench is measured on, for one).
//
// Each insert hashes a key, loads its bucket's tophash word (a cache miss)
// and stores the tophash, key and value into the first empty slot. The
// slot comes from the loaded word, so the three stores' addresses are
// unknown until the miss returns. What varies between the modes is where
// the next insert gets its bucket array pointer from:
//
//   register  kept in a register (what a compiler does with a local array);
//   memory    loaded from memory each insert, as mapassign loads h.buckets
//             (the location is never written while the loop runs);
//   blend     loaded from memory, but every store has an address that does
//             not depend on the miss: the tophash as a whole word at the
//             bucket, keys and values as four 16-byte blends each;
//   open      for contrast, an insert shaped like Swift's Dictionary: an
//             occupancy bitmap (256 KiB, stays in cache) picks the slot in
//             separate key and value arrays (2^21 slots), base pointers
//             loaded from memory each insert. Its store addresses depend
//             only on a cache hit.
//
// Where a load may not run ahead of older stores whose addresses are still
// unknown, "memory" serializes the inserts (each bucket load waits for the
// previous one) and costs about 3x "register"; where loads do run ahead,
// the two are close. Measured here (ns per insert, 1M inserts into 2^18
// buckets of 144 bytes on 2 MiB pages): register 57, memory 136-144,
// blend 96-117, open 37-38.
//
// Build and run:
//   cc -O2 -maes -o /tmp/probe scripts/probes/insert-store-address.c
//   /tmp/probe register; /tmp/probe memory; /tmp/probe blend; /tmp/probe open
#define _GNU_SOURCE
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <wmmintrin.h>

enum { bucketBits = 18, buckets = 1 << bucketBits, bucketSize = 144, inserts = 1000000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// Three AES rounds, as Go's aeshash64.
static inline uint64_t hash64(uint64_t k) {
    __m128i x = _mm_set_epi64x((long long)k, 12345);
    const __m128i ks = _mm_set_epi64x((long long)0x9e3779b97f4a7c15ull, (long long)0xbf58476d1ce4e5b9ull);
    x = _mm_aesenc_si128(x, ks);
    x = _mm_aesenc_si128(x, ks);
    x = _mm_aesenc_si128(x, ks);
    return (uint64_t)_mm_cvtsi128_si64(x);
}

// Anonymous memory on a 2 MiB boundary with huge pages requested, as the
// map's LargeBucketArrays.
static uint8_t *hugeArray(size_t bytes) {
    const size_t huge = 2u << 20;
    size_t length = (bytes + huge - 1) & ~(huge - 1);
    uint8_t *raw = mmap(NULL, length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) { perror("mmap"); exit(1); }
    uint8_t *start = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
    madvise(start, length, MADV_HUGEPAGE);
    return start;
}

// Never written while inserting.
static uint8_t *volatile arrayInMemory;

// Index of the first empty (zero) tophash byte; 0 when none (the probe does
// not chain overflow buckets: a full bucket just has slot 0 overwritten).
static inline int firstEmpty(uint64_t tops) {
    uint64_t zero = ~tops & (tops - 0x0101010101010101ull) & 0x8080808080808080ull;
    return zero ? __builtin_ctzll(zero) >> 3 : 0;
}

static inline uint8_t tophash(uint64_t h) {
    uint8_t top = (uint8_t)(h >> 56);
    return top < 5 ? top + 5 : top;
}

static void insertAt(uint8_t *b, uint64_t key, uint8_t top) {
    uint64_t tops;
    memcpy(&tops, b, 8);
    int i = firstEmpty(tops);
    b[i] = top;
    memcpy(b + 8 + 8 * i, &key, 8);
    memcpy(b + 72 + 8 * i, &key, 8);
}

static void insertBlended(uint8_t *b, uint64_t key, uint8_t top) {
    uint64_t tops;
    memcpy(&tops, b, 8);
    int i = firstEmpty(tops);
    uint64_t newTops = tops | (uint64_t)top << (8 * i);
    memcpy(b, &newTops, 8);
    const __m128i k = _mm_set1_epi64x((long long)key), slot = _mm_set1_epi32(i);
    for (int c = 0; c < 4; c++) {
        __m128i m = _mm_cmpeq_epi32(_mm_set_epi32(2 * c + 1, 2 * c + 1, 2 * c, 2 * c), slot);
        __m128i *kp = (__m128i *)(b + 8 + 16 * c), *vp = (__m128i *)(b + 72 + 16 * c);
        _mm_storeu_si128(kp, _mm_or_si128(_mm_andnot_si128(m, _mm_loadu_si128(kp)), _mm_and_si128(m, k)));
        _mm_storeu_si128(vp, _mm_or_si128(_mm_andnot_si128(m, _mm_loadu_si128(vp)), _mm_and_si128(m, k)));
    }
}

// Never written while inserting.
static uint64_t *volatile bitmapInMemory, *volatile keysInMemory, *volatile valuesInMemory;

static void runOpen(void) {
    const uint64_t slots = 1u << 21, mask = slots - 1;
    bitmapInMemory = calloc(slots / 64, 8);
    keysInMemory = malloc(slots * 8);
    valuesInMemory = malloc(slots * 8);
    if (!bitmapInMemory || !keysInMemory || !valuesInMemory) { perror("malloc"); exit(1); }
    for (int round = 0; round < 5; round++) {
        memset(bitmapInMemory, 0, slots / 8);
        double t0 = now();
        for (uint64_t key = 0; key < inserts; key++) {
            uint64_t *bitmap = bitmapInMemory, *keys = keysInMemory, *values = valuesInMemory;
            uint64_t i = hash64(key) & mask;
            while (bitmap[i >> 6] >> (i & 63) & 1) {  // linear probing
                if (keys[i] == key) break;
                i = (i + 1) & mask;
            }
            bitmap[i >> 6] |= 1ull << (i & 63);
            keys[i] = key;
            values[i] = key;
        }
        double t1 = now();
        if (round > 0) printf("open: %.1f ns/insert\n", (t1 - t0) * 1e9 / inserts);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    int fromMemory = !strcmp(mode, "memory") || !strcmp(mode, "blend");
    int blend = !strcmp(mode, "blend");
    if (!strcmp(mode, "open")) {
        runOpen();
        return 0;
    }
    if (!fromMemory && strcmp(mode, "register")) {
        fprintf(stderr, "usage: %s register|memory|blend|open\n", argv[0]);
        return 2;
    }
    uint8_t *array = hugeArray((size_t)buckets * bucketSize);
    arrayInMemory = array;
    for (int round = 0; round < 5; round++) {
        memset(array, 0, (size_t)buckets * bucketSize);
        double t0 = now();
        for (uint64_t key = 0; key < inserts; key++) {
            uint64_t h = hash64(key);
            uint8_t *base = fromMemory ? arrayInMemory : array;
            uint8_t *b = base + (h & (buckets - 1)) * bucketSize;
            if (blend) insertBlended(b, key, tophash(h));
            else insertAt(b, key, tophash(h));
        }
        double t1 = now();
        if (round > 0) printf("%s: %.1f ns/insert\n", mode, (t1 - t0) * 1e9 / inserts);
    }
    return 0;
}
