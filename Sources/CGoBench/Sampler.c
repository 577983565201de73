// The SIGPROF side of the stack profiler (see CGoBenchSampler.h for the
// shape). Invariants:
//   - the handler touches only: errno (saved and restored), the thread's
//     initial-exec TLS block, the armed thread's ring, two global atomics;
//     it calls only unw_backtrace (after a warm-up on this thread, with
//     per-thread caching) or the frame-pointer walk;
//   - a ring has one producer, the handler on the thread it is armed on,
//     and one consumer; `head` is published with release after the record's
//     words are written, `tail` with release after they are read, so each
//     side reads the other's index with acquire and never sees a torn
//     record;
//   - a thread is armed iff its TLS `ring` is non-NULL. Only the thread
//     itself writes that pointer, so the handler (which runs on the same
//     thread) needs a signal fence, not a hardware barrier.
#define _GNU_SOURCE
#include "CGoBenchSampler.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef __linux__

// MARK: libunwind, loaded privately

/// The names libunwind's header maps `unw_set_caching_policy` and
/// `unw_local_addr_space` to on this architecture (`_ULx86_64_...`).
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define CGB_STR2(x) #x
#define CGB_STR(x) CGB_STR2(x)

typedef int (*unw_backtrace_fn)(void **, int);
typedef int (*unw_set_caching_policy_fn)(unw_addr_space_t, unw_caching_policy_t);

static unw_backtrace_fn cgb_unw_backtrace;
static pthread_once_t cgb_install_once = PTHREAD_ONCE_INIT;
static int cgb_install_result;

struct cgb_ring {
    _Atomic uint64_t head;   // words written; producer's index
    char pad0[56];
    _Atomic uint64_t tail;   // words consumed; consumer's index
    char pad1[56];
    uint64_t mask;           // capacity - 1 (capacity a power of two)
    uint64_t *words;
    // Statistics: written by the producer only, read after disarm.
    _Atomic uint64_t signals, samples, overruns, lost, truncated, unwind_failed, handler_ns;
};

/// Per-thread state. initial-exec: a TLS access in the handler must be a
/// plain %fs-relative load, never a call into __tls_get_addr (which may
/// allocate the first time a dlopen'ed module's TLS is touched).
struct cgb_thread {
    cgb_ring *_Atomic ring;
    int unwinder;
    volatile int busy;       // re-entry guard (same-thread only: volatile suffices)
    int source;
    int fd;                  // perf event, or -1
    void *perf_ring;         // CGB_UNWIND_KERNEL: the event's mmap (metadata page + data), or NULL
    size_t perf_ring_len;
    timer_t timer;
    uintptr_t stack_lo, stack_hi;
};
static __thread struct cgb_thread cgb_self __attribute__((tls_model("initial-exec"))) = {.fd = -1};
/// CGB_UNWIND_KERNEL: the ring disarm copies into (the handler's `ring`
/// stays NULL, so a stray SIGPROF is ignored).
static __thread cgb_ring *cgb_kernel_ring_owner;

/// Handlers running right now, across threads (for cgb_sampler_quiesce).
static _Atomic int cgb_inflight;

// MARK: ring

cgb_ring *cgb_ring_create(uint64_t capacity_words) {
    uint64_t cap = 1024;
    while (cap < capacity_words) cap <<= 1;
    cgb_ring *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->words = malloc(cap * sizeof(uint64_t));
    if (!r->words) { free(r); return NULL; }
    // Pre-fault: the handler must not take first-touch page faults in the
    // middle of a measurement.
    memset(r->words, 0, cap * sizeof(uint64_t));
    r->mask = cap - 1;
    return r;
}

void cgb_ring_destroy(cgb_ring *ring) {
    if (!ring) return;
    free(ring->words);
    free(ring);
}

cgb_ring_stats cgb_ring_get_stats(const cgb_ring *r) {
    cgb_ring_stats s = {
        atomic_load(&((cgb_ring *)r)->signals), atomic_load(&((cgb_ring *)r)->samples),
        atomic_load(&((cgb_ring *)r)->overruns), atomic_load(&((cgb_ring *)r)->lost), atomic_load(&((cgb_ring *)r)->truncated),
        atomic_load(&((cgb_ring *)r)->unwind_failed), atomic_load(&((cgb_ring *)r)->handler_ns)};
    return s;
}

/// Producer: one record = header word (depth | flags << 32), then depth
/// frames. Returns 0 when the ring had no room.
static int ring_write(cgb_ring *r, const uint64_t *frames, uint32_t depth, uint32_t flags) {
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t need = (uint64_t)depth + 1;
    if (r->mask + 1 - (head - tail) < need) return 0;
    r->words[head & r->mask] = (uint64_t)depth | ((uint64_t)flags << 32);
    for (uint32_t i = 0; i < depth; i++) r->words[(head + 1 + i) & r->mask] = frames[i];
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return 1;
}

int cgb_ring_read(cgb_ring *r, uint64_t *frames, int max, uint32_t *flags) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head) return -1;
    uint64_t h = r->words[tail & r->mask];
    uint32_t depth = (uint32_t)h;
    *flags = (uint32_t)(h >> 32);
    int n = 0;
    for (uint32_t i = 0; i < depth; i++) {
        uint64_t w = r->words[(tail + 1 + i) & r->mask];
        if (n < max) frames[n++] = w;
    }
    atomic_store_explicit(&r->tail, tail + 1 + depth, memory_order_release);
    return n;
}

// MARK: unwinders

/// Frame-pointer walk from (pc, fp), bounded by the thread's stack. Each
/// frame is [saved fp][return address]; a chain that leaves the stack,
/// goes down, or is misaligned ends the walk. Writes at most `max` frames;
/// sets *more when the chain went on past that.
static int fp_walk(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                   uint64_t *out, int max, int *more) {
    int n = 0;
    *more = 0;
    out[n++] = pc;
    while (1) {
        if (fp < lo || fp + 2 * sizeof(uintptr_t) > hi || (fp & (sizeof(uintptr_t) - 1))) break;
        uintptr_t next = ((uintptr_t *)fp)[0];
        uintptr_t ret = ((uintptr_t *)fp)[1];
        if (ret < 4096) break;
        if (n == max) { *more = 1; break; }
        out[n++] = ret;
        if (next <= fp) break;
        fp = next;
    }
    return n;
}

/// libunwind from inside the handler: unw_backtrace starts at the handler
/// itself and crosses the signal frame; the interrupted frame is the one
/// whose ip equals the pc saved in the ucontext. Frames above it are
/// dropped.
#define CGB_LIBUNWIND_SLACK 16
static int libunwind_walk(uintptr_t pc, uint64_t *out, int max, int *more, int *failed) {
    void *buf[CGB_MAX_FRAMES + CGB_LIBUNWIND_SLACK];
    int got = cgb_unw_backtrace(buf, CGB_MAX_FRAMES + CGB_LIBUNWIND_SLACK);
    *more = 0;
    *failed = 0;
    int start = -1;
    for (int i = 0; i < got && i < CGB_LIBUNWIND_SLACK; i++) {
        if ((uintptr_t)buf[i] == pc) { start = i; break; }
    }
    if (start < 0) {
        *failed = 1;
        out[0] = pc;
        return 1;
    }
    int n = 0;
    for (int i = start; i < got && n < max; i++) out[n++] = (uint64_t)(uintptr_t)buf[i];
    if (got == CGB_MAX_FRAMES + CGB_LIBUNWIND_SLACK || got - start > max) *more = 1;
    return n;
}

// MARK: the handler

static void cgb_on_sigprof(int sig, siginfo_t *info, void *context) {
    (void)sig;
    int saved_errno = errno;
    cgb_ring *r = atomic_load_explicit(&cgb_self.ring, memory_order_relaxed);
    atomic_signal_fence(memory_order_acquire);
    if (!r) { errno = saved_errno; return; }
    atomic_fetch_add_explicit(&r->signals, 1, memory_order_relaxed);
    if (cgb_self.busy) {
        atomic_fetch_add_explicit(&r->lost, 1, memory_order_relaxed);
        errno = saved_errno;
        return;
    }
    cgb_self.busy = 1;
    atomic_fetch_add_explicit(&cgb_inflight, 1, memory_order_acquire);
    // The handler's own CPU time (clock_gettime is async-signal-safe). Not
    // the monotonic clock: on this loaded 2-vCPU VM a handler preempted
    // halfway would count the other process's time too. Costs two
    // syscalls, about 0.5 us per sample.
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    ucontext_t *uc = (ucontext_t *)context;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uint64_t frames[CGB_MAX_FRAMES];
    int more = 0, failed = 0, n;
    if (cgb_self.unwinder == CGB_UNWIND_LIBUNWIND && cgb_unw_backtrace) {
        n = libunwind_walk(pc, frames, CGB_MAX_FRAMES, &more, &failed);
    } else {
        uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        uintptr_t lo = cgb_self.stack_lo > sp ? cgb_self.stack_lo : sp;
        n = fp_walk(pc, fp, lo, cgb_self.stack_hi, frames, CGB_MAX_FRAMES, &more);
    }
    // A CPU-time timer that expired several times between two ticks of
    // this thread delivers one signal and counts the rest as overruns;
    // the sample stands for all of them (setitimer-based profilers such
    // as Go's lose them instead).
    uint32_t overrun = 0;
    if (info != NULL && info->si_code == SI_TIMER && info->si_overrun > 0) {
        overrun = info->si_overrun > 0xFFFFFF ? 0xFFFFFF : (uint32_t)info->si_overrun;
    }
    uint32_t flags = (more ? CGB_SAMPLE_TRUNCATED : 0) | (failed ? CGB_SAMPLE_UNWIND_FAILED : 0) |
                     (overrun << CGB_SAMPLE_WEIGHT_SHIFT);
    if (ring_write(r, frames, (uint32_t)n, flags)) {
        atomic_fetch_add_explicit(&r->samples, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->overruns, overrun, memory_order_relaxed);
        if (more) atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
        if (failed) atomic_fetch_add_explicit(&r->unwind_failed, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&r->lost, 1, memory_order_relaxed);
    }

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    atomic_fetch_add_explicit(&r->handler_ns,
                              (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec)),
                              memory_order_relaxed);
    atomic_fetch_sub_explicit(&cgb_inflight, 1, memory_order_release);
    cgb_self.busy = 0;
    errno = saved_errno;
}

// MARK: install, arm, disarm

static void cgb_install(void) {
    // libunwind: RTLD_LOCAL keeps its _Unwind_* out of the global scope.
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libunwind.so", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        unw_backtrace_fn bt = (unw_backtrace_fn)dlsym(h, "unw_backtrace");
        unw_set_caching_policy_fn policy =
            (unw_set_caching_policy_fn)dlsym(h, CGB_STR(unw_set_caching_policy));
        unw_addr_space_t *local = (unw_addr_space_t *)dlsym(h, CGB_STR(unw_local_addr_space));
        if (bt && policy && local) {
            policy(*local, UNW_CACHE_PER_THREAD);
            cgb_unw_backtrace = bt;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = cgb_on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    cgb_install_result = sigaction(SIGPROF, &sa, NULL) == 0 ? 0 : -errno;
}

int cgb_sampler_install(void) {
    pthread_once(&cgb_install_once, cgb_install);
    return cgb_install_result;
}

int cgb_libunwind_available(void) {
    cgb_sampler_install();
    return cgb_unw_backtrace != NULL;
}

static int open_perf_source(int hz) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.sample_period = (uint64_t)(1000000000ull / (uint64_t)hz);  // task-clock counts ns
    attr.disabled = 1;
    attr.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        attr.exclude_kernel = 1;  // perf_event_paranoid may demand it
        fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) return -errno;
    struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = (pid_t)syscall(SYS_gettid)};
    if (fcntl(fd, F_SETOWN_EX, &owner) != 0 || fcntl(fd, F_SETSIG, SIGPROF) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int open_timer_source(int hz, timer_t *timer) {
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, timer) != 0) return -errno;
    long period = 1000000000L / hz;
    struct itimerspec its = {.it_interval = {period / 1000000000L, period % 1000000000L},
                             .it_value = {period / 1000000000L, period % 1000000000L}};
    if (timer_settime(*timer, 0, &its, NULL) != 0) {
        int e = errno;
        timer_delete(*timer);
        return -e;
    }
    return 0;
}

// MARK: kernel callchains (CGB_UNWIND_KERNEL)

/// Data pages of a kernel-callchain ring: 2 MiB, about 14 s of 997 Hz
/// samples 15 frames deep (a record is 24 + 8 x depth bytes). A longer
/// armed stretch loses the excess (counted from PERF_RECORD_LOST).
#define CGB_KERNEL_RING_PAGES 512

/// kernel.perf_event_max_stack, or 127 (its default) when unreadable.
static int kernel_max_stack(void) {
    static int cached;
    if (cached) return cached;
    int v = 127;
    int fd = open("/proc/sys/kernel/perf_event_max_stack", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16] = {0};
        if (read(fd, buf, sizeof buf - 1) > 0 && atoi(buf) > 1) v = atoi(buf);
        close(fd);
    }
    cached = v;
    return v;
}

/// A task-clock event that records IP + user callchain into an mmap ring,
/// with no signal. Returns the fd (and sets the thread's ring) or -errno.
static int open_kernel_callchain_source(int hz) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.sample_period = (uint64_t)(1000000000ull / (uint64_t)hz);
    attr.sample_type = PERF_SAMPLE_CALLCHAIN;
    attr.exclude_callchain_kernel = 1;
    // The kernel refuses a depth above kernel.perf_event_max_stack (127 by
    // default) with EOVERFLOW; +1 for the PERF_CONTEXT_USER marker.
    attr.sample_max_stack = (uint16_t)(kernel_max_stack() < CGB_MAX_FRAMES + 1 ? kernel_max_stack() : CGB_MAX_FRAMES + 1);
    attr.disabled = 1;
    attr.wakeup_events = 1 << 30;  // nobody waits on it
    int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        attr.exclude_kernel = 1;
        fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) return -errno;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = page * (1 + CGB_KERNEL_RING_PAGES);
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    // Map the data pages in now, not in the middle of the timed loop (by
    // reading: user writes to the data area fault with SIGBUS).
    for (size_t off = page; off < len; off += page) (void)((volatile char *)m)[off];
    cgb_self.perf_ring = m;
    cgb_self.perf_ring_len = len;
    return fd;
}

/// After the event is disabled: every PERF_RECORD_SAMPLE of the mmap ring
/// into `r` (leaf first, context markers dropped), PERF_RECORD_LOST into
/// the lost count. Runs on the armed thread, outside signal context.
static void drain_kernel_ring(cgb_ring *r) {
    struct perf_event_mmap_page *meta = cgb_self.perf_ring;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *data = (unsigned char *)meta + page;
    uint64_t size = (uint64_t)page * CGB_KERNEL_RING_PAGES;
    uint64_t head = atomic_load_explicit((_Atomic uint64_t *)&meta->data_head, memory_order_acquire);
    uint64_t tail = meta->data_tail;
    uint64_t frames[CGB_MAX_FRAMES];
    // Copy one record out of the ring (it may wrap).
    unsigned char rec[sizeof(struct perf_event_header) + 8 * (CGB_MAX_FRAMES + 8)];
    while (tail + sizeof(struct perf_event_header) <= head) {
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof h; i++) ((unsigned char *)&h)[i] = data[(tail + i) % size];
        if (h.size < sizeof h) break;
        size_t take = h.size < sizeof rec ? h.size : sizeof rec;
        for (size_t i = 0; i < take; i++) rec[i] = data[(tail + i) % size];
        uint64_t *w = (uint64_t *)(rec + sizeof h);
        if (h.type == PERF_RECORD_SAMPLE && take >= sizeof h + 8) {
            uint64_t nr = w[0];
            uint64_t avail = (take - sizeof h - 8) / 8;
            if (nr > avail) nr = avail;
            int n = 0, more = 0;
            for (uint64_t i = 0; i < nr; i++) {
                uint64_t ip = w[1 + i];
                if (ip >= (uint64_t)PERF_CONTEXT_MAX) continue;  // PERF_CONTEXT_USER etc.
                if (n == CGB_MAX_FRAMES) { more = 1; break; }
                frames[n++] = ip;
            }
            // The kernel stops at sample_max_stack: a full chain may be cut.
            if (nr >= (uint64_t)(kernel_max_stack() < CGB_MAX_FRAMES + 1 ? kernel_max_stack() : CGB_MAX_FRAMES + 1)) more = 1;
            atomic_fetch_add_explicit(&r->signals, 1, memory_order_relaxed);
            if (n > 0 && ring_write(r, frames, (uint32_t)n, more ? CGB_SAMPLE_TRUNCATED : 0)) {
                atomic_fetch_add_explicit(&r->samples, 1, memory_order_relaxed);
                if (more) atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
            } else if (n > 0) {
                atomic_fetch_add_explicit(&r->lost, 1, memory_order_relaxed);
            } else {
                atomic_fetch_add_explicit(&r->unwind_failed, 1, memory_order_relaxed);
            }
        } else if (h.type == PERF_RECORD_LOST && take >= sizeof h + 16) {
            atomic_fetch_add_explicit(&r->lost, w[1], memory_order_relaxed);  // {id, lost}
        }
        tail += h.size;
    }
    atomic_store_explicit((_Atomic uint64_t *)&meta->data_tail, tail, memory_order_release);
}

int cgb_sampler_arm(cgb_ring *ring, int unwinder, int hz, int source) {
    int rc = cgb_sampler_install();
    if (rc != 0) return rc;
    if (hz < 1) hz = 1;
    if (atomic_load(&cgb_self.ring) || cgb_self.perf_ring) cgb_sampler_disarm();

    // Stage 1: warm up, outside signal context. The first unw_backtrace on
    // a thread creates its per-thread trace cache; the first TLS touch and
    // pthread_getattr_np may allocate. None of that may happen in the
    // handler.
    cgb_self.busy = 0;
    cgb_self.unwinder = (unwinder == CGB_UNWIND_LIBUNWIND && cgb_unw_backtrace) ? CGB_UNWIND_LIBUNWIND : CGB_UNWIND_FP;
    // Kernel callchains: no handler, no signal; the ring is attached for
    // disarm's copy only (the handler ignores signals with no perf fd of
    // ours, and none is sent).
    if (unwinder == CGB_UNWIND_KERNEL && source != CGB_SOURCE_TIMER) {
        int fd = open_kernel_callchain_source(hz);
        if (fd >= 0) {
            cgb_self.fd = fd;
            cgb_self.source = CGB_SOURCE_PERF;
            cgb_self.unwinder = CGB_UNWIND_KERNEL;
            atomic_store_explicit(&cgb_self.ring, NULL, memory_order_relaxed);
            cgb_kernel_ring_owner = ring;
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
            return CGB_SOURCE_PERF;
        }
        if (source == CGB_SOURCE_PERF) return fd;
        // else: the signal sources below, with the exact unwinder (the
        // mmap ring may be refused: perf_event_mlock_kb for non-root).
        cgb_self.unwinder = cgb_unw_backtrace ? CGB_UNWIND_LIBUNWIND : CGB_UNWIND_FP;
    } else if (unwinder == CGB_UNWIND_KERNEL) {
        cgb_self.unwinder = cgb_unw_backtrace ? CGB_UNWIND_LIBUNWIND : CGB_UNWIND_FP;
    }
    if (cgb_unw_backtrace) {
        void *warm[CGB_MAX_FRAMES];
        for (int i = 0; i < 2; i++) cgb_unw_backtrace(warm, CGB_MAX_FRAMES);
    }
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        cgb_self.stack_lo = (uintptr_t)addr;
        cgb_self.stack_hi = (uintptr_t)addr + size;
        pthread_attr_destroy(&attr);
    } else {
        cgb_self.stack_lo = 0;
        cgb_self.stack_hi = 0;
    }

    // Stage 2: attach the ring, then start the source.
    atomic_signal_fence(memory_order_release);
    atomic_store_explicit(&cgb_self.ring, ring, memory_order_relaxed);
    int err = 0;
    if (source != CGB_SOURCE_TIMER) {
        int fd = open_perf_source(hz);
        if (fd >= 0) {
            cgb_self.fd = fd;
            cgb_self.source = CGB_SOURCE_PERF;
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
            return CGB_SOURCE_PERF;
        }
        err = fd;
        if (source == CGB_SOURCE_PERF) goto failed;
    }
    err = open_timer_source(hz, &cgb_self.timer);
    if (err == 0) {
        cgb_self.source = CGB_SOURCE_TIMER;
        return CGB_SOURCE_TIMER;
    }
failed:
    atomic_store_explicit(&cgb_self.ring, NULL, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    cgb_self.source = 0;
    return err;
}

void cgb_sampler_disarm(void) {
    if (cgb_self.perf_ring) {
        // Kernel callchains: stop, copy the mmap ring into ours, release.
        ioctl(cgb_self.fd, PERF_EVENT_IOC_DISABLE, 0);
        if (cgb_kernel_ring_owner) drain_kernel_ring(cgb_kernel_ring_owner);
        munmap(cgb_self.perf_ring, cgb_self.perf_ring_len);
        close(cgb_self.fd);
        cgb_self.perf_ring = NULL;
        cgb_self.fd = -1;
        cgb_self.source = 0;
        cgb_kernel_ring_owner = NULL;
        return;
    }
    if (!atomic_load_explicit(&cgb_self.ring, memory_order_relaxed)) return;
    // 1. Stop the source. After close()/timer_delete() returns, no new
    //    SIGPROF is generated for this thread; one generated earlier is
    //    delivered on the way back from the syscall, while still armed, so
    //    it is recorded rather than dropped.
    if (cgb_self.source == CGB_SOURCE_PERF) {
        ioctl(cgb_self.fd, PERF_EVENT_IOC_DISABLE, 0);
        close(cgb_self.fd);
        cgb_self.fd = -1;
    } else if (cgb_self.source == CGB_SOURCE_TIMER) {
        timer_delete(cgb_self.timer);
    }
    cgb_self.source = 0;
    // 2. Anything still pending (e.g. generated between the two steps on a
    //    kernel that delivers late) runs now: unblocking is a no-op when
    //    nothing is pending, and a pending signal is delivered before
    //    sigprocmask returns.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    // 3. Detach the ring: from here the handler ignores this thread.
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&cgb_self.ring, NULL, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
}

int cgb_thread_sanitizer_present(void) {
    return dlsym(RTLD_DEFAULT, "__tsan_init") != NULL;
}

void cgb_sampler_quiesce(void) {
    while (atomic_load_explicit(&cgb_inflight, memory_order_acquire) != 0) sched_yield();
}

__attribute__((noinline)) int cgb_capture_stack(int unwinder, uint64_t *frames, int max) {
    cgb_sampler_install();
    if (unwinder == CGB_UNWIND_LIBUNWIND && cgb_unw_backtrace) {
        void *buf[CGB_MAX_FRAMES + 1];
        if (max > CGB_MAX_FRAMES) max = CGB_MAX_FRAMES;
        int got = cgb_unw_backtrace(buf, max + 1);
        int n = 0;
        for (int i = 1; i < got; i++) frames[n++] = (uint64_t)(uintptr_t)buf[i];  // drop this function
        return n;
    }
    pthread_attr_t attr;
    uintptr_t lo = 0, hi = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        lo = (uintptr_t)addr;
        hi = lo + size;
        pthread_attr_destroy(&attr);
    }
    uintptr_t *fp = __builtin_frame_address(0);
    int more;
    // Start at our caller: the return address in our own frame.
    return fp_walk(fp[1], fp[0], lo, hi, frames, max, &more);
}

#endif  // __linux__

// Symbolizer test support (see the header). The pc is taken by an
// instruction in the inlined body itself, so it belongs to the inlined
// subroutine's address range whatever the optimisation level.
static inline __attribute__((always_inline)) uint64_t cgb_probe_inlined_leaf(int *line) {
    uint64_t pc = 0;
#if defined(__x86_64__)
    *line = __LINE__; __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
#elif defined(__aarch64__)
    *line = __LINE__; __asm__ volatile("adr %0, ." : "=r"(pc));
#else
    *line = 0;
#endif
    return pc;
}

__attribute__((noinline)) uint64_t cgb_symbolizer_probe(int *line) {
    return cgb_probe_inlined_leaf(line);
}
