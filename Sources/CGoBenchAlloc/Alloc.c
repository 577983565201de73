// The allocation-counting overrides described in CGoBenchAlloc.h. Each
// override forwards to glibc's exported __libc_* implementation, so no
// dlsym(RTLD_NEXT) lookup is needed and there is no first-call recursion
// to guard against (dlsym itself may call malloc). Counting is a plain
// increment of the calling thread's own counters, behind one test of its
// state byte.
#include "CGoBenchAlloc.h"

#if defined(__has_feature)
#  if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#    define CGBA_SANITIZED 1
#  endif
#endif
#if !defined(CGBA_SANITIZED) && (defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#  define CGBA_SANITIZED 1
#endif
// -Xcc -DCGOBENCH_NO_ALLOC_INTERPOSER builds without the overrides, as
// under a sanitizer: for measuring what their mere presence costs.
#if !defined(CGBA_SANITIZED) && defined(CGOBENCH_NO_ALLOC_INTERPOSER)
#  define CGBA_SANITIZED 1
#endif
#ifndef CGBA_SANITIZED
#  define CGBA_SANITIZED 0
#endif

#ifdef __linux__

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/// The calling thread's counting state.
enum {
    CGBA_OFF = 0,       // not counting (the default of every thread)
    CGBA_COUNTING = 1,  // inside a counted region
    CGBA_PAUSED = 2,    // inside a counted region, timer stopped
};

/// One thread's state and counts. initial-exec: the executable's own TLS
/// block, reached with one %fs-relative access; nothing is allocated for
/// it, so the overrides can use it from the very first malloc of a thread.
typedef struct {
    uint64_t allocs;
    uint64_t bytes;
    uint64_t frees;
    unsigned char state;
    /// This thread adopted the threads its region starts (cgba_adopt_children).
    unsigned char adopter;
} cgba_thread;

static __thread cgba_thread cgba_self __attribute__((tls_model("initial-exec")));

/// Adoption (CGoBenchAlloc.h): 1 while an adopter counts; the counts that
/// adopted threads handed over when they ended. Atomics: written by the
/// adopted threads, read by the adopter.
static int cgba_adopting;
static uint64_t cgba_adopted[3];

int cgba_available(void) { return !CGBA_SANITIZED; }

void cgba_adopt_children(void) {
    if (cgba_self.state != CGBA_COUNTING) return;
    for (int i = 0; i < 3; i++) __atomic_store_n(&cgba_adopted[i], 0, __ATOMIC_RELAXED);
    cgba_self.adopter = 1;
    __atomic_store_n(&cgba_adopting, 1, __ATOMIC_RELEASE);
}

void cgba_child_begin(void) {
    if (__atomic_load_n(&cgba_adopting, __ATOMIC_ACQUIRE)) cgba_start();
}

void cgba_child_end(void) {
    if (cgba_self.state == CGBA_OFF) return;
    cgba_counts c = cgba_stop();
    __atomic_fetch_add(&cgba_adopted[0], c.allocs, __ATOMIC_RELEASE);
    __atomic_fetch_add(&cgba_adopted[1], c.bytes, __ATOMIC_RELEASE);
    __atomic_fetch_add(&cgba_adopted[2], c.frees, __ATOMIC_RELEASE);
}

void cgba_start(void) {
    cgba_self.allocs = 0;
    cgba_self.bytes = 0;
    cgba_self.frees = 0;
    // A compiler barrier: the zeroing must not sink below the switch (it
    // would not matter for correctness on one thread, but keeps the
    // counted region exactly the code between the calls).
    __asm__ volatile("" ::: "memory");
    cgba_self.state = CGBA_COUNTING;
}

cgba_counts cgba_stop(void) {
    cgba_self.state = CGBA_OFF;
    __asm__ volatile("" ::: "memory");
    cgba_counts c = { cgba_self.allocs, cgba_self.bytes, cgba_self.frees };
    if (cgba_self.adopter) {
        cgba_self.adopter = 0;
        __atomic_store_n(&cgba_adopting, 0, __ATOMIC_RELEASE);
        c.allocs += __atomic_load_n(&cgba_adopted[0], __ATOMIC_ACQUIRE);
        c.bytes += __atomic_load_n(&cgba_adopted[1], __ATOMIC_ACQUIRE);
        c.frees += __atomic_load_n(&cgba_adopted[2], __ATOMIC_ACQUIRE);
    }
    return c;
}

void cgba_pause(void) {
    if (cgba_self.state == CGBA_COUNTING) cgba_self.state = CGBA_PAUSED;
}

void cgba_resume(void) {
    if (cgba_self.state == CGBA_PAUSED) cgba_self.state = CGBA_COUNTING;
}

cgba_counts cgba_peek(void) {
    cgba_counts c = { cgba_self.allocs, cgba_self.bytes, cgba_self.frees };
    return c;
}

#if !CGBA_SANITIZED

// glibc's implementations, exported for exactly this use (GLIBC_2.2.5).
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

#define CGBA_EXPORT __attribute__((visibility("default")))
#define CGBA_COUNTED __attribute__((noinline))
#define CGBA_NOT_COUNTING() __builtin_expect(cgba_self.state != CGBA_COUNTING, 1)

// Shape of every override: when the thread is not counting (always, but
// for a timed loop under the allocation probe), one thread-local byte
// compare and a tail jump into glibc through its GOT slot; when it is, a
// jump to the outlined counting path. (Inlining that path made clang hoist
// the glibc call above the test and spill registers on both paths: 12 more
// instructions per malloc+free pair off, 1 more on; callgrind.) Costs are
// in AllocInstrument.swift.

static inline __attribute__((always_inline)) void cgba_count_alloc(size_t size) {
    cgba_self.allocs += 1;
    cgba_self.bytes += size;
}

static CGBA_COUNTED void *cgba_malloc_counted(size_t size) {
    void *p = __libc_malloc(size);
    if (p) cgba_count_alloc(size);
    return p;
}

CGBA_EXPORT void *malloc(size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_malloc(size);
    return cgba_malloc_counted(size);
}

CGBA_EXPORT void free(void *p) {
    if (!CGBA_NOT_COUNTING() && p) cgba_self.frees += 1;
    __libc_free(p);
}

static CGBA_COUNTED void *cgba_calloc_counted(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    // Non-NULL means n * size did not overflow.
    if (p) cgba_count_alloc(n * size);
    return p;
}

CGBA_EXPORT void *calloc(size_t n, size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_calloc(n, size);
    return cgba_calloc_counted(n, size);
}

static CGBA_COUNTED void *cgba_realloc_counted(void *old, size_t size) {
    void *p = __libc_realloc(old, size);
    if (old == NULL) {
        if (p) cgba_count_alloc(size);              // malloc(size)
    } else if (size == 0) {
        cgba_self.frees += 1;                       // glibc freed old
    } else if (p) {
        cgba_count_alloc(size);                     // a new block of size
        cgba_self.frees += 1;                       // in place of old
    }                                               // NULL: old untouched
    return p;
}

CGBA_EXPORT void *realloc(void *old, size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_realloc(old, size);
    return cgba_realloc_counted(old, size);
}

CGBA_EXPORT void *reallocarray(void *old, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

static CGBA_COUNTED void *cgba_memalign_counted(size_t alignment, size_t size) {
    void *p = __libc_memalign(alignment, size);
    if (p) cgba_count_alloc(size);
    return p;
}

CGBA_EXPORT void *memalign(size_t alignment, size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_memalign(alignment, size);
    return cgba_memalign_counted(alignment, size);
}

// glibc 2.36's aligned_alloc is its memalign.
CGBA_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_memalign(alignment, size);
    return cgba_memalign_counted(alignment, size);
}

CGBA_EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
    // POSIX: a power of two multiple of sizeof(void *), else EINVAL.
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) {
        return EINVAL;
    }
    int saved = errno;
    void *p = CGBA_NOT_COUNTING() ? __libc_memalign(alignment, size) : cgba_memalign_counted(alignment, size);
    if (p == NULL) {
        errno = saved;  // posix_memalign reports through its result only
        return ENOMEM;
    }
    *out = p;
    return 0;
}

static CGBA_COUNTED void *cgba_valloc_counted(size_t size, int page_rounded) {
    void *p = page_rounded ? __libc_pvalloc(size) : __libc_valloc(size);
    if (p) cgba_count_alloc(size);
    return p;
}

CGBA_EXPORT void *valloc(size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_valloc(size);
    return cgba_valloc_counted(size, 0);
}

CGBA_EXPORT void *pvalloc(size_t size) {
    if (CGBA_NOT_COUNTING()) return __libc_pvalloc(size);
    return cgba_valloc_counted(size, 1);
}

#endif  // !CGBA_SANITIZED

#else  // !__linux__

int cgba_available(void) { return 0; }
void cgba_start(void) {}
cgba_counts cgba_stop(void) { cgba_counts c = { 0, 0, 0 }; return c; }
void cgba_pause(void) {}
void cgba_resume(void) {}
cgba_counts cgba_peek(void) { cgba_counts c = { 0, 0, 0 }; return c; }
void cgba_adopt_children(void) {}
void cgba_child_begin(void) {}
void cgba_child_end(void) {}

#endif
