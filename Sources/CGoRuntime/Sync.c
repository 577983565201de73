// Per-thread records for the sync ports; see include/CGoRuntimeSync.h.
#define _GNU_SOURCE
#include "CGoRuntimeSync.h"
#include "CGoRuntimeCore.h"
#include "CGoRuntimeSched.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

typedef struct cgort_sync_record_link {
    struct cgort_sync_record_link *next_all;   // every record, newest first
    struct cgort_sync_record_link *next_free;  // free list (records of exited threads)
    void *record;
} cgort_sync_record_link;

// A pthread mutex, not the ports' runtime lock (GoRuntime/Internal/
// RuntimeLock.swift): it guards a C-only registry that pthread key
// destructors reach at thread exit, where no Swift code runs; it is never
// taken on a measured path, and TSan knows it natively.
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static cgort_sync_record_link *all_records = NULL;
static cgort_sync_record_link *free_records = NULL;
static int32_t records_created = 0;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static __thread cgort_sync_record_link *self_link = NULL;
extern __thread cgort_gctx *cgort_tls_curg;

/// Thread exit: hand the record to the free list. Its counters stay.
static void record_release(void *p) {
    cgort_sync_record_link *link = p;
    pthread_mutex_lock(&records_lock);
    link->next_free = free_records;
    free_records = link;
    pthread_mutex_unlock(&records_lock);
}

static void make_key(void) { pthread_key_create(&exit_key, record_release); }

__attribute__((noinline)) static void *record_slow(void) {
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&records_lock);
    cgort_sync_record_link *link = free_records;
    if (link != NULL) {
        free_records = link->next_free;
        link->next_free = NULL;
    } else {
        link = cgort_alloc_aligned(sizeof *link);
        link->record = cgort_alloc_aligned(CGORT_SYNC_RECORD_SIZE);
        link->next_all = all_records;
        all_records = link;
        records_created++;
    }
    pthread_mutex_unlock(&records_lock);
    self_link = link;
    pthread_setspecific(exit_key, link);
    return link->record;
}

void *cgort_sync_new_record(void) {
    cgort_sync_record_link *link = cgort_alloc_aligned(sizeof *link);
    link->record = cgort_alloc_aligned(CGORT_SYNC_RECORD_SIZE);
    pthread_mutex_lock(&records_lock);
    link->next_all = all_records;
    all_records = link;
    // not counted in records_created (threads only)
    pthread_mutex_unlock(&records_lock);
    return link->record;
}

void *cgort_sync_thread_record(void) {
    cgort_gctx *g = cgort_tls_curg;
    if (g != NULL) return g->sync_record;
    cgort_sync_record_link *link = self_link;
    if (__builtin_expect(link != NULL, 1)) return link->record;
    return record_slow();
}

void cgort_sync_sum_counters(uint64_t *out, int32_t count) {
    if (count > CGORT_SYNC_COUNTERS) count = CGORT_SYNC_COUNTERS;
    pthread_mutex_lock(&records_lock);
    for (cgort_sync_record_link *l = all_records; l != NULL; l = l->next_all) {
        uint64_t *c = l->record;
        for (int32_t i = 0; i < count; i++) out[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&records_lock);
}

int32_t cgort_sync_record_count(void) {
    pthread_mutex_lock(&records_lock);
    int32_t n = records_created;
    pthread_mutex_unlock(&records_lock);
    return n;
}

int32_t cgort_sync_pin_thread(int32_t cpu) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
    (void)cpu;
    return 0;
#endif
}

int32_t cgort_sync_allowed_cpus(int32_t *out, int32_t max) {
    int32_t n = 0;
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
#endif
    return n;
}
