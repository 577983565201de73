// CGoRuntimeMalloc: what the size-class allocator (GoRuntime/Malloc) needs
// from C and cannot express in Swift:
//   - address-space reservation and commit (Go's sysReserve / sysMap /
//     sysFree in runtime/mem_linux.go), here mmap/mprotect/munmap;
//   - a thread-local one-entry cache of "this thread's mcache for allocator
//     #id" in a C `__thread` variable with the initial-exec TLS model, so the
//     malloc fast path finds its mcache with two TLS loads and a compare,
//     without a call (Go reaches its mcache through g.m.p, a register);
//   - a pthread key whose destructor flushes a thread's mcache at exit.
// The allocator's locks are not here: they are the ports' one runtime lock,
// GoRuntime/Internal/RuntimeLock.swift (lock_futex.go).
// Symbols are prefixed `cgort_malloc_`; only the files of
// GoRuntime/Malloc call them.
#ifndef CGORUNTIME_MALLOC_H
#define CGORUNTIME_MALLOC_H

#include <stdint.h>
#include <stddef.h>

/// Reserve `bytes` of address space, inaccessible and not charged to the
/// commit limit (PROT_NONE, MAP_NORESERVE). NULL on failure.
void *cgort_malloc_reserve(uint64_t bytes);

/// Make [p, p+bytes) of a reservation readable and writable (sysMap).
/// Returns 0 or -errno.
int cgort_malloc_commit(void *p, uint64_t bytes);

/// Give the pages back to the OS but keep the range mapped: they read as
/// zero afterwards (sysUnused, MADV_DONTNEED). Returns 0 or -errno.
int cgort_malloc_decommit(void *p, uint64_t bytes);

/// Unmap a reservation or mapping (sysFree).
void cgort_malloc_unmap(void *p, uint64_t bytes);

/// A zero-filled read-write mapping that the kernel fills lazily
/// (MAP_NORESERVE): for tables indexed by page. NULL on failure.
void *cgort_malloc_map_table(uint64_t bytes);

/// Zeroed memory from the C heap for allocator metadata (Go's
/// persistentalloc / fixalloc chunks). Never returns NULL.
void *cgort_malloc_meta_alloc(uint64_t bytes);
void cgort_malloc_meta_free(void *p);

/// The calling thread's one-entry mcache cache: (allocator id, mcache).
/// Ids are never reused, so a stale entry can never match a newer allocator.
extern __thread uint64_t cgort_malloc_tls_id __attribute__((tls_model("initial-exec")));
extern __thread void *cgort_malloc_tls_cache __attribute__((tls_model("initial-exec")));

static inline __attribute__((always_inline)) void *cgort_malloc_tls_lookup(uint64_t id) {
    return cgort_malloc_tls_id == id ? cgort_malloc_tls_cache : (void *)0;
}

static inline __attribute__((always_inline)) void cgort_malloc_tls_set(uint64_t id, void *cache) {
    cgort_malloc_tls_id = id;
    cgort_malloc_tls_cache = cache;
}

/// Per-allocator thread-specific slot (pthread_key_t) whose destructor
/// `cgort_malloc_key_new` installs: at thread exit the destructor calls
/// `exit_hook(value)` with the thread's mcache, and clears the one-entry
/// cache above if it points at that mcache. Returns -1 if no key is left.
typedef void (*cgort_malloc_exit_hook)(void *mcache);
int64_t cgort_malloc_key_new(cgort_malloc_exit_hook exit_hook);
void cgort_malloc_key_delete(int64_t key);
void *cgort_malloc_key_get(int64_t key);
void cgort_malloc_key_set(int64_t key, void *value);

#endif
