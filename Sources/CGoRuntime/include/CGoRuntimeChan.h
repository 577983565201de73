// CGoRuntimeChan: the per-thread record the channel port parks on, kept in
// C because Swift has no cheap thread-local storage with a destructor.
//
// Go keeps what a blocked goroutine needs in its `g` (g.param, g.selectDone,
// g.waiting) and caches sudogs per P (runtime/proc.go acquireSudog). Our
// "goroutines" are OS threads, so each thread that ever blocks on a channel
// gets one `cgort_chan_m`: its park word (a futex), Go's selectDone and
// param, a free list of sudogs, and the thread's channel event counters.
//
// Records are never freed: when a thread exits its record goes back to a
// pool and is handed to the next new thread. A waker may still touch the
// park word of a thread that has just been released (the futex wake comes
// after the store that lets the sleeper go), so the word must stay mapped;
// a reused record only ever sees a spurious wake, which every waiter on it
// tolerates (it re-checks the word in a loop).
#ifndef CGORUNTIME_CHAN_H
#define CGORUNTIME_CHAN_H

#include <stdint.h>
#include <stdbool.h>

/// Number of event counters per thread; ChannelEvents.swift names them.
#define CGORT_CHAN_NEVENTS 8

typedef struct cgort_chan_m {
    /// Park word, a futex: 0 waiting, 1 readied, 2 asleep in futex_wait.
    uint32_t key;
    /// Go's g.selectDone: a waker CASes it 0 -> 1 to claim a select.
    uint32_t select_done;
    /// Go's g.param: the sudog whose operation completed (set by the waker
    /// before it readies the thread).
    void *param;
    /// Free sudogs of this thread (owner only).
    void *sudog_cache;
    /// Adaptive spin limit of this thread, in spin rounds (owner only).
    int32_t spin_limit;
    int32_t _pad;
    /// Event counts; written only by the owner (relaxed stores), read by
    /// anyone (relaxed loads).
    uint64_t events[CGORT_CHAN_NEVENTS];
    /// Registry links (under the registry mutex).
    struct cgort_chan_m *all_next;
    /// The goroutine (GoRuntime/Sched G) this record belongs to, or NULL
    /// for a thread's record. Set once when the record is made.
    void *g;
} cgort_chan_m;

/// The caller's record: the running goroutine's when called on a goroutine
/// (GoRuntime/Sched), else the calling thread's, created on first use.
cgort_chan_m *cgort_chan_self(void);

/// A new record for goroutine `g`, registered for event snapshots and
/// never freed (goroutines are reused, and their records with them).
cgort_chan_m *cgort_chan_new_record(void *g);

/// Go's fastrandn for select's poll order: a per-thread wyrand stream,
/// uniform in [0, n). Seeded from the clock and thread id, or from the
/// seed given to cgort_chan_set_rand_seed (for exact callgrind counts).
uint32_t cgort_chan_fastrandn(uint32_t n);

/// Fixes the random stream: the calling thread restarts from `seed`, and
/// threads that draw their first number later start from `seed` too.
/// `seed == 0` returns to clock seeding for new threads.
void cgort_chan_set_rand_seed(uint64_t seed);

/// Sums every thread's counters (live and exited) into out[0..<n].
void cgort_chan_events_snapshot(uint64_t *out, int n);

static inline __attribute__((always_inline)) uint32_t cgort_chan_key_load(cgort_chan_m *m) {
    return __atomic_load_n(&m->key, __ATOMIC_ACQUIRE);
}
static inline __attribute__((always_inline)) void cgort_chan_key_store(cgort_chan_m *m, uint32_t v) {
    __atomic_store_n(&m->key, v, __ATOMIC_RELEASE);
}
static inline __attribute__((always_inline)) uint32_t cgort_chan_key_xchg(cgort_chan_m *m, uint32_t v) {
    return __atomic_exchange_n(&m->key, v, __ATOMIC_SEQ_CST);
}
static inline __attribute__((always_inline)) bool cgort_chan_key_cas(cgort_chan_m *m, uint32_t old, uint32_t v) {
    return __atomic_compare_exchange_n(&m->key, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline __attribute__((always_inline)) bool cgort_chan_select_done_cas(cgort_chan_m *m) {
    uint32_t old = 0;
    return __atomic_compare_exchange_n(&m->select_done, &old, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline __attribute__((always_inline)) void cgort_chan_select_done_store(cgort_chan_m *m, uint32_t v) {
    __atomic_store_n(&m->select_done, v, __ATOMIC_SEQ_CST);
}
/// Adds to one of the caller's own counters (owner only: load + store, no
/// locked instruction).
static inline __attribute__((always_inline)) void cgort_chan_count(cgort_chan_m *m, int i, uint64_t d) {
    __atomic_store_n(&m->events[i], __atomic_load_n(&m->events[i], __ATOMIC_RELAXED) + d, __ATOMIC_RELAXED);
}

#endif
