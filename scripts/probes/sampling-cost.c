// sampling-cost: where the time goes when a thread is sampled, one
// mechanism at a time, on a fixed busy loop, paired in one process.
//
// gobench's sampler takes a task-clock perf event and either lets the
// kernel walk the user frame pointers into an mmap ring (--unwind kernel)
// or has the event send SIGPROF to a C handler that unwinds (fp,
// libunwind). Each configuration below adds one piece to the one before,
// so the differences between rows are the costs of the pieces:
//
//   none        nothing armed (the reference of every pair)
//   count       a task-clock event counting, no sampling: the cost of an
//               enabled event on context switches
//   s0          task-clock sampling at HZ, sample_type 0, no ring: every
//               period an hrtimer expiry and perf's overflow path, the
//               sample dropped (no buffer). In a KVM guest each expiry is a
//               host timer, an injected interrupt and a TSC-deadline MSR
//               write to re-arm it: this row is the platform floor of any
//               sampler driven by a timer
//   s0-ring     the same with a 2 MiB mmap ring (records of the header only)
//   ip          PERF_SAMPLE_IP into the ring
//   chain       PERF_SAMPLE_CALLCHAIN, user frames only (exclude_callchain_
//               kernel), into the ring: gobench's --unwind kernel
//   chain-cpu   the same on cpu-clock instead of task-clock
//   sig         task-clock sampling with F_SETSIG SIGPROF to this thread,
//               a handler that returns at once: signal delivery
//   sig-fp      the handler walks frame pointers into a buffer (--unwind fp)
//   sig-unw     the handler calls libunwind's unw_backtrace (--unwind
//               libunwind; per-thread caching, warmed up)
//   timer-sig   timer_create(CLOCK_THREAD_CPUTIME_ID) SIGPROF, empty
//               handler (the kernel's CPU-time timers: capped by HZ=250)
//   tick-chain  no timer of ours: user callchains recorded on the
//               sched:sched_stat_runtime tracepoint, which the scheduler
//               tick already running on a busy CPU fires (HZ=250 here);
//               needs the tracepoint's id from tracefs (0 samples without)
//
// Pairing: every round runs "none" and every configuration once, in an
// order shuffled per round (seeded), each one a fixed amount of work
// timed by the monotonic clock and the thread's CPU clock. The ratio of a
// configuration to the round's "none" cancels slow drift. Per row: the
// mean of the log ratios with a 95% t interval over rounds, the samples
// per run (counted from the ring or by the handler; estimated as cpu x HZ
// where nothing counts them), and the cost per sample: the extra CPU time
// over the samples.
//
// The work: "alu" is a register-only xorshift loop (interrupt cost only);
// "mem" chases pointers through 768 KiB (within L2), so that cache damage
// from the interrupt paths shows as well. The loop runs under three
// frame-pointer frames so that the callchain has something to walk.
//
// Measured (2-vCPU KVM/Firecracker guest, AMD EPYC family 26 model 2,
// load 1.0-1.2, alu work, 100 ms runs), cpu-us per sample at 9,973 Hz
// (20 rounds) and the cpu overhead at 997 Hz (40 rounds), 95% intervals:
//   s0 18.9 +-1.8 / +1.9% +-1.2;  s0-ring 19.0 +-1.8 / +1.8% +-1.0;
//   ip 20.7 +-2.8 / +3.4% +-1.4;  chain 24.4 +-5.3 / +3.8% +-2.2;
//   chain-cpu 21.0 +-2.9 / +3.0% +-1.3;  sig 38.7 +-3.8 / +4.5% +-1.2;
//   sig-fp 35.8 +-2.5 / +4.7% +-1.5;  sig-unw 38.2 +-3.3 / +4.8% +-1.1;
//   count +1.2% +-2.4 / +0.8% +-1.3;  timer-sig 249/s, +2.5% +-2.1;
//   tick-chain fired 82-87k times/s (not only at the tick): +2.6-6.6%.
// `gaps` at 9,973 Hz: s0 adds ~10,000 gaps/s of 19-22 us (median) to the
// 1,100-4,800/s of 7-21 us that the idle guest shows anyway; sig 30-37 us.
//
// Build and run (as root or with perf_event_paranoid <= 2):
//   cc -O2 -fno-omit-frame-pointer -o /tmp/sampling-cost scripts/probes/sampling-cost.c -ldl
//   /tmp/sampling-cost [HZ=997] [ROUNDS=20] [alu|mem] [MS_PER_RUN=100] [TRACEPOINT_ID]
//   /tmp/sampling-cost gaps [HZ=997] [MS=1000]   (how long each interruption keeps the loop away)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static int64_t now_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// MARK: the work

static uint64_t *chase;          // mem mode: a random cycle of indices
#define CHASE_WORDS (768 * 1024 / 8)
static int mem_mode;

__attribute__((noinline)) static uint64_t leaf(uint64_t x, long iters) {
    if (mem_mode) {
        for (long i = 0; i < iters; i++) x = chase[x];
        return x;
    }
    for (long i = 0; i < iters; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    }
    return x;
}
__attribute__((noinline)) static uint64_t mid(uint64_t x, long iters) {
    for (long k = 0; k < 100; k++) x = leaf(x, iters / 100);
    __asm__ volatile("" ::: "memory");
    return x;
}
__attribute__((noinline)) static uint64_t outer(uint64_t x, long iters) {
    x = mid(x, iters);
    __asm__ volatile("" ::: "memory");
    return x;
}
static volatile uint64_t sink;

// MARK: the mechanisms

enum cfg { NONE, COUNT, S0, S0RING, IP, CHAIN, CHAINCPU, SIG, SIGFP, SIGUNW, TIMERSIG, TPCHAIN, NCFG };
static const char *names[NCFG] = {"none", "count", "s0", "s0-ring", "ip", "chain", "chain-cpu",
                                  "sig", "sig-fp", "sig-unw", "timer-sig", "tick-chain"};

static int hz = 997;
static int fd = -1;
static void *ring;
#define RING_PAGES 512
static size_t page;
static timer_t timer;
static volatile int handler_mode;   // 0 empty, 1 fp, 2 libunwind
static volatile long handled;
static uint64_t frames[128];
static uintptr_t stack_lo, stack_hi;
typedef int (*unw_backtrace_fn)(void **, int);
static unw_backtrace_fn unw_bt;

static void on_prof(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)si;
    int e = errno;
    handled++;
    ucontext_t *uc = ctx;
    if (handler_mode == 1) {
        uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
        int n = 0;
        frames[n++] = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        while (n < 128 && fp >= stack_lo && fp + 16 <= stack_hi && !(fp & 7)) {
            uintptr_t next = ((uintptr_t *)fp)[0];
            frames[n++] = ((uintptr_t *)fp)[1];
            if (next <= fp) break;
            fp = next;
        }
    } else if (handler_mode == 2 && unw_bt) {
        unw_bt((void **)frames, 128);
    }
    errno = e;
}

static int tracepoint_id = -1;
static int open_event_typed(uint32_t type, uint64_t config, uint64_t period, uint64_t sample_type);
static int open_event(uint32_t config, uint64_t period, uint64_t sample_type) {
    return open_event_typed(PERF_TYPE_SOFTWARE, config, period, sample_type);
}
static int open_event_typed(uint32_t type, uint64_t config, uint64_t period, uint64_t sample_type) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = type;
    a.config = config;
    a.sample_period = period;
    a.sample_type = sample_type;
    a.exclude_callchain_kernel = 1;
    a.sample_max_stack = 127;
    a.disabled = 1;
    a.wakeup_events = 1 << 30;
    int f = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (f < 0) {
        a.exclude_kernel = 1;
        f = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (f < 0) { perror("perf_event_open"); exit(1); }
    return f;
}

static void map_ring(void) {
    size_t len = page * (1 + RING_PAGES);
    ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) { perror("mmap"); exit(1); }
    for (size_t off = page; off < len; off += page) (void)((volatile char *)ring)[off];
}

/// Records in the ring (samples; lost records add their count).
static long ring_samples(long *lost) {
    struct perf_event_mmap_page *m = ring;
    unsigned char *data = (unsigned char *)ring + page;
    uint64_t size = page * RING_PAGES, head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE), tail = m->data_tail;
    long n = 0;
    *lost = 0;
    while (tail + sizeof(struct perf_event_header) <= head) {
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof h; i++) ((unsigned char *)&h)[i] = data[(tail + i) % size];
        if (h.size < sizeof h) break;
        if (h.type == PERF_RECORD_SAMPLE) n++;
        else if (h.type == PERF_RECORD_LOST) {
            uint64_t w[2];
            for (size_t i = 0; i < 16; i++) ((unsigned char *)w)[i] = data[(tail + sizeof h + i) % size];
            *lost += (long)w[1];
        }
        tail += h.size;
    }
    return n;
}

static void signal_to_me(int f) {
    struct f_owner_ex o = {.type = F_OWNER_TID, .pid = (pid_t)syscall(SYS_gettid)};
    fcntl(f, F_SETOWN_EX, &o);
    fcntl(f, F_SETSIG, SIGPROF);
    fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_ASYNC | O_NONBLOCK);
}

static void arm(int c) {
    uint64_t period = 1000000000ull / (uint64_t)hz;
    handled = 0;
    handler_mode = 0;
    switch (c) {
    case NONE: return;
    case COUNT: fd = open_event(PERF_COUNT_SW_TASK_CLOCK, 0, 0); break;
    case S0: fd = open_event(PERF_COUNT_SW_TASK_CLOCK, period, 0); break;
    case S0RING: fd = open_event(PERF_COUNT_SW_TASK_CLOCK, period, 0); map_ring(); break;
    case IP: fd = open_event(PERF_COUNT_SW_TASK_CLOCK, period, PERF_SAMPLE_IP); map_ring(); break;
    case CHAIN: fd = open_event(PERF_COUNT_SW_TASK_CLOCK, period, PERF_SAMPLE_CALLCHAIN); map_ring(); break;
    case CHAINCPU: fd = open_event(PERF_COUNT_SW_CPU_CLOCK, period, PERF_SAMPLE_CALLCHAIN); map_ring(); break;
    case SIG: case SIGFP: case SIGUNW:
        handler_mode = c == SIG ? 0 : c == SIGFP ? 1 : 2;
        fd = open_event(PERF_COUNT_SW_TASK_CLOCK, period, 0);
        signal_to_me(fd);
        break;
    case TPCHAIN:
        if (tracepoint_id < 0) return;
        fd = open_event_typed(PERF_TYPE_TRACEPOINT, (uint64_t)tracepoint_id, 1, PERF_SAMPLE_CALLCHAIN);
        map_ring();
        break;
    case TIMERSIG: {
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SIGPROF;
        sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &timer);
        struct itimerspec its = {{0, (long)period}, {0, (long)period}};
        timer_settime(timer, 0, &its, NULL);
        return;
    }
    }
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

/// Disarms; returns the samples taken (-1: not counted).
static long disarm(int c, long *lost) {
    *lost = 0;
    long n = -1;
    if (c == NONE) return -1;
    if (c == TIMERSIG) { timer_delete(timer); return handled; }
    if (c == TPCHAIN && fd < 0) return 0;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (ring) {
        n = ring_samples(lost);
        munmap(ring, page * (1 + RING_PAGES));
        ring = NULL;
    } else if (c >= SIG) {
        n = handled;
    }
    close(fd);
    fd = -1;
    return n;
}

// MARK: statistics

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
/// Student t quantile 0.975 for df degrees of freedom (Cornish-Fisher,
/// two terms; within 0.5% for df >= 5).
static double t975(int df) {
    double z = 1.959964, d = df;
    return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}
static void mean_ci(const double *x, int n, double *mean, double *half) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *half = n > 1 ? t975(n - 1) * sqrt(ss / (n - 1) / n) : 0;
}

/// `gaps` mode: spin reading the TSC for `ms` per configuration and
/// record every gap above 1.5 us: the time the loop was away (interrupt
/// entry, the host's VM exits, the handler, the return). Prints the gaps
/// per second and their median and mean length, for none, s0 and chain.
static int run_gaps(int ms) {
    static uint64_t gaps[400000];
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    uint64_t c0 = __builtin_ia32_rdtsc();
    while (now_ns(CLOCK_MONOTONIC) - t0 < 200000000) {}
    double tsc_per_ns = (double)(__builtin_ia32_rdtsc() - c0) / (double)(now_ns(CLOCK_MONOTONIC) - t0);
    uint64_t threshold = (uint64_t)(1500 * tsc_per_ns);
    int cfgs[] = {NONE, S0, CHAIN, SIG};
    printf("gaps above 1.5 us in a TSC-reading loop, %d ms per configuration, %d Hz\n", ms, hz);
    printf("%-8s %10s %12s %12s %14s\n", "config", "gaps/s", "median us", "mean us", "away % of time");
    for (int rep = 0; rep < 2; rep++) {
        for (int k = 0; k < 4; k++) {
            int c = cfgs[k];
            arm(c);
            long n = 0;
            uint64_t start = __builtin_ia32_rdtsc(), end = start + (uint64_t)(ms * 1e6 * tsc_per_ns), prev = start, sum = 0;
            while (prev < end) {
                uint64_t t = __builtin_ia32_rdtsc();
                if (t - prev > threshold && n < 400000) { gaps[n++] = t - prev; sum += t - prev; }
                prev = t;
            }
            long lost;
            disarm(c, &lost);
            qsort(gaps, (size_t)n, sizeof gaps[0], cmp_u64);
            double secs = ms / 1000.0;
            printf("%-8s %10.0f %12.2f %12.2f %13.2f%%\n", names[c], n / secs,
                   n ? gaps[n / 2] / tsc_per_ns / 1000 : 0, n ? sum / (double)n / tsc_per_ns / 1000 : 0,
                   100.0 * sum / tsc_per_ns / (ms * 1e6));
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "gaps") == 0) {
        hz = argc > 2 ? atoi(argv[2]) : 997;
        page = (size_t)sysconf(_SC_PAGESIZE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_prof;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigaction(SIGPROF, &sa, NULL);
        return run_gaps(argc > 3 ? atoi(argv[3]) : 1000);
    }
    hz = argc > 1 ? atoi(argv[1]) : 997;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    mem_mode = argc > 3 && strcmp(argv[3], "mem") == 0;
    int ms = argc > 4 ? atoi(argv[4]) : 100;
    // tick-chain: the sched:sched_stat_runtime tracepoint, which the
    // scheduler's tick (and every context switch) fires for the running
    // task: user callchains at HZ with no timer of our own. Its id comes
    // from tracefs (argument 5, or /sys/kernel/tracing when mounted).
    if (argc > 5) tracepoint_id = atoi(argv[5]);
    else {
        FILE *f = fopen("/sys/kernel/tracing/events/sched/sched_stat_runtime/id", "r");
        if (f) { if (fscanf(f, "%d", &tracepoint_id) != 1) tracepoint_id = -1; fclose(f); }
    }
    page = (size_t)sysconf(_SC_PAGESIZE);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        unw_bt = (unw_backtrace_fn)dlsym(h, "unw_backtrace");
        typedef int (*policy_fn)(void *, int);
        policy_fn pol = (policy_fn)dlsym(h, "_ULx86_64_set_caching_policy");
        void **as = dlsym(h, "_ULx86_64_local_addr_space");
        if (pol && as) pol(*as, 2 /* UNW_CACHE_PER_THREAD */);
        void *warm[128];
        for (int i = 0; i < 3 && unw_bt; i++) unw_bt(warm, 128);
    }
    pthread_attr_t at;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        void *a; size_t s;
        pthread_attr_getstack(&at, &a, &s);
        stack_lo = (uintptr_t)a; stack_hi = (uintptr_t)a + s;
    }
    if (mem_mode) {
        chase = malloc(CHASE_WORDS * sizeof *chase);
        uint64_t *perm = malloc(CHASE_WORDS * sizeof *perm);
        for (uint64_t i = 0; i < CHASE_WORDS; i++) perm[i] = i;
        uint64_t s = 88172645463325252ull;
        for (uint64_t i = CHASE_WORDS - 1; i > 0; i--) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            uint64_t j = s % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        for (uint64_t i = 0; i < CHASE_WORDS; i++) chase[perm[i]] = perm[(i + 1) % CHASE_WORDS];
        free(perm);
    }

    // Calibrate the work to about `ms` of CPU.
    long iters = 100000;
    for (;;) {
        int64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        sink = outer(1, iters);
        int64_t dt = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (dt > ms * 1000000LL / 4) { iters = (long)((double)iters * ms * 1e6 / (double)dt); break; }
        iters *= 4;
    }

    static double cpu[NCFG][1000], wall[NCFG][1000], samples[NCFG][1000];
    static long lostc[NCFG];
    if (rounds > 1000) rounds = 1000;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int order[NCFG];
    for (int r = -1; r < rounds; r++) {   // round -1: warm-up, not kept
        for (int i = 0; i < NCFG; i++) order[i] = i;
        for (int i = NCFG - 1; i > 0; i--) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            int j = (int)(rng % (uint64_t)(i + 1)), t = order[i]; order[i] = order[j]; order[j] = t;
        }
        for (int k = 0; k < NCFG; k++) {
            int c = order[k];
            arm(c);
            int64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
            sink = outer(sink | 1, iters);
            int64_t w1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
            long lost;
            long n = disarm(c, &lost);
            if (r < 0) continue;
            cpu[c][r] = (double)(c1 - c0);
            wall[c][r] = (double)(w1 - w0);
            samples[c][r] = n >= 0 ? (double)n : (c == NONE || c == COUNT ? 0 : (double)(c1 - c0) * hz / 1e9);
            lostc[c] += lost;
        }
    }

    printf("sampling-cost: %d Hz, %d rounds, %s work\n", hz, rounds,
           mem_mode ? "mem (768 KiB pointer chase)" : "alu (xorshift)");
    double nonecpu[1000];
    for (int r = 0; r < rounds; r++) nonecpu[r] = cpu[NONE][r];
    qsort(nonecpu, (size_t)rounds, sizeof(double), cmp);
    printf("  median none: %.2f ms cpu\n", nonecpu[rounds / 2] / 1e6);
    printf("%-10s %16s %16s %10s %14s %6s\n", "config", "cpu overhead", "wall overhead", "samples/s", "cpu-us/sample", "lost");
    for (int c = 1; c < NCFG; c++) {
        double lc[1000], lw[1000], per[1000], rate = 0;
        for (int r = 0; r < rounds; r++) {
            lc[r] = log(cpu[c][r] / cpu[NONE][r]);
            lw[r] = log(wall[c][r] / wall[NONE][r]);
            per[r] = samples[c][r] > 0 ? (cpu[c][r] - cpu[NONE][r]) / samples[c][r] / 1000 : 0;
            rate += samples[c][r] / (cpu[c][r] / 1e9);
        }
        double mc, hc, mw, hw, mp, hp;
        mean_ci(lc, rounds, &mc, &hc);
        mean_ci(lw, rounds, &mw, &hw);
        mean_ci(per, rounds, &mp, &hp);
        int counted = !(c == S0);
        printf("%-10s %+7.2f%% +-%4.2f %+7.2f%% +-%4.2f %9.0f%s %7.2f +-%4.2f %6ld\n", names[c],
               100 * (exp(mc) - 1), 100 * hc, 100 * (exp(mw) - 1), 100 * hw, rate / rounds, counted ? " " : "*",
               mp, hp, lostc[c]);
    }
    printf("(* samples not counted: cpu x HZ assumed; +- is the 95%% t half-width over rounds, in %% of the ratio)\n");
    return 0;
}
