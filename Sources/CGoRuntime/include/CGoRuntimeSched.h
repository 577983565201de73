// CGoRuntimeSched: what the goroutine scheduler (GoRuntime/Sched) needs below
// Swift: a goroutine's machine context and stack, the switch between stacks
// (SchedSwitch.S), the thread-local "current goroutine", and the hooks that
// keep the thread sanitizer and Swift's exclusivity checker truthful across
// switches. Only GoRuntime/Sched/SchedC.swift imports these declarations.
//
// Stacks. Each goroutine runs on its own mmap'd stack of a fixed size
// (default 64 KiB) with one PROT_NONE guard page below it, so an overflow
// faults instead of corrupting a neighbour. Go grows and copies stacks;
// Swift frames cannot be moved (they hold interior pointers), so here the
// size is fixed: the one deliberate difference from Go's scheduler. The
// copying-stack model under GoRuntime/Stack stays the place where copying
// is studied.
//
// The outermost frame of every goroutine is cgort_ctx_trampoline: its CFI
// marks the return address undefined and it runs with rbp = 0, and the two
// words at the top of the stack are zero, so libunwind (the SIGPROF
// sampler) and frame-pointer walks both stop cleanly at the goroutine's
// entry instead of wandering into whatever memory lies above the stack.
//
// Thread sanitizer. Each goroutine is a TSan fiber (created when its stack
// is prepared, destroyed when it exits); every switch tells TSan first
// (__tsan_switch_to_fiber), so TSan attributes each access to the goroutine
// that made it, on whatever thread it runs. Compiled only in TSan builds.
//
// Exclusivity. Swift's dynamic exclusivity checker keeps a per-thread list
// of in-progress accesses whose records live in the accessing frames. A
// goroutine that switches away during an access would leave its records in
// the thread's list (a later goroutine on that thread then sees a false
// conflict) and end them on another thread whose list does not hold them.
// The switch therefore does what Swift's own task switch does: before
// leaving a goroutine it moves that goroutine's accesses out of the
// thread's list into the goroutine (swift_task_exitThreadLocalContext, in
// cgort_mcall), and the M that resumes it moves them back onto its own
// thread's list right before the switch (swift_task_enterThreadLocalContext,
// in cgort_gogo). See GoRuntime/Sched/Sched.swift.
#ifndef CGORUNTIME_SCHED_H
#define CGORUNTIME_SCHED_H

#include <stdint.h>
#include <stdbool.h>
#include "CGoRuntimeChan.h"

/// A goroutine's machine side. Allocated once and reused with its G (Go
/// never frees a g either); the stack may be replaced if its size changes.
typedef struct cgort_gctx {
    /// Saved stack pointer while the goroutine is not running.
    void *sp;
    /// The Swift G this context belongs to.
    void *g;
    /// Entry function and its argument (run by cgort_gstart).
    void (*fn)(void *);
    void *arg;
    /// The goroutine's channel record (CGoRuntimeChan.h): its park word,
    /// param, selectDone and sudog cache. Registered with the channel
    /// event registry, never freed.
    cgort_chan_m *chan_m;
    /// The goroutine's sync record (CGoRuntimeSync.h): counters and its
    /// semaphore sudog. Registered, never freed.
    void *sync_record;
    /// TSan fiber (NULL outside TSan builds).
    void *tsan_fiber;
    /// Swift exclusivity state of the goroutine while it is switched out
    /// (SwiftTaskThreadLocalContext: two words, zero initially).
    uintptr_t excl[2];
    /// mmap'd region: guard page + stack. stack_hi is its end.
    void *stack_base;
    uint64_t stack_size;   // usable bytes, without the guard page
    uint64_t map_size;     // bytes mapped, guard page included
} cgort_gctx;

/// An M's scheduling context (its g0: the thread's own stack).
typedef struct cgort_mctx {
    void *sp;
    void *tsan_fiber;
} cgort_mctx;

/// A new context with a stack of `stack_size` usable bytes (rounded up to
/// pages) and its own channel and sync records. NULL if mmap fails.
cgort_gctx *cgort_gctx_new(void *g, uint64_t stack_size);

/// Replace the stack with one of `stack_size` bytes. Returns false if
/// mmap fails (the old stack is then kept).
bool cgort_gctx_restack(cgort_gctx *c, uint64_t stack_size);

/// Lay out a fresh initial frame so that the next switch to `c` runs
/// fn(arg) on its own stack from the top; creates its TSan fiber.
void cgort_gctx_prepare(cgort_gctx *c, void (*fn)(void *), void *arg);

/// The goroutine exited (called on g0): destroy its TSan fiber.
void cgort_gctx_retire(cgort_gctx *c);

/// The calling thread becomes an M: records its TSan fiber.
void cgort_mctx_init(cgort_mctx *m);

/// gogo: from the M's scheduler stack into goroutine `g`. Returns when the
/// goroutine switches back (cgort_mcall).
void cgort_gogo(cgort_mctx *m, cgort_gctx *g);

/// mcall: from goroutine `g` back to the scheduler stack of M `m`.
/// Returns when some M switches to `g` again (possibly another thread).
void cgort_mcall(cgort_gctx *g, cgort_mctx *m);

/// The goroutine running on this thread, or NULL on a plain thread or on
/// an M's scheduler stack. Not inlined on purpose: a goroutine can resume
/// on another thread after any switch, and a compiler may reuse a
/// thread-local address computed before a call, so every read goes
/// through a fresh call.
cgort_gctx *cgort_sched_curg(void);

/// The G pointer of cgort_sched_curg(), or NULL.
void *cgort_sched_getg(void);

/// The per-thread pointer an M keeps (its Swift M), or NULL.
void *cgort_sched_getm(void);
void cgort_sched_setm(void *m);

/// The scheduler's global words, reached from Swift without a lazy-global
/// check. A Swift global whose initializer is not a constant is reached
/// through an accessor that calls swift_once on every use; the profile of
/// goroutine/yield/procs=1 spent 5% in swift_once for `schedp` and the two
/// lock keys. These live in C static storage instead (the lock keys each on
/// a cache line of their own, as before) and the SchedT pointer in a C
/// global published once with release order.
extern uint32_t cgort_sched_lock_words[32] __attribute__((aligned(64)));
extern void *cgort_sched_block;

/// sched.lock's futex word.
static inline __attribute__((always_inline)) uint32_t *cgort_sched_lock_key(void) {
    return &cgort_sched_lock_words[0];
}
/// sched.gFree.lock's futex word (its own line).
static inline __attribute__((always_inline)) uint32_t *cgort_gfree_lock_key(void) {
    return &cgort_sched_lock_words[16];
}
/// The published SchedT, or NULL before the first use.
static inline __attribute__((always_inline)) void *cgort_sched_ptr(void) {
    return __atomic_load_n(&cgort_sched_block, __ATOMIC_ACQUIRE);
}
static inline __attribute__((always_inline)) void cgort_sched_ptr_publish(void *p) {
    __atomic_store_n(&cgort_sched_block, p, __ATOMIC_RELEASE);
}

/// Runs on a goroutine's stack first (called by the trampoline).
void cgort_gstart(cgort_gctx *c) __attribute__((noreturn));

/// Page size.
uint64_t cgort_page_size(void);

/// Thread creation for Ms: start fn(arg) on a new joinable pthread.
/// Returns an opaque handle or 0 on failure.
uint64_t cgort_thread_start(void (*fn)(void *), void *arg);
void cgort_thread_join(uint64_t handle);

/// Functions every M's thread calls first and last (either may be NULL):
/// how a harness that counts per thread adopts the scheduler's threads.
void cgort_sched_set_thread_hooks(void (*begin)(void), void (*end)(void));

/// Turns the exclusivity hand-over at switches off or on (tests only:
/// they show the false conflict it prevents). On by default.
void cgort_sched_set_exclusivity_handover(bool on);

/// The address of the entry trampoline (tests: the outermost frame of a
/// goroutine's stack).
void *cgort_ctx_trampoline_address(void);

/// glibc backtrace() (a CFI unwinder, like the sampler's libunwind), for
/// tests of where unwinding a goroutine stack ends.
int32_t cgort_backtrace(void **out, int32_t max);

/// Whether this build runs under the thread sanitizer.
bool cgort_sched_tsan(void);

#endif
