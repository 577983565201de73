// The spin policy of Go's sync.Mutex and runtime locks: runtime/proc.go
// `sync_runtime_canSpin` / `sync_runtime_doSpin` and the tunables of
// runtime/lock_futex.go.
//
// Go spins in `Mutex.lockSlow` only when spinning can pay off: the holder
// is likely running on another CPU and will release soon, and the spinner
// is not keeping other work off its own CPU. Go's test is
//
//     i < active_spin && ncpu > 1 && gomaxprocs > npidle + nmspinning + 1
//         && runqempty(this P)
//
// i.e. "some other P is busy running Go code (probably the holder), and no
// goroutine waits in my local run queue".
//
// Adaptation to OS threads. There are no Ps and no run queues here, and a
// thread cannot see whether the kernel has other runnable threads for its
// CPU. What the port can see is how many threads are spinning in this
// package right now. So:
//   - `ncpu > 1` stays (Machine.ncpu, from sched_getaffinity);
//   - gomaxprocs becomes ncpu; npidle is unknowable and taken as 0 (every
//     CPU is assumed busy, which errs towards spinning — bounded by
//     `activeSpin` iterations anyway);
//   - nmspinning becomes `spinningThreads`, the number of threads currently
//     inside a mutex spin phase (other than the caller). Spinning is allowed
//     only while the spinners, plus the caller, leave at least one CPU for
//     someone else — in the common case the lock holder. With 2 CPUs and 3
//     contenders, one spins and the other sleeps at once, instead of two
//     spinners starving the holder of its CPU;
//   - "local run queue empty" has no equivalent and is dropped: the kernel
//     preempts a spinner that runs too long, and a spin phase is at most
//     4 x 30 PAUSE (~1.5-1.8 us here).
//
// Invariant: `spinningThreads` counts threads between `SpinPhase.enter`
// and `SpinPhase.leave`; it is only touched on the mutex slow path.

import Synchronization

/// `active_spin`: spin iterations a `lockSlow` may do before queueing
/// (runtime/lock_futex.go). Each iteration is one `doSpin`.
@usableFromInline let activeSpin = 4

/// `active_spin_cnt`: PAUSE instructions per spin iteration
/// (runtime/lock_futex.go). 30 PAUSE cost 344-461 ns on this machine.
@usableFromInline let activeSpinCount: UInt32 = 30

/// `passive_spin`: `osyield` rounds of the runtime lock before it sleeps.
@usableFromInline let passiveSpin = 1

/// Threads currently in a mutex spin phase: the port's `sched.nmspinning`.
/// Touched only by spinning slow paths (two atomic adds per spin phase).
@usableFromInline let spinningThreads = Atomic<Int>(0)

/// Tracks whether the calling `lockSlow` is counted in `spinningThreads`.
@usableFromInline
struct SpinPhase {
    @usableFromInline var registered = false

    @inlinable init() {}

    @inline(__always) @usableFromInline
    mutating func enter() {
        if !registered {
            spinningThreads.add(1, ordering: .relaxed)
            registered = true
        }
    }

    @inline(__always) @usableFromInline
    mutating func leave() {
        if registered {
            spinningThreads.subtract(1, ordering: .relaxed)
            registered = false
        }
    }
}

/// `sync_runtime_canSpin(i)`: may the `i`-th spin iteration run? See the
/// essay above for how the P conditions map to threads. The relaxed load of
/// `spinningThreads` is a heuristic: a stale value only makes one iteration
/// more or less likely, never affects correctness.
@inline(__always) @usableFromInline
func canSpin(_ i: Int, spinning: Bool) -> Bool {
    if i >= activeSpin || Machine.ncpu <= 1 { return false }
    // On a goroutine: Go's own test (the scheduler knows who runs).
    if let onG = goroutineCanSpin() { return onG }
    let others = spinningThreads.load(ordering: .relaxed) - (spinning ? 1 : 0)
    return Machine.ncpu > others + 1
}

/// `sync_runtime_doSpin`: one spin iteration, `procyield(active_spin_cnt)`.
@inline(__always) @usableFromInline
func doSpin() {
    Machine.procyield(activeSpinCount)
}
