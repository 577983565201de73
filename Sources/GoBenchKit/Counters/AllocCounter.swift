// The one Swift wrapper over CGoBenchAlloc: per-thread counts of heap
// allocations and frees (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign, valloc, free, and everything built on them:
// Swift objects, arrays, strings, C++ new), for the region between
// `start()` and `stop()` on the calling thread. See CGoBenchAlloc.h for
// exactly what is counted and why the overrides are our own.

import CGoBenchAlloc

/// Heap calls of one thread's counted region.
public struct AllocCounts: Sendable, Equatable, CustomStringConvertible {
    /// Blocks handed out (a successful realloc of a live block counts one).
    public var allocations: UInt64
    /// Bytes requested by those calls (not glibc's rounded chunk sizes).
    public var bytes: UInt64
    /// Blocks released (free of non-NULL, realloc's old block).
    public var frees: UInt64

    public init(allocations: UInt64 = 0, bytes: UInt64 = 0, frees: UInt64 = 0) {
        self.allocations = allocations
        self.bytes = bytes
        self.frees = frees
    }

    init(_ c: cgba_counts) {
        self.init(allocations: c.allocs, bytes: c.bytes, frees: c.frees)
    }

    public static func + (a: AllocCounts, b: AllocCounts) -> AllocCounts {
        AllocCounts(allocations: a.allocations + b.allocations, bytes: a.bytes + b.bytes, frees: a.frees + b.frees)
    }

    public var description: String { "\(allocations) allocs, \(bytes) B, \(frees) frees" }
}

public enum AllocCounter {
    public enum Availability: Sendable, Equatable {
        case available
        case unavailable(reason: String)
    }

    /// Checked once per process: the overrides exist in this build and a
    /// known allocation made inside libswiftCore (swift_slowAlloc calls
    /// malloc through its PLT) is counted, which proves shared libraries
    /// bind to them and not only this executable's own code.
    public static let availability: Availability = selfCheck()

    public static var isAvailable: Bool { availability == .available }

    /// Whether this build defines the overrides at all (false under a
    /// sanitizer, whose runtime interposes malloc itself).
    public static var overridesBuilt: Bool { cgba_available() != 0 }

    /// Zeroes the calling thread's counts and starts counting.
    @inline(__always)
    public static func start() { cgba_start() }

    /// Stops counting on the calling thread; its counts since `start()`.
    @inline(__always)
    public static func stop() -> AllocCounts { AllocCounts(cgba_stop()) }

    /// The calling thread, which is counting, adopts the threads its
    /// region starts: those that call `childThreadBegin()` first and
    /// `childThreadEnd()` last count their own calls, and this thread's
    /// `stop()` includes what they counted (see cgba_adopt_children).
    @inline(__always)
    public static func adoptChildThreads() { cgba_adopt_children() }

    /// First thing on a thread that a counting region may have started.
    public static func childThreadBegin() { cgba_child_begin() }

    /// Last thing on such a thread: hands its counts to the adopter.
    public static func childThreadEnd() { cgba_child_end() }

    /// Go's b.StopTimer also stops the allocation statistics: nothing the
    /// thread allocates until `resume()` is counted.
    @inline(__always)
    static func pause() { cgba_pause() }

    @inline(__always)
    static func resume() { cgba_resume() }

    /// Runs `body` on the calling thread with counting on; its counts.
    /// (Not generic: an unspecialized generic call may allocate itself.)
    public static func counting(_ body: () -> Void) -> AllocCounts {
        start()
        body()
        return stop()
    }

    static let selfCheckBytes = 40

    private static func selfCheck() -> Availability {
        guard cgba_available() != 0 else {
            return .unavailable(reason: "built with a sanitizer (TSan/ASan interpose malloc themselves) "
                                + "or with CGOBENCH_NO_ALLOC_INTERPOSER")
        }
        cgba_start()
        let p = UnsafeMutableRawPointer.allocate(byteCount: selfCheckBytes, alignment: 8)
        blackHole(p)
        p.deallocate()
        let c = AllocCounts(cgba_stop())
        guard c == AllocCounts(allocations: 1, bytes: UInt64(selfCheckBytes), frees: 1) else {
            return .unavailable(reason: "the malloc overrides are not in effect here (a \(selfCheckBytes)-byte Swift allocation counted as \(c))")
        }
        return .available
    }
}
