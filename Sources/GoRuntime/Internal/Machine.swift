// Thin Swift faces of CGoRuntimeCore.h's machine helpers (that header says
// which other files call it). Mirrors the small machine helpers the Go
// runtime keeps in runtime/asm_amd64.s and runtime/os_linux.go.

import CGoRuntime

/// Machine primitives used by the ports.
public enum Machine {
    /// Go's `procyield(cycles)`: `cycles` PAUSE instructions.
    @inline(__always)
    public static func procyield(_ cycles: UInt32) { cgort_procyield(cycles) }

    /// One PAUSE instruction.
    @inline(__always)
    public static func pause() { cgort_pause() }

    /// Go's `osyield`: give the CPU to another runnable thread.
    @inline(__always)
    public static func osyield() { cgort_osyield() }

    /// Go's `nanotime`: the monotonic clock in nanoseconds.
    @inline(__always)
    public static func nanotime() -> Int64 { cgort_nanotime() }

    /// The calling thread's CPU time in nanoseconds.
    @inline(__always)
    public static func threadCPUTime() -> Int64 { cgort_thread_cputime() }

    /// The time-stamp counter; 0 on machines without one.
    @inline(__always)
    public static func rdtsc() -> UInt64 { cgort_rdtsc() }

    /// Go's `ncpu`: CPUs this process may run on, read once.
    public static let ncpu: Int = Int(cgort_ncpu())

    /// Kernel thread id of the caller.
    public static func gettid() -> Int32 { cgort_gettid() }
}
