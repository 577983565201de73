// The Swift face of the C sampler (CGoBenchSampler.h): the only file of the
// profiler that calls the SIGPROF side. It arms and disarms threads and
// turns a ring's records into raw stacks; it never runs in signal context.
//
// Lifecycle of one sampled thread (all on that thread except `drain`):
//   let ring = SampleRing()            // preallocated, pre-faulted
//   let armed = ring.arm(config)       // warm-up, then the source starts
//   ... timed loop ...
//   ring.disarm()                      // source stopped, pending signal run, ring detached
//   ring.drain { stack, flags in }     // any thread, after disarm (or concurrently: SPSC ring)

import CGoBench

/// How stacks are unwound in the handler.
public enum Unwinder: String, Sendable, CaseIterable {
    /// libunwind's unw_backtrace: DWARF CFI, exact, 2-3 us per sample here.
    case libunwind
    /// Frame-pointer walk: cheaper, loses callers where chains are broken
    /// (shrink-wrapped leaves, libc).
    case fp
    /// The kernel's frame-pointer callchains (PERF_SAMPLE_CALLCHAIN on the
    /// task-clock event, read from a perf mmap ring at disarm): no signal,
    /// no handler; the same chains as `fp`. Needs perf events and their
    /// ring (else libunwind in the handler).
    case kernel

    var cValue: Int32 {
        switch self {
        case .libunwind: return Int32(CGB_UNWIND_LIBUNWIND.rawValue)
        case .fp: return Int32(CGB_UNWIND_FP.rawValue)
        case .kernel: return Int32(CGB_UNWIND_KERNEL.rawValue)
        }
    }
}

/// What sends SIGPROF to a sampled thread.
public enum SampleSource: String, Sendable, CaseIterable {
    /// perf first, timer when perf_event_open fails.
    case auto
    /// A per-thread perf_event task-clock event (true 1 kHz here).
    case perf
    /// A per-thread CLOCK_THREAD_CPUTIME_ID timer (~250/s here: HZ=250).
    case timer

    var cValue: Int32 {
        switch self {
        case .auto: return Int32(CGB_SOURCE_AUTO.rawValue)
        case .perf: return Int32(CGB_SOURCE_PERF.rawValue)
        case .timer: return Int32(CGB_SOURCE_TIMER.rawValue)
        }
    }
}

public struct SamplerConfig: Sendable, Equatable {
    /// Samples per second of thread CPU time. 997 (not 1000) so the sampling
    /// does not beat with periodic work at round frequencies, as pprof's
    /// users do with 97/997.
    public var hz: Int = defaultHz
    public var unwinder: Unwinder = SamplerConfig.defaultUnwinder
    public var source: SampleSource = .auto

    public static let defaultHz = 997
    /// The kernel's callchains: no signal, and the lowest cost measured
    /// (`gobench profile-overhead`, paired in one process, issue 22:
    /// +2.1% cpu-ns/op at 997 Hz, about 21 us per sample, which is the
    /// guest's own cost of a timer expiry; fp and libunwind +4.2-4.6%,
    /// a signal costing about 20 us more). The same stacks as `fp`. Where
    /// perf events or their ring are refused, arming falls back to
    /// libunwind.
    public static let defaultUnwinder = Unwinder.kernel

    public init(hz: Int = SamplerConfig.defaultHz, unwinder: Unwinder = SamplerConfig.defaultUnwinder,
                source: SampleSource = .auto) {
        self.hz = hz
        self.unwinder = unwinder
        self.source = source
    }
}

/// Counters of one ring: what the handler saw.
public struct SamplerStats: Sendable, Equatable {
    public var signals: Int = 0
    public var samples: Int = 0
    /// Extra periods the samples stand for: CPU-time timer expirations the
    /// kernel coalesced into one signal (the timer source only).
    public var overruns: Int = 0
    public var lost: Int = 0
    public var truncated: Int = 0
    public var unwindFailed: Int = 0
    /// Thread CPU time spent inside the handler (unwinding and recording), summed.
    public var handlerNanoseconds: Int = 0

    public static func + (a: SamplerStats, b: SamplerStats) -> SamplerStats {
        SamplerStats(signals: a.signals + b.signals, samples: a.samples + b.samples, overruns: a.overruns + b.overruns,
                     lost: a.lost + b.lost,
                     truncated: a.truncated + b.truncated, unwindFailed: a.unwindFailed + b.unwindFailed,
                     handlerNanoseconds: a.handlerNanoseconds + b.handlerNanoseconds)
    }

    /// Sampling periods the samples stand for (samples plus overruns).
    public var periods: Int { samples + overruns }
}

public enum Sampler {
    /// Whether libunwind could be loaded (else `.libunwind` falls back to fp).
    public static var libunwindAvailable: Bool { cgb_libunwind_available() != 0 }

    /// True under ThreadSanitizer, which defers signals to its own safe
    /// points: samples are still counted, but their stacks are not where
    /// the thread was interrupted (the libunwind walk reports them as
    /// unwind failures).
    public static var stacksAreUnreliable: Bool { cgb_thread_sanitizer_present() != 0 }

    /// Whether the kernel-callchain unwinder can arm here (perf events
    /// allowed, the mmap ring granted): tried once on a throwaway ring.
    public static let kernelCallchainsAvailable: Bool = {
        let ring = SampleRing(words: 1024)
        defer { ring.disarm() }
        if case .success = ring.arm(SamplerConfig(hz: 99, unwinder: .kernel, source: .perf)) { return true }
        return false
    }()

    /// The calling thread's stack from the caller of this function, leaf
    /// first, as the given unwinder sees it outside signal context.
    public static func captureStack(_ unwinder: Unwinder) -> [UInt64] {
        var frames = [UInt64](repeating: 0, count: Int(CGB_MAX_FRAMES))
        let n = frames.withUnsafeMutableBufferPointer {
            cgb_capture_stack(unwinder.cValue, $0.baseAddress, Int32(CGB_MAX_FRAMES))
        }
        return Array(frames.prefix(Int(max(0, n))))
    }

    /// Frames kept per sample.
    public static let maxFrames = Int(CGB_MAX_FRAMES)
}

/// A preallocated single-producer ring owned by one sampled thread.
public final class SampleRing: @unchecked Sendable {
    private let ring: OpaquePointer

    /// Words per ring: 4 MiB, about 4 s at 1 kHz of 128-deep stacks, or
    /// far longer at usual depths. Drained after every repetition.
    public static let defaultWords = 1 << 19

    public init(words: Int = SampleRing.defaultWords) {
        guard let r = cgb_ring_create(UInt64(words)) else { fatalError("gobench: cannot allocate a sample ring") }
        ring = r
    }

    deinit { cgb_ring_destroy(ring) }

    /// Arms the calling thread; returns the source used, or an error
    /// message when none could be armed.
    public func arm(_ config: SamplerConfig) -> Result<SampleSource, SamplerError> {
        let rc = cgb_sampler_arm(ring, config.unwinder.cValue, Int32(config.hz), config.source.cValue)
        if rc == Int32(CGB_SOURCE_PERF.rawValue) { return .success(.perf) }
        if rc == Int32(CGB_SOURCE_TIMER.rawValue) { return .success(.timer) }
        return .failure(SamplerError(description: "cannot arm the sampler: \(String(cString: strerror(-rc)))"))
    }

    /// Disarms the calling thread (which must be the one that armed).
    public func disarm() { cgb_sampler_disarm() }

    public var stats: SamplerStats {
        let s = cgb_ring_get_stats(ring)
        return SamplerStats(signals: Int(s.signals), samples: Int(s.samples), overruns: Int(s.overruns), lost: Int(s.lost),
                            truncated: Int(s.truncated), unwindFailed: Int(s.unwind_failed),
                            handlerNanoseconds: Int(s.handler_ns))
    }

    /// Reads every record written so far: `body(stack, truncated, weight)`
    /// with the stack leaf first (the leaf is the interrupted pc; the rest
    /// are return addresses) and the number of sampling periods the record
    /// stands for (above 1 when timer expirations were coalesced).
    public func drain(_ body: (UnsafeBufferPointer<UInt64>, Bool, Int) -> Void) {
        cgb_sampler_quiesce()
        var frames = [UInt64](repeating: 0, count: Int(CGB_MAX_FRAMES))
        frames.withUnsafeMutableBufferPointer { buf in
            var flags: UInt32 = 0
            while true {
                let n = cgb_ring_read(ring, buf.baseAddress, Int32(CGB_MAX_FRAMES), &flags)
                if n < 0 { break }
                body(UnsafeBufferPointer(rebasing: buf[0..<Int(n)]), flags & UInt32(CGB_SAMPLE_TRUNCATED) != 0,
                     1 + Int(flags >> UInt32(CGB_SAMPLE_WEIGHT_SHIFT)))
            }
        }
    }
}

public struct SamplerError: Error, CustomStringConvertible {
    public let description: String
}

#if canImport(Glibc)
import Glibc
#endif
