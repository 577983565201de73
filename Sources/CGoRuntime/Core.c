// Linux bodies of the CGoRuntime shim; see include/CGoRuntimeCore.h.
#define _GNU_SOURCE
#include "CGoRuntimeCore.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>

int cgort_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
    return r < 0 ? -errno : 0;
}

int cgort_futex_wake(uint32_t *addr, int32_t n) {
    long r = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}

int32_t cgort_gettid(void) { return (int32_t)syscall(SYS_gettid); }

int32_t cgort_ncpu(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}
#endif

void cgort_osyield(void) { sched_yield(); }

int64_t cgort_nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cgort_thread_cputime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void *cgort_alloc_aligned(uint64_t size) {
    void *p = NULL;
    if (size == 0) size = 1;
    if (posix_memalign(&p, 64, (size_t)size) != 0 || p == NULL) {
        fputs("fatal error: out of memory\n", stderr);
        abort();
    }
    memset(p, 0, (size_t)size);
    return p;
}

void cgort_free_aligned(void *p) { free(p); }
