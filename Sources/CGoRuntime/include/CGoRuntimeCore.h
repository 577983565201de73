// CGoRuntime: the few machine primitives the Go runtime ports need that Swift
// cannot express: the PAUSE instruction, the time-stamp counter and the
// futex system call. Everything is prefixed `cgort_`; Linux bodies sit under
// `#ifdef __linux__`.
//
// Who calls these. CGoRuntime is one Clang module, so `import CGoRuntime`
// makes every header of it visible; each header says which Swift files call
// its declarations. This one's Swift faces are GoRuntime/Internal:
// Machine.swift (pause, procyield, rdtsc, the clocks, ncpu, gettid),
// Futex.swift (FutexWord, over the futex calls and cgort_alloc_aligned) and
// RuntimeLock.swift (lock_futex.go). The two per-thread parking records call
// the futex and cgort_alloc_aligned directly as well, next to their own C
// records: GoRuntime/Chan/Sudog.swift and GoRuntime/Sync/SyncThread.swift.
#ifndef CGORUNTIME_CORE_H
#define CGORUNTIME_CORE_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/// One spin-wait hint: PAUSE on x86 (about 12-15 ns on this machine's
/// Xeon), YIELD on arm64.
static inline __attribute__((always_inline)) void cgort_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/// Go's `procyield(cycles)` (runtime/asm_amd64.s): `cycles` PAUSE
/// instructions in a loop. The loop is not unrolled so that the instruction
/// stream matches Go's.
static inline __attribute__((always_inline)) void cgort_procyield(uint32_t cycles) {
    for (uint32_t i = cycles; i != 0; i--) {
        cgort_pause();
#if defined(__clang__)
        __asm__ __volatile__("" ::: "memory");
#endif
    }
}

/// The time-stamp counter (RDTSC); 0 where there is none.
static inline __attribute__((always_inline)) uint64_t cgort_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return 0;
#endif
}

/// futex(FUTEX_WAIT_PRIVATE): sleep while *addr == val, at most timeout_ns
/// nanoseconds (negative: no limit). Returns 0 or -errno (EAGAIN when *addr
/// != val on entry, ETIMEDOUT, EINTR).
int cgort_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns);

/// futex(FUTEX_WAKE_PRIVATE): wake at most n sleepers on addr. Returns the
/// number woken or -errno.
int cgort_futex_wake(uint32_t *addr, int32_t n);

/// sched_yield(), Go's `osyield`.
void cgort_osyield(void);

/// Monotonic clock in nanoseconds (Go's `nanotime`).
int64_t cgort_nanotime(void);

/// The calling thread's CPU time in nanoseconds.
int64_t cgort_thread_cputime(void);

/// Number of CPUs this process may run on (Go's `ncpu`, from
/// sched_getaffinity).
int32_t cgort_ncpu(void);

/// Kernel thread id of the caller.
int32_t cgort_gettid(void);

/// Allocate a zeroed, 64-byte aligned block (for futex words and other
/// memory whose address must never move). Never returns NULL.
void *cgort_alloc_aligned(uint64_t size);
void cgort_free_aligned(void *p);

#endif
