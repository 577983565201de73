// CGoBench sampler: the part of the stack profiler that must be C.
//
// Why C: the SIGPROF handler runs at arbitrary points of a benchmark, in the
// middle of malloc, of a Swift retain, of a lock. It may only touch memory
// prepared in advance and call async-signal-safe code, so it cannot be Swift
// (every Swift call may enter the runtime). Everything else (draining,
// symbolizing, aggregating) happens in Swift after the timed loop.
//
// Shape:
//   - one process-wide SIGPROF handler, installed once and never removed; it
//     ignores a signal unless the receiving thread is armed;
//   - one ring per armed thread (single producer: that thread's handler;
//     single consumer: whoever drains it), preallocated and pre-faulted;
//   - per-thread arming: a perf_event software task-clock event whose
//     overflow sends SIGPROF to this thread (F_SETSIG + F_SETOWN_EX), or a
//     timer_create(CLOCK_THREAD_CPUTIME_ID) timer aimed at this thread;
//   - two unwinders in the handler: libunwind's unw_backtrace (exact, uses
//     DWARF CFI) and a frame-pointer walk (cheaper, loses frames where chains
//     are broken); and a third mode with no signal at all, where the kernel
//     walks the frame pointers into a perf mmap ring (CGB_UNWIND_KERNEL),
//     copied into the thread's ring when it disarms.
//     libunwind is dlopen'ed privately (RTLD_LOCAL): linking it would put its
//     _Unwind_* and weak `backtrace` into the global symbol scope, where they
//     could replace libgcc's unwinder for C++ exceptions (TOMLKit).
#ifndef CGOBENCH_SAMPLER_H
#define CGOBENCH_SAMPLER_H

#include <stdint.h>
#include <stddef.h>

/// Frames kept per sample; deeper stacks are cut at the root end and
/// counted as truncated.
#define CGB_MAX_FRAMES 128

/// Record flag: the stack had more than CGB_MAX_FRAMES frames.
#define CGB_SAMPLE_TRUNCATED 1u
/// Record flag: the unwinder could not find the interrupted frame; only the
/// interrupted pc was kept.
#define CGB_SAMPLE_UNWIND_FAILED 2u
/// Record flags above this bit hold the record's extra weight: timer
/// expirations that the kernel coalesced into this one signal (the POSIX
/// timer's overrun count). A record stands for 1 + (flags >> shift) periods.
#define CGB_SAMPLE_WEIGHT_SHIFT 8

enum cgb_unwinder {
    CGB_UNWIND_LIBUNWIND = 0,
    CGB_UNWIND_FP = 1,
    /// No signal at all: the kernel walks the user frame pointers itself
    /// (PERF_SAMPLE_CALLCHAIN on the task-clock event, as `perf record -g`)
    /// into a perf mmap ring, copied into the cgb_ring at disarm. Needs the
    /// perf source and its ring; otherwise the signal sources run with
    /// libunwind (or frame pointers without it).
    CGB_UNWIND_KERNEL = 2,
};

enum cgb_source {
    CGB_SOURCE_AUTO = 0,
    /// perf_event task-clock with F_SETSIG/F_SETOWN_EX.
    CGB_SOURCE_PERF = 1,
    /// timer_create(CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID).
    CGB_SOURCE_TIMER = 2,
};

typedef struct cgb_ring cgb_ring;

/// Counters of one ring; written by the owning thread's handler only.
typedef struct cgb_ring_stats {
    uint64_t signals;     ///< SIGPROF deliveries while armed
    uint64_t samples;     ///< records written
    uint64_t overruns;    ///< extra periods those records stand for (timer overruns)
    uint64_t lost;        ///< ring full or handler re-entered
    uint64_t truncated;   ///< records with CGB_SAMPLE_TRUNCATED
    uint64_t unwind_failed;
    uint64_t handler_ns;  ///< thread CPU time spent inside the handler, summed
} cgb_ring_stats;

/// Installs the SIGPROF handler (once per process) and loads libunwind.
/// Returns 0, or -errno when sigaction failed. Thread-safe.
int cgb_sampler_install(void);

/// 1 when libunwind was loaded by cgb_sampler_install.
int cgb_libunwind_available(void);

/// A ring of `capacity_words` 64-bit words (rounded up to a power of two),
/// allocated and pre-faulted here. NULL when out of memory.
cgb_ring *cgb_ring_create(uint64_t capacity_words);
void cgb_ring_destroy(cgb_ring *ring);
cgb_ring_stats cgb_ring_get_stats(const cgb_ring *ring);

/// Reads the next record: copies up to `max` frames (leaf first) into
/// `frames`, sets *flags, and returns the frame count, or -1 when the ring
/// is empty. Single consumer.
int cgb_ring_read(cgb_ring *ring, uint64_t *frames, int max, uint32_t *flags);

/// Arms the calling thread: from now on SIGPROF for this thread writes
/// stacks into `ring` using `unwinder`, and a source sends SIGPROF at `hz`
/// per second of this thread's CPU time. Warms the unwinder up first.
/// Returns the source used (CGB_SOURCE_PERF or CGB_SOURCE_TIMER), or
/// -errno when no source could be armed (the thread stays disarmed).
int cgb_sampler_arm(cgb_ring *ring, int unwinder, int hz, int source);

/// Disarms the calling thread in order: stops its source, lets a signal
/// already pending run, then detaches the ring. Safe when not armed.
void cgb_sampler_disarm(void);

/// Waits until no handler is running on any thread.
void cgb_sampler_quiesce(void);

/// The calling thread's stack from the caller of this function, leaf first,
/// with the given unwinder (outside signal context; for tests comparing
/// the unwinders on a known stack). Returns the frame count.
int cgb_capture_stack(int unwinder, uint64_t *frames, int max);

/// 1 when ThreadSanitizer's runtime is in the process. TSan defers
/// asynchronous signals to its own safe points, so a handler no longer runs
/// on the interrupted stack and samples cannot show where the thread was.
int cgb_thread_sanitizer_present(void);

/// Symbolizer test support: the address of an instruction inside an
/// always-inlined helper (`cgb_probe_inlined_leaf`) as inlined into this
/// function, and in `*line` that instruction's source line. DWARF must
/// give the chain cgb_probe_inlined_leaf (line) -> cgb_symbolizer_probe.
uint64_t cgb_symbolizer_probe(int *line);

/// Swift's demangler, exported by libswiftCore. Returns a malloc'ed string
/// when output_buffer is NULL, or NULL when `mangled` is not a Swift name.
char *swift_demangle(const char *mangled, size_t mangled_length,
                     char *output_buffer, size_t *output_buffer_size,
                     uint32_t flags);

#endif
