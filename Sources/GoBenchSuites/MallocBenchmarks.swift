// The size-class allocator (GoRuntime.Allocator) against what a Swift user
// would pick instead: glibc malloc/free and a Swift class instance.
//
// Shape (all variants): allocate a batch of `mallocBatch` objects, then free
// them all, repeatedly; one op = one allocation + its free. Batches keep
// both the mcache fast path and the refill path (span exhausted -> swept by
// mcentral -> refilled) in every measurement. The Go reference
// (suites/go/malloc_test.go) allocates the same batches and drops them,
// leaving the freeing to its collector.
//
// Fixed starting state: every run (each calibration step and repetition)
// gets a fresh Allocator. glibc keeps its heap across benchmarks in one
// process (PLATFORM.md: up to 30x swings after large frees), so each glibc
// run first calls malloc_trim(0), which returns all free heap memory to the
// OS and consolidates the bins, then warms up with one untimed batch of the
// measured size; every glibc run thus starts from a trimmed heap holding
// only the harness's own live objects.

import GoBenchKit
import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

/// glibc's malloc_trim(0). <malloc.h> is not part of Swift's Glibc module,
/// so the symbol is looked up once with dlsym.
func glibcMallocTrim() {
    typealias Trim = @convention(c) (Int) -> Int32
    struct Once { static let fn: Trim? = dlsym(nil, "malloc_trim")  // RTLD_DEFAULT
        .map { unsafeBitCast($0, to: Trim.self) } }
    _ = Once.fn?(0)
}

/// Objects allocated before the batch is freed.
let mallocBatch = 100

/// Sizes of the `malloc/size=` family.
let mallocSizes = [8, 16, 32, 64, 128, 512, 1024, 4096, 32768, 65536]
/// Sizes of the glibc and Swift-class alternatives.
let mallocAlternativeSizes = [8, 16, 64, 512, 4096, 65536]

/// A pointer buffer outside any Swift collection, so the timed loop is
/// only the allocator's work.
final class MallocSlots: @unchecked Sendable {
    let p: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    init(_ n: Int) {
        p = .allocate(capacity: n)
        p.initialize(repeating: nil, count: n)
    }
    deinit { p.deallocate() }
}

/// Allocate/free batches of `size` on `a` for `n` ops.
@inline(__always)
func mallocBatches(_ a: Allocator, _ slots: MallocSlots, n: Int, size: Int, noscan: Bool) {
    let buf = slots.p
    var done = 0
    while done < n {
        let k = min(mallocBatch, n - done)
        for j in 0..<k { buf[j] = a.allocate(size: size, noscan: noscan) }
        for j in 0..<k { a.free(buf[j].unsafelyUnwrapped) }
        done += k
    }
}

/// The allocator benchmark shape with per-op event metrics.
func mallocBenchmark(_ name: String, size: Int, noscan: Bool, threads: Int = 1, summary: String) -> Benchmark {
    Benchmark(name, threads: threads, summary: summary) { run in
        let a = Allocator()
        let slots = (0..<run.threads).map { _ in MallocSlots(mallocBatch) }
        let before = a.statistics()
        run.teardown {
            // Worker threads have exited, so their mcaches are flushed.
            let s = a.statistics()
            let n = Double(max(run.n, 1))
            run.report(Double(s.mcacheRefills - before.mcacheRefills) / n, unit: "refills/op")
            run.report(Double(s.internalWaste - before.internalWaste) / n, unit: "waste-B/op")
            run.report(Double(s.heapMappedBytes) / 1_048_576, unit: "heap-MiB")
        }
        return { worker in
            mallocBatches(a, slots[worker.index], n: worker.n, size: size, noscan: noscan)
        }
    }
}

/// glibc's malloc/free in the same batches, from a trimmed, warmed heap.
func glibcBenchmark(size: Int) -> Benchmark {
    Benchmark("malloc/glibc/size=\(size)",
              summary: "glibc malloc+free of \(size) B in batches of \(mallocBatch) (malloc_trim(0) + warm-up batch first)") { run in
        let slots = MallocSlots(mallocBatch)
        glibcMallocTrim()
        for j in 0..<mallocBatch { slots.p[j] = malloc(size) }
        for j in 0..<mallocBatch { Glibc.free(slots.p[j]) }
        return { worker in
            let buf = slots.p
            var done = 0
            while done < worker.n {
                let k = min(mallocBatch, worker.n - done)
                for j in 0..<k { buf[j] = malloc(size) }
                for j in 0..<k { Glibc.free(buf[j]) }
                done += k
            }
        }
    }
}

/// A Swift class instance with `size` payload bytes (ManagedBuffer: 16-byte
/// object header + 8-byte header field + payload), allocated and released
/// in the same batches; Swift objects come from malloc, so the glibc reset
/// applies too.
func swiftClassBenchmark(size: Int) -> Benchmark {
    Benchmark("malloc/swift-class/size=\(size)",
              summary: "Swift class instance with \(size) B of tail storage, allocate+release in batches of \(mallocBatch)") { run in
        let slots = MallocSlots(mallocBatch)
        glibcMallocTrim()
        return { worker in
            let buf = slots.p
            var done = 0
            while done < worker.n {
                let k = min(mallocBatch, worker.n - done)
                for j in 0..<k {
                    let obj = ManagedBuffer<Int, UInt8>.create(minimumCapacity: size) { _ in size }
                    buf[j] = Unmanaged.passRetained(obj).toOpaque()
                }
                for j in 0..<k {
                    Unmanaged<ManagedBuffer<Int, UInt8>>.fromOpaque(buf[j].unsafelyUnwrapped).release()
                }
                done += k
            }
        }
    }
}

func mallocBenchmarks() -> [Benchmark] {
    var list: [Benchmark] = []
    for size in mallocSizes {
        list.append(mallocBenchmark(
            "malloc/size=\(size)", size: size, noscan: false,
            summary: size > Allocator.maxSmallSize
                ? "Allocator.allocate+free of \(size) B (large: own span from mheap) in batches of \(mallocBatch)"
                : "Allocator.allocate+free of \(size) B (size class \(Allocator.sizeClass(forSize: size)), scan) in batches of \(mallocBatch)"))
    }
    for size in [4, 8] {
        list.append(mallocBenchmark(
            "malloc/tiny/size=\(size)", size: size, noscan: true,
            summary: "tiny allocator: noscan \(size) B objects packed into 16 B blocks, allocate+free in batches"))
    }
    for size in mallocSizes {
        list.append(mallocBenchmark(
            "malloc/noscan/size=\(size)", size: size, noscan: true,
            summary: "Allocator.allocate+free of \(size) B, noscan (pointer-free; tiny allocator below 16 B), in batches of \(mallocBatch)"))
    }
    list.append(mallocBenchmark(
        "malloc/threads=2", size: 64, noscan: false, threads: 2,
        summary: "two threads allocate+free 64 B in batches on one Allocator (one mcache each)"))
    for size in mallocAlternativeSizes { list.append(glibcBenchmark(size: size)) }
    for size in mallocAlternativeSizes { list.append(swiftClassBenchmark(size: size)) }
    return list
}
