// Per-thread records for the channel port; see include/CGoRuntimeChan.h.
#include "CGoRuntimeChan.h"
#include "CGoRuntimeSched.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// A pthread mutex, not the ports' runtime lock (GoRuntime/Internal/
// RuntimeLock.swift): it guards a C-only registry that pthread key
// destructors reach at thread exit, where no Swift code runs; it is never
// taken on a measured path, and TSan knows it natively.
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static cgort_chan_m *registry_live;   // records of running threads
static cgort_chan_m *registry_free;   // records of exited threads, for reuse
static uint64_t registry_retired[CGORT_CHAN_NEVENTS];
static pthread_key_t registry_key;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static __thread cgort_chan_m *self_m;
extern __thread cgort_gctx *cgort_tls_curg;

static void unlink_live(cgort_chan_m *m) {
    cgort_chan_m **pp = &registry_live;
    while (*pp && *pp != m) pp = &(*pp)->all_next;
    if (*pp) *pp = m->all_next;
}

// Thread exit: fold the counters into the retired totals and park the
// record (with its sudog cache) in the free pool.
static void retire(void *p) {
    cgort_chan_m *m = p;
    pthread_mutex_lock(&registry_mu);
    for (int i = 0; i < CGORT_CHAN_NEVENTS; i++) {
        registry_retired[i] += __atomic_load_n(&m->events[i], __ATOMIC_RELAXED);
        __atomic_store_n(&m->events[i], 0, __ATOMIC_RELAXED);
    }
    unlink_live(m);
    m->all_next = registry_free;
    registry_free = m;
    pthread_mutex_unlock(&registry_mu);
    self_m = NULL;
}

static void make_key(void) { pthread_key_create(&registry_key, retire); }

cgort_chan_m *cgort_chan_new_record(void *g) {
    pthread_mutex_lock(&registry_mu);
    cgort_chan_m *m = aligned_alloc(64, (sizeof(cgort_chan_m) + 63) & ~(size_t)63);
    if (!m) abort();
    memset(m, 0, sizeof *m);
    m->g = g;
    m->all_next = registry_live;
    registry_live = m;
    pthread_mutex_unlock(&registry_mu);
    return m;
}

cgort_chan_m *cgort_chan_self(void) {
    // On a goroutine: its own record (it parks as a goroutine, and may run
    // on several threads in turn).
    cgort_gctx *g = cgort_tls_curg;
    if (g != NULL) return g->chan_m;
    cgort_chan_m *m = self_m;
    if (__builtin_expect(m != NULL, 1)) return m;
    pthread_once(&registry_once, make_key);
    pthread_mutex_lock(&registry_mu);
    m = registry_free;
    if (m) {
        registry_free = m->all_next;
    } else {
        m = aligned_alloc(64, (sizeof(cgort_chan_m) + 63) & ~(size_t)63);
        if (!m) abort();
        memset(m, 0, sizeof *m);
    }
    __atomic_store_n(&m->key, 0, __ATOMIC_RELAXED);
    m->all_next = registry_live;
    registry_live = m;
    pthread_mutex_unlock(&registry_mu);
    pthread_setspecific(registry_key, m);
    self_m = m;
    return m;
}

void cgort_chan_events_snapshot(uint64_t *out, int n) {
    if (n > CGORT_CHAN_NEVENTS) n = CGORT_CHAN_NEVENTS;
    pthread_mutex_lock(&registry_mu);
    for (int i = 0; i < n; i++) out[i] = registry_retired[i];
    for (cgort_chan_m *m = registry_live; m; m = m->all_next)
        for (int i = 0; i < n; i++) out[i] += __atomic_load_n(&m->events[i], __ATOMIC_RELAXED);
    pthread_mutex_unlock(&registry_mu);
}

// runtime/stubs.go fastrand (wyrand) with a per-thread state.
static uint64_t rand_seed_override;   // 0: none
static __thread uint64_t rand_state;
static __thread int rand_seeded;

void cgort_chan_set_rand_seed(uint64_t seed) {
    __atomic_store_n(&rand_seed_override, seed, __ATOMIC_RELAXED);
    rand_state = seed;
    rand_seeded = seed != 0;
}

uint32_t cgort_chan_fastrandn(uint32_t n) {
    if (__builtin_expect(!rand_seeded, 0)) {
        uint64_t s = __atomic_load_n(&rand_seed_override, __ATOMIC_RELAXED);
        if (s == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)(uintptr_t)&rand_state << 7) | 1;
        }
        rand_state = s;
        rand_seeded = 1;
    }
    rand_state += 0xa0761d6478bd642fULL;
    __uint128_t t = (__uint128_t)rand_state * (rand_state ^ 0xe7037ed1a0b428dbULL);
    uint32_t r = (uint32_t)((uint64_t)(t >> 64) ^ (uint64_t)t);
    // fastrandn: Lemire's multiply-shift reduction, as Go does.
    return (uint32_t)(((uint64_t)r * (uint64_t)n) >> 32);
}
