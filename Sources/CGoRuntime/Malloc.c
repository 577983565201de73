// Linux bodies of CGoRuntimeMalloc.h: the system calls behind the
// size-class allocator (Go's runtime/mem_linux.go) and its thread-local
// mcache lookup.
#define _GNU_SOURCE
#include "CGoRuntimeMalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __linux__
#include <sys/mman.h>

__thread uint64_t cgort_malloc_tls_id __attribute__((tls_model("initial-exec"))) = 0;
__thread void *cgort_malloc_tls_cache __attribute__((tls_model("initial-exec"))) = 0;

void *cgort_malloc_reserve(uint64_t bytes) {
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int cgort_malloc_commit(void *p, uint64_t bytes) {
    return mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0 ? 0 : -errno;
}

int cgort_malloc_decommit(void *p, uint64_t bytes) {
    return madvise(p, bytes, MADV_DONTNEED) == 0 ? 0 : -errno;
}

void cgort_malloc_unmap(void *p, uint64_t bytes) { munmap(p, bytes); }

void *cgort_malloc_map_table(uint64_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *cgort_malloc_meta_alloc(uint64_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) { fputs("fatal error: out of memory for allocator metadata\n", stderr); _Exit(2); }
    return p;
}

void cgort_malloc_meta_free(void *p) { free(p); }

// pthread key destructors get only the value; the hook is the same Swift
// function for every allocator, so one global is enough.
static cgort_malloc_exit_hook exit_hook_fn;

static void key_destructor(void *value) {
    if (cgort_malloc_tls_cache == value) { cgort_malloc_tls_id = 0; cgort_malloc_tls_cache = 0; }
    cgort_malloc_exit_hook hook = __atomic_load_n(&exit_hook_fn, __ATOMIC_ACQUIRE);
    if (hook) hook(value);
}

int64_t cgort_malloc_key_new(cgort_malloc_exit_hook hook) {
    __atomic_store_n(&exit_hook_fn, hook, __ATOMIC_RELEASE);
    pthread_key_t k;
    if (pthread_key_create(&k, key_destructor) != 0) return -1;
    return (int64_t)k;
}

void cgort_malloc_key_delete(int64_t key) { pthread_key_delete((pthread_key_t)key); }
void *cgort_malloc_key_get(int64_t key) { return pthread_getspecific((pthread_key_t)key); }
void cgort_malloc_key_set(int64_t key, void *value) { pthread_setspecific((pthread_key_t)key, value); }

#endif
