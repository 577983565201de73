// Heap allocation counting for the harness (issue 23): this target defines
// malloc, calloc, realloc, reallocarray, free, posix_memalign,
// aligned_alloc, memalign, valloc and pvalloc in whatever executable links
// it (gobench and the test binaries), forwards each to glibc's own
// __libc_* entry point, and counts the calls of a thread while that
// thread's counting is on. Symbols are prefixed `cgba_`.
//
// Why not ordo-one/malloc-interposer 1.6.1 (package-benchmark's): its
// switch is process-wide (one enable flag; statistics sum every thread),
// so a multi-threaded benchmark would also count what the other workers'
// probes and the coordinating thread allocate while any worker is still in
// its timed loop; it prefixes every allocation of the process with a
// 16-byte header, counting or not, which changes the size class of every
// glibc allocation (and so the malloc/glibc and malloc/swift-class
// benchmarks) even with counting off; and on Linux it is a shared library
// to LD_PRELOAD. Here counting is per thread and per region, nothing is
// added to any block, and the off cost is one thread-local byte load and a
// not-taken branch per call.
//
// Per-thread model: every counter and the state byte are `__thread`
// (initial-exec TLS: one %fs-relative access, no __tls_get_addr, no
// allocation), written only by their own thread, and read only by that
// thread (cgba_stop). No atomics, no locks, nothing shared.
//
// What is counted while a thread counts (CGBA_COUNTING):
//   malloc, calloc, aligned_alloc, memalign, posix_memalign, valloc,
//   pvalloc       one allocation of the requested bytes (calloc: n * size),
//                 when it succeeds;
//   realloc(p, n) with p != NULL and n != 0: one allocation of n bytes and
//                 one free (the old block), whether or not glibc moved it:
//                 a realloc counts once in allocs/op, and allocations minus
//                 frees stays the change in live blocks;
//   realloc(NULL, n) as malloc(n); realloc(p, 0) as free(p);
//   reallocarray  as realloc of n * size;
//   free(p)       one free, p != NULL.
// glibc's own functions that allocate (strdup, fopen...) call these
// symbols and are counted; what glibc allocates for itself without them
// (malloc's arenas, TLS blocks) is not.
//
// Sanitizers: TSan and ASan interpose malloc themselves (their runtimes
// define these symbols, weakly); a strong definition here would take
// their place and break them. Under a sanitizer this file defines none of
// the overrides and cgba_available() returns 0: the harness then reports
// allocation counting unavailable.
#ifndef CGOBENCH_ALLOC_H
#define CGOBENCH_ALLOC_H

#include <stdint.h>

/// Counts of one thread's counted region.
typedef struct {
    uint64_t allocs;
    uint64_t bytes;
    uint64_t frees;
} cgba_counts;

/// 1 if this build defines the allocator overrides (no sanitizer), else 0.
/// Whether they are really in effect (the executable exports them, shared
/// libraries bind to them) is for the caller to check by counting a
/// known allocation.
int cgba_available(void);

/// Zeroes the calling thread's counts and starts counting its calls.
void cgba_start(void);

/// Stops counting on the calling thread and returns its counts.
cgba_counts cgba_stop(void);

/// Suspends counting on the calling thread (the benchmark stopped its
/// timer); no effect unless it is counting.
void cgba_pause(void);

/// Resumes counting after cgba_pause; no effect unless paused.
void cgba_resume(void);

/// The calling thread's counts so far, without stopping.
cgba_counts cgba_peek(void);

/// Adoption, for a region whose code starts threads of its own (the
/// goroutine scheduler's Ms). The counting thread calls
/// cgba_adopt_children() after cgba_start(); until its cgba_stop(), a
/// thread that calls cgba_child_begin() first thing counts its own calls,
/// and hands its counts over with cgba_child_end() when it ends; the
/// adopter's cgba_stop() adds every count handed over so far. A thread
/// that ends after the adopter stops is not counted (Go.run joins its Ms
/// before it returns). One adopter at a time; the adopter's pause does not
/// pause its children. cgba_adopt_children is a no-op on a thread that is
/// not counting, and cgba_child_end on a thread that is not counting.
void cgba_adopt_children(void);
void cgba_child_begin(void);
void cgba_child_end(void);

#endif
