// CGoRuntimeSync: per-thread records for the sync ports (GoRuntime/Sync).
//
// Why C: a thread-local pointer (`__thread`) plus a pthread key whose
// destructor runs at thread exit are the cheapest way to give each OS thread
// its own record, and Swift has neither. The record holds the thread's
// event counters (written only by the owning thread, read by anyone with
// relaxed atomic loads) and its sudog, the waiter a thread queues on a
// semaphore (runtime/sema.go) — a thread waits on at most one semaphore at a
// time, as a goroutine does.
//
// Records are never freed: when a thread exits, its record goes to a free
// list and the next new thread reuses it. Counter values therefore survive
// their threads (sums over all records only grow), and a late futex wake on
// a sudog's park word always hits live memory. Only GoRuntime/Sync/
// SyncThread.swift imports these declarations.
#ifndef CGORUNTIME_SYNC_H
#define CGORUNTIME_SYNC_H

#include <stdint.h>

/// Size of one per-thread record: 64-byte aligned, zeroed when created.
#define CGORT_SYNC_RECORD_SIZE 256

/// Number of 64-bit event counters at the start of every record.
#define CGORT_SYNC_COUNTERS 16

/// The caller's record: the running goroutine's on a goroutine
/// (GoRuntime/Sched), else the calling thread's (created or reused on
/// first call).
void *cgort_sync_thread_record(void);

/// A new record not tied to a thread (a goroutine's), counted in the
/// sums and never freed.
void *cgort_sync_new_record(void);

/// Adds each record's first `count` counters (count <= CGORT_SYNC_COUNTERS)
/// into `out[0..<count]`, which the caller zeroes. Reads are relaxed atomic
/// loads; the totals are a snapshot, not a linearizable cut.
void cgort_sync_sum_counters(uint64_t *out, int32_t count);

/// Number of records ever created (for tests: bounded by peak live threads).
int32_t cgort_sync_record_count(void);

/// Pins the calling thread to one CPU (tests that must keep a waker and a
/// wakee on different CPUs). Returns 0 or an errno value.
int32_t cgort_sync_pin_thread(int32_t cpu);

/// Writes up to `max` CPU numbers this process may run on into `out`;
/// returns how many.
int32_t cgort_sync_allowed_cpus(int32_t *out, int32_t max);

#endif
