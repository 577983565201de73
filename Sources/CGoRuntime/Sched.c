// Goroutine contexts, stacks and switches; see include/CGoRuntimeSched.h.
#define _GNU_SOURCE
#include "CGoRuntimeSched.h"
#include "CGoRuntimeCore.h"
#include "CGoRuntimeSync.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CGORT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(CGORT_TSAN)
#define CGORT_TSAN 1
#endif

#ifdef CGORT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);
#endif

// Swift runtime (stdlib/public/runtime/Exclusivity.cpp): the hooks Swift's
// task switch uses to move a task's in-progress accesses off and back onto
// the thread's access set. Weak, so that a runtime without them links (the
// switch then leaves the access set alone).
extern void swift_task_enterThreadLocalContext(char *state) __attribute__((weak));
extern void swift_task_exitThreadLocalContext(char *state) __attribute__((weak));

void cgort_ctx_switch(void **save_sp, void *load_sp);

/// Whether switches hand the exclusivity access set over (tests turn it off
/// to show what it prevents).
static int excl_handover = 1;
void cgort_sched_set_exclusivity_handover(bool on) { excl_handover = on; }
#define EXCL_ENTER(c) do { if (excl_handover && swift_task_enterThreadLocalContext) swift_task_enterThreadLocalContext((char *)(c)->excl); } while (0)
#define EXCL_EXIT(c) do { if (excl_handover && swift_task_exitThreadLocalContext) swift_task_exitThreadLocalContext((char *)(c)->excl); } while (0)
void cgort_ctx_trampoline(void);

uint32_t cgort_sched_lock_words[32] __attribute__((aligned(64)));
void *cgort_sched_block;

/// The goroutine running on this thread (NULL: plain thread or g0).
__thread cgort_gctx *cgort_tls_curg;
static __thread void *tls_m;

uint64_t cgort_page_size(void) {
    static uint64_t ps;
    if (ps == 0) ps = (uint64_t)sysconf(_SC_PAGESIZE);
    return ps;
}

bool cgort_sched_tsan(void) {
#ifdef CGORT_TSAN
    return true;
#else
    return false;
#endif
}

static bool map_stack(cgort_gctx *c, uint64_t stack_size) {
    uint64_t ps = cgort_page_size();
    uint64_t usable = (stack_size + ps - 1) & ~(ps - 1);
    if (usable < 4 * ps) usable = 4 * ps;
    uint64_t total = usable + ps;
    void *base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return false;
    // The guard page: the lowest page, so running off the bottom faults.
    if (mprotect(base, ps, PROT_NONE) != 0) { munmap(base, total); return false; }
    c->stack_base = base;
    c->stack_size = usable;
    c->map_size = total;
    return true;
}

cgort_gctx *cgort_gctx_new(void *g, uint64_t stack_size) {
    cgort_gctx *c = cgort_alloc_aligned(sizeof *c);
    if (!map_stack(c, stack_size)) { cgort_free_aligned(c); return NULL; }
    c->g = g;
    c->chan_m = cgort_chan_new_record(g);
    c->sync_record = cgort_sync_new_record();
    return c;
}

bool cgort_gctx_restack(cgort_gctx *c, uint64_t stack_size) {
    void *old = c->stack_base;
    uint64_t old_size = c->map_size;
    if (!map_stack(c, stack_size)) return false;
    munmap(old, old_size);
    return true;
}

void cgort_gctx_prepare(cgort_gctx *c, void (*fn)(void *), void *arg) {
    c->fn = fn;
    c->arg = arg;
    c->excl[0] = 0;
    c->excl[1] = 0;
    // Initial frame, from the (16-byte aligned) top down:
    //   hi-8, hi-16   0, 0: sentinel return address and frame pointer
    //   A-8           cgort_ctx_trampoline   (A = hi-16: rsp after `ret`)
    //   A-16..A-56    rbp=0, rbx=0, r12=c, r13..r15=0 (popped by the switch)
    //   A-64          MXCSR | x87 control word << 32 (loaded by the switch):
    //                 the creator's, as a new thread inherits its creator's
    uintptr_t hi = ((uintptr_t)c->stack_base + c->map_size) & ~(uintptr_t)15;
    uintptr_t *top = (uintptr_t *)(hi - 16);
    top[0] = 0;
    top[1] = 0;
    uintptr_t *sp = top - 8;
    uint32_t mxcsr = 0;
    uint16_t fcw = 0;
#if defined(__x86_64__)
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
#endif
    sp[0] = (uintptr_t)mxcsr | (uintptr_t)fcw << 32; // MXCSR, x87 CW
    sp[1] = 0;                              // r15
    sp[2] = 0;                              // r14
    sp[3] = 0;                              // r13
    sp[4] = (uintptr_t)c;                   // r12: the context, for the trampoline
    sp[5] = 0;                              // rbx
    sp[6] = 0;                              // rbp: ends the frame-pointer chain
    sp[7] = (uintptr_t)cgort_ctx_trampoline; // return address of the first switch
    c->sp = sp;
#ifdef CGORT_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void cgort_gctx_retire(cgort_gctx *c) {
#ifdef CGORT_TSAN
    if (c->tsan_fiber) { __tsan_destroy_fiber(c->tsan_fiber); c->tsan_fiber = NULL; }
#else
    (void)c;
#endif
}

void cgort_mctx_init(cgort_mctx *m) {
    m->sp = NULL;
#ifdef CGORT_TSAN
    m->tsan_fiber = __tsan_get_current_fiber();
#else
    m->tsan_fiber = NULL;
#endif
}

void cgort_gstart(cgort_gctx *c) {
    // cgort_gogo has entered the goroutine's (empty) exclusivity context.
    c->fn(c->arg);
    // The entry function ends in goexit, which never returns here.
    abort();
}

// gogo and mcall do all their work before the switch and end in it, so
// that the compiler makes the switch a tail call: the side that resumes
// returns from cgort_ctx_switch straight into the Swift code that called
// gogo or mcall. A return across a stack switch is always mispredicted (the
// return-address predictor holds the other stack's calls), and so is each
// return after it until the predictor has caught up; every frame the
// resumed side unwinds through costs one more. A probe of two contexts
// switching back and forth (each from a call 0 frames deep) measured 17.4
// ns per round trip with a `ret` switch and 8.7 with a `jmp` one on AMD
// EPYC family 25, and each frame returned through after the switch added
// about as much again: so these functions leave none.
//
// The resuming side's exclusivity context is entered here, on the thread
// the goroutine is about to run on, before the switch (cgort_gogo), rather
// than by the goroutine after it: it is the same thread and nothing runs in
// between, and g0 has no access in progress at a gogo.

void cgort_gogo(cgort_mctx *m, cgort_gctx *g) {
    cgort_tls_curg = g;
    EXCL_ENTER(g);
#ifdef CGORT_TSAN
    __tsan_switch_to_fiber(g->tsan_fiber, 0);
#endif
    cgort_ctx_switch(&m->sp, g->sp);
}

void cgort_mcall(cgort_gctx *g, cgort_mctx *m) {
    EXCL_EXIT(g);
    // From here the thread runs no goroutine: getg() on g0 is nil.
    cgort_tls_curg = NULL;
#ifdef CGORT_TSAN
    __tsan_switch_to_fiber(m->tsan_fiber, 0);
#endif
    cgort_ctx_switch(&g->sp, m->sp);
    // Resumed, possibly on another thread, whose cgort_gogo set the
    // thread-local current G and entered our exclusivity context.
}

__attribute__((noinline)) cgort_gctx *cgort_sched_curg(void) { return cgort_tls_curg; }

__attribute__((noinline)) void *cgort_sched_getg(void) {
    cgort_gctx *c = cgort_tls_curg;
    return c ? c->g : NULL;
}

__attribute__((noinline)) void *cgort_sched_getm(void) { return tls_m; }
void cgort_sched_setm(void *m) { tls_m = m; }

typedef struct { void (*fn)(void *); void *arg; } thread_start;

/// cgort_sched_set_thread_hooks: set before a run, read by each new M.
static void (*thread_begin_hook)(void);
static void (*thread_end_hook)(void);

void cgort_sched_set_thread_hooks(void (*begin)(void), void (*end)(void)) {
    __atomic_store_n(&thread_begin_hook, begin, __ATOMIC_RELEASE);
    __atomic_store_n(&thread_end_hook, end, __ATOMIC_RELEASE);
}

static void *thread_main(void *p) {
    void (*begin)(void) = __atomic_load_n(&thread_begin_hook, __ATOMIC_ACQUIRE);
    void (*end)(void) = __atomic_load_n(&thread_end_hook, __ATOMIC_ACQUIRE);
    // The hook runs first, so the free of the start record (malloc'd by
    // the creating thread) is the M's own first heap call.
    if (begin) begin();
    thread_start s = *(thread_start *)p;
    free(p);
    s.fn(s.arg);
    if (end) end();
    return NULL;
}

uint64_t cgort_thread_start(void (*fn)(void *), void *arg) {
    thread_start *s = malloc(sizeof *s);
    if (!s) return 0;
    s->fn = fn;
    s->arg = arg;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, s) != 0) { free(s); return 0; }
    return (uint64_t)t;
}

void cgort_thread_join(uint64_t handle) {
    pthread_join((pthread_t)handle, NULL);
}

void *cgort_ctx_trampoline_address(void) { return (void *)cgort_ctx_trampoline; }

#include <execinfo.h>
int32_t cgort_backtrace(void **out, int32_t max) { return backtrace(out, max); }
