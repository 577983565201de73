// switch-cost: what a per-thread perf event costs a thread that blocks
// often. Two threads hand a token back and forth through a futex word
// (wait when it is not yours, wake the other after passing it), so every
// round trip is two sleeps and two wake-ups. Each thread opens the same
// kind of event on itself; rounds alternate the configurations (seeded
// shuffle), each a fixed number of round trips timed by the monotonic
// clock:
//   none    no event
//   count   a task-clock event counting, no sampling
//   s99     task-clock sampling at 99 Hz, sample_type 0, no ring
//   s997    the same at 997 Hz
//   chain   task-clock sampling at 997 Hz with user callchains into a
//           ring (gobench's --unwind kernel)
// A sampling task-clock event runs an hrtimer while its thread runs: the
// kernel starts it when the thread is switched in and cancels it when it
// is switched out, so a thread that blocks pays for the timer at every
// switch (in a KVM guest, TSC-deadline writes: VM exits), whatever the
// rate. If s99 costs about what s997 costs, the cost is per switch.
//
// Measured (2-vCPU KVM guest, AMD EPYC family 26 model 2, load 1.3, 10
// rounds of 20,000 round trips, 53.6 us per round trip with no event):
// count +32% [-14, +103], s99 +44% [-6, +122], s997 +76% [+14, +173],
// chain +79% [+19, +170]. The round trip crosses vCPUs here (each wake-up
// goes through the host), so the spread is wide; gobench's chan/pingpong
// showed the same shape (+126% at 99 Hz, +79% at 997 Hz, kernel chains).
//   percpu (added later, 16 rounds, load 3.3, 51.7 us per round trip with no
//   event; the other rows: count +17%, s99 +30%, s997 +61%, chain +67%):
//   -43% [-48, -38]. A CPU-wide event pays nothing at a switch, but its
//   timer keeps both vCPUs from idling, and a futex wake-up of a running
//   vCPU is cheaper than of a halted one: it perturbs blocking code the
//   other way, so it is no cure for sampling blocking code here either.
//
//   cc -O2 -o /tmp/switch-cost scripts/probes/switch-cost.c -lpthread -lm
//   /tmp/switch-cost [ROUNDS=10] [TRIPS=20000]
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { NONE, COUNT, S99, S997, CHAIN, PERCPU, NCFG };
static const char *names[NCFG] = {"none", "count", "s99", "s997", "chain", "percpu"};

static _Atomic uint32_t token;   // whose turn: 0 or 1
static int trips, cfg;
static pthread_barrier_t start, done;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int open_self(int c, void **ring, size_t *len) {
    *ring = NULL;
    if (c == NONE || c == PERCPU) return -1;
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = c == COUNT ? 0 : c == S99 ? 1000000000 / 99 : 1000000000 / 997;
    a.sample_type = c == CHAIN ? PERF_SAMPLE_CALLCHAIN : 0;
    a.exclude_callchain_kernel = 1;
    a.sample_max_stack = 127;
    a.disabled = 1;
    a.wakeup_events = 1 << 30;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) { perror("perf_event_open"); exit(1); }
    if (c == CHAIN) {
        *len = (size_t)sysconf(_SC_PAGESIZE) * 513;
        *ring = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (*ring == MAP_FAILED) { perror("mmap"); exit(1); }
    }
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    return fd;
}

// PERCPU: one cpu-clock event per CPU (pid -1), sampling every task on it
// at 997 Hz with TID and user callchains into a ring, as `perf record -a`
// does: its hrtimer belongs to the CPU, so nothing happens at a switch
// (needs perf_event_paranoid <= 0 or CAP_PERFMON; a sampler would keep
// only its own threads' samples by TID).
static int cpu_fds[64];
static void *cpu_rings[64];
static size_t cpu_len;
static void percpu(int on) {
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 64) ncpu = 64;
    for (int c = 0; c < ncpu; c++) {
        if (!on) {
            ioctl(cpu_fds[c], PERF_EVENT_IOC_DISABLE, 0);
            munmap(cpu_rings[c], cpu_len);
            close(cpu_fds[c]);
            continue;
        }
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.type = PERF_TYPE_SOFTWARE;
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        a.sample_period = 1000000000 / 997;
        a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN;
        a.exclude_callchain_kernel = 1;
        a.exclude_kernel = 1;
        a.exclude_idle = 1;
        a.sample_max_stack = 127;
        a.disabled = 1;
        a.wakeup_events = 1 << 30;
        cpu_fds[c] = (int)syscall(SYS_perf_event_open, &a, -1, c, -1, PERF_FLAG_FD_CLOEXEC);
        if (cpu_fds[c] < 0) { perror("perf_event_open (per CPU)"); exit(1); }
        cpu_len = (size_t)sysconf(_SC_PAGESIZE) * 513;
        cpu_rings[c] = mmap(NULL, cpu_len, PROT_READ | PROT_WRITE, MAP_SHARED, cpu_fds[c], 0);
        if (cpu_rings[c] == MAP_FAILED) { perror("mmap"); exit(1); }
        ioctl(cpu_fds[c], PERF_EVENT_IOC_ENABLE, 0);
    }
}

static void *player(void *arg) {
    uint32_t me = (uint32_t)(uintptr_t)arg;
    for (;;) {
        pthread_barrier_wait(&start);
        if (trips < 0) return NULL;
        void *ring; size_t len = 0;
        int fd = open_self(cfg, &ring, &len);
        pthread_barrier_wait(&start);
        for (int i = 0; i < trips; i++) {
            while (atomic_load(&token) != me)
                syscall(SYS_futex, &token, FUTEX_WAIT_PRIVATE, 1 - me, NULL, NULL, 0);
            atomic_store(&token, 1 - me);
            syscall(SYS_futex, &token, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        if (fd >= 0) { ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); if (ring) munmap(ring, len); close(fd); }
        pthread_barrier_wait(&done);
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    int n = argc > 2 ? atoi(argv[2]) : 20000;
    pthread_barrier_init(&start, NULL, 3);
    pthread_barrier_init(&done, NULL, 3);
    pthread_t t[2];
    for (uintptr_t i = 0; i < 2; i++) pthread_create(&t[i], NULL, player, (void *)i);
    static double us[NCFG][200];
    if (rounds > 200) rounds = 200;
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    for (int r = -1; r < rounds; r++) {
        int order[NCFG];
        for (int i = 0; i < NCFG; i++) order[i] = i;
        for (int i = NCFG - 1; i > 0; i--) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            int j = (int)(rng % (uint64_t)(i + 1)), x = order[i]; order[i] = order[j]; order[j] = x;
        }
        for (int k = 0; k < NCFG; k++) {
            cfg = order[k];
            trips = n;
            atomic_store(&token, 0);
            if (cfg == PERCPU) percpu(1);
            pthread_barrier_wait(&start);   // players open their events
            pthread_barrier_wait(&start);   // and start
            int64_t t0 = now_ns();
            pthread_barrier_wait(&done);
            int64_t t1 = now_ns();
            if (cfg == PERCPU) percpu(0);
            if (r >= 0) us[cfg][r] = (double)(t1 - t0) / n / 1000;
        }
    }
    printf("switch-cost: futex ping-pong between 2 threads, %d round trips per run, %d rounds\n", n, rounds);
    printf("%-6s %14s %22s\n", "config", "us/round trip", "vs none (mean log, 95%)");
    for (int c = 0; c < NCFG; c++) {
        double s = 0, ss = 0, m, l[200];
        for (int r = 0; r < rounds; r++) { l[r] = log(us[c][r] / us[NONE][r]); s += l[r]; }
        m = s / rounds;
        for (int r = 0; r < rounds; r++) ss += (l[r] - m) * (l[r] - m);
        double half = rounds > 1 ? 2.1 * sqrt(ss / (rounds - 1) / rounds) : 0;
        double med = 0;
        for (int r = 0; r < rounds; r++) med += us[c][r];
        printf("%-6s %14.2f %+10.1f%% [%+.1f, %+.1f]\n", names[c], med / rounds, 100 * (exp(m) - 1),
               100 * (exp(m - half) - 1), 100 * (exp(m + half) - 1));
    }
    trips = -1;
    pthread_barrier_wait(&start);
    return 0;
}
