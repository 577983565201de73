// Allocation counting (CGoBenchAlloc through AllocCounter and
// AllocInstrument), peak memory, and the allocs/op verdict rule.
//
// Swift Testing runs these in parallel with the rest of the suite, on
// threads that allocate all the time: every exact count below also shows
// that one thread's counts hold nothing of another's.

import Testing
@testable import GoBenchKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private let counting = AllocCounter.isAvailable

private final class TwoWords {
    var a = 1, b = 2
}

/// glibc's memalign (in <malloc.h>, which Swift's Glibc module lacks),
/// looked up the way any caller would find it: RTLD_DEFAULT.
private let memalignFn: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?)? =
    dlsym(nil, "memalign").map { unsafeBitCast($0, to: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?).self) }

/// Runs `b` once at `n` iterations with only the allocation instrument.
private func measureAllocs(_ b: Benchmark, n: Int) -> RepetitionResult {
    let runner = Runner(instruments: [AllocInstrument()])
    return runner.runRepetition(b, n: n, repetition: 0)
}

@Suite struct AllocCounterTests {
    /// The decision for sanitizer builds and its converse: the counter is
    /// available exactly where the overrides were compiled in, and where it
    /// is, the self-check passed (shared libraries bind to them).
    @Test func availableExactlyWhereTheOverridesAreBuilt() {
        let built = AllocCounter.overridesBuilt
        #expect(AllocCounter.isAvailable == built, "\(AllocCounter.availability)")
    }

    @Test(.enabled(if: !AllocCounter.overridesBuilt, "only in a sanitizer build, where TSan/ASan own malloc"))
    func sanitizerBuildReportsUnavailable() {
        guard case .unavailable(let reason) = AllocCounter.availability else {
            Issue.record("available in a sanitizer build")
            return
        }
        #expect(reason.contains("sanitizer"))
        let i = AllocInstrument()
        #expect(!i.isCounting)
        #expect(i.contextLines.first?.value.hasPrefix("unavailable: ") == true)
        let r = measureAllocs(Benchmark.simple("test/alloc/sanitized") { w in
            for _ in 0..<w.n { free(malloc(16)) }
        }, n: 10)
        #expect(r.metric("allocs/op") == nil && r.metric("B/op") == nil)
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func countsEveryEntryPoint() throws {
        let memalign = try #require(memalignFn)
        let c = AllocCounter.counting {
            let a = malloc(24)!                                   // 1 alloc, 24 B
            let b = calloc(3, 10)!                                // 1 alloc, 30 B
            var p: UnsafeMutableRawPointer?
            _ = posix_memalign(&p, 64, 100)                       // 1 alloc, 100 B
            let d = aligned_alloc(64, 128)!                       // 1 alloc, 128 B
            let e = valloc(10)!                                   // 1 alloc, 10 B
            let f = memalign(32, 50)!                          // 1 alloc, 50 B
            free(a); free(b); free(p); free(d); free(e); free(f)  // 6 frees
            free(nil)                                             // not a free
        }
        #expect(c == AllocCounts(allocations: 6, bytes: 24 + 30 + 100 + 128 + 10 + 50, frees: 6))
    }

    /// glibc's own functions allocate through the interposable symbol too.
    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func glibcInternalAllocationsAreCounted() {
        let source = strdup("gobench")!    // a C string made outside the region
        defer { free(source) }
        let c = AllocCounter.counting {
            let s = strdup(source)!         // malloc(8) inside glibc
            free(s)
        }
        #expect(c == AllocCounts(allocations: 1, bytes: 8, frees: 1))
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func reallocCountsOnce() {
        let c = AllocCounter.counting {
            var p = realloc(nil, 8)!        // as malloc(8): 1 alloc
            p = realloc(p, 100)!            // 1 alloc of 100 B, 1 free (the old block)
            p = realloc(p, 4000)!           // again
            _ = realloc(p, 0)               // as free: 1 free
        }
        #expect(c == AllocCounts(allocations: 3, bytes: 8 + 100 + 4000, frees: 3))
        // A failed realloc leaves the block alone and counts nothing.
        let q = malloc(8)!
        var failed: UnsafeMutableRawPointer? = q
        let c2 = AllocCounter.counting { failed = realloc(q, Int.max / 2) }
        #expect(failed == nil)
        #expect(c2 == AllocCounts())
        free(q)
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func swiftAllocationsAreCounted() {
        // Swift's runtime allocates through malloc and posix_memalign from
        // libswiftCore (swift_slowAlloc, swift_allocObject).
        let raw = AllocCounter.counting {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 40, alignment: 8)
            blackHole(p)
            p.deallocate()
        }
        #expect(raw == AllocCounts(allocations: 1, bytes: 40, frees: 1))
        let object = AllocCounter.counting {
            let b = TwoWords()    // 16-byte object header + two Ints
            blackHole(b)
        }
        #expect(object == AllocCounts(allocations: 1, bytes: 32, frees: 1))
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func offCountsNothing() {
        AllocCounter.start()
        _ = AllocCounter.stop()
        free(malloc(64))  // after stop
        let c = AllocCounter.counting {}
        #expect(c == AllocCounts())
    }

    /// Two threads allocate and free at full speed with counting on while
    /// a third does the same with counting off: each counting thread sees
    /// exactly its own calls, and every block stays intact (a torn header
    /// or a lost free would corrupt glibc's heap or the fill pattern).
    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func twoThreadStressCountsPerThread() {
        let rounds = 20_000
        let results = UnsafeMutableBufferPointer<AllocCounts>.allocate(capacity: 3)
        results.initialize(repeating: AllocCounts())
        defer { results.deallocate() }
        let corrupt = Atomic<Int>(0)
        nonisolated(unsafe) let out = results
        runOnThreads(3) { t in
            var seed = UInt64(t + 1) &* 0x9E37_79B9_7F4A_7C15
            func next() -> Int {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
                return Int(seed % 512) + 1
            }
            var expectedBytes: UInt64 = 0
            if t < 2 { AllocCounter.start() }
            for _ in 0..<rounds {
                let a = next(), b = next()
                let p = malloc(a)!.assumingMemoryBound(to: UInt8.self)
                memset(p, Int32(t + 1), a)
                let q = realloc(p, b)!.assumingMemoryBound(to: UInt8.self)
                if q[0] != UInt8(t + 1) || q[min(a, b) - 1] != UInt8(t + 1) { corrupt.add(1, ordering: .relaxed) }
                free(q)
                expectedBytes += UInt64(a + b)
            }
            if t < 2 {
                let c = AllocCounter.stop()
                out[t] = c
                if c != AllocCounts(allocations: UInt64(2 * rounds), bytes: expectedBytes, frees: UInt64(2 * rounds)) {
                    corrupt.add(1_000_000, ordering: .relaxed)
                }
            }
        }
        #expect(corrupt.load(ordering: .relaxed) == 0, "\(results[0]) / \(results[1])")
        #expect(results[2] == AllocCounts())
    }
}

@Suite struct AllocInstrumentTests {
    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func kAllocationsPerOpReportK() {
        let sizes = [16, 48, 200]
        let b = Benchmark.simple("test/alloc/k=3") { w in
            for _ in 0..<w.n {
                let a = malloc(sizes[0]), c = malloc(sizes[1]), d = malloc(sizes[2])
                free(a); free(c); free(d)
            }
        }
        let r = measureAllocs(b, n: 1000)
        #expect(r.metric("allocs/op")?.value == 3)
        #expect(r.metric("allocs/op")?.exact == true)
        #expect(r.metric("B/op")?.value == Double(sizes.reduce(0, +)))
        #expect(r.metric("frees/op")?.value == 3)
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func nothingAllocatedReportsZero() {
        let b = Benchmark.simple("test/alloc/none") { w in
            var x = 0
            for i in 0..<w.n { x &+= i &* 7 }
            blackHole(x)
        }
        let r = measureAllocs(b, n: 10_000)
        #expect(r.metric("allocs/op")?.value == 0)
        #expect(r.metric("B/op")?.value == 0)
        #expect(r.metric("frees/op")?.value == 0)
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func setupAndTeardownAreNotCounted() {
        let b = Benchmark("test/alloc/setup") { run in
            let keep = malloc(1000)                       // setup: untimed
            run.teardown { free(keep); free(malloc(77)) }  // teardown: untimed
            return { w in for _ in 0..<w.n { free(malloc(8)) } }
        }
        let r = measureAllocs(b, n: 100)
        #expect(r.metric("allocs/op")?.value == 1)
        #expect(r.metric("B/op")?.value == 8)
    }

    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func stopTimerHidesAllocations() {
        let b = Benchmark.simple("test/alloc/paused") { w in
            for _ in 0..<w.n {
                w.stopTimer()
                free(malloc(500))      // hidden, as Go's b.StopTimer hides it
                w.startTimer()
                free(malloc(5))
            }
        }
        let r = measureAllocs(b, n: 50)
        #expect(r.metric("allocs/op")?.value == 1)
        #expect(r.metric("B/op")?.value == 5)
    }

    /// Two workers, each allocating on its own share: the per-op figure is
    /// the sum over workers divided by n, as Go's over all goroutines.
    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func twoWorkersSumTheirShares() {
        let b = Benchmark("test/alloc/threads=2", threads: 2) { _ in
            { w in for _ in 0..<w.n { free(calloc(2, 12)) } }
        }
        let r = measureAllocs(b, n: 10_001)
        #expect(r.metric("allocs/op")?.value == 1)
        #expect(r.metric("B/op")?.value == 24)
        #expect(r.metric("frees/op")?.value == 1)
    }

    @Test func offReportsNothingAndSaysSo() {
        let i = AllocInstrument(requested: false)
        #expect(!i.isCounting)
        #expect(i.contextLines.first?.key == "allocs")
        #expect(i.contextLines.first?.value.hasPrefix("off") == true)
        let r = Runner(instruments: [i]).runRepetition(Benchmark.simple("test/alloc/off") { w in
            for _ in 0..<w.n { free(malloc(8)) }
        }, n: 10, repetition: 0)
        #expect(r.metric("allocs/op") == nil)
    }

    @Test func metricsAreGoUnitsAndRoundTripThroughGoText() throws {
        let ms = AllocInstrument.metrics(AllocCounts(allocations: 30, bytes: 4800, frees: 29), n: 10)
        #expect(ms.map(\.unit) == ["allocs/op", "B/op", "frees/op"])
        #expect(ms.map(\.value) == [3, 480, 2.9])
        let results = [RepetitionResult(name: "x/y", threads: 1, repetition: 0, n: 10,
                                        metrics: [Metric(5, unit: "ns/op", kind: .time)] + ms)]
        let text = GoText.write(environment: RunEnvironment(), results: results)
        #expect(text.contains("Unit allocs/op better=lower assume=exact"))
        #expect(text.contains("\t480 B/op\t3 allocs/op") || text.contains("\t3 allocs/op\t480 B/op"))
        let back = try GoText.parse(text).results
        #expect(back.first?.metric("allocs/op")?.exact == true)
        #expect(back.first?.metric("B/op")?.value == 480)
        let csv = try CSV.parse(CSV.write(results))
        #expect(csv.first?.metric("allocs/op")?.exact == true)
        // Go's own -benchmem columns parse into the same units.
        let go = try GoText.parse("BenchmarkMap/access/hit/n=8-2 \t 1000000\t  5.1 ns/op\t       0 B/op\t       0 allocs/op\n", impl: "external")
        #expect(go.results.first?.metric("allocs/op")?.value == 0)
        #expect(go.results.first?.metric("B/op")?.value == 0)
    }
}

/// A body that starts a thread of its own, which allocates `blocks` blocks
/// of 48 bytes and frees them, announcing itself with the child hooks.
private func threadStartingBenchmark(_ name: String, startsThreads: Bool, blocks: Int) -> Benchmark {
    Benchmark(name, startsThreads: startsThreads) { _ in
        { _ in
            var tid = pthread_t()
            let box = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            box.initialize(to: blocks)
            let rc = pthread_create(&tid, nil, { raw in
                let k = raw!.assumingMemoryBound(to: Int.self).pointee
                AllocCounter.childThreadBegin()
                for _ in 0..<k { free(malloc(48)) }
                AllocCounter.childThreadEnd()
                return nil
            }, box)
            precondition(rc == 0)
            pthread_join(tid, nil)
            box.deallocate()
        }
    }
}

extension AllocInstrumentTests {
    /// What the threads a startsThreads body starts allocate is in its
    /// allocs/op (they are adopted); a body that does not say so has only
    /// its own thread counted. Other tests' threads may be adopted at the
    /// same time (a goroutine test's Ms call the hooks too), so the adopted
    /// count is a lower bound; the harness thread's own count is exact.
    @Test(.enabled(if: counting, "allocation counting unavailable in this build"))
    func threadsOfAStartsThreadsBodyAreCounted() throws {
        let n = 4, blocks = 500
        let adopted = measureAllocs(threadStartingBenchmark("test/alloc/adopted", startsThreads: true, blocks: blocks), n: n)
        let a = try #require(adopted.metric("allocs/op")).value
        let f = try #require(adopted.metric("frees/op")).value
        #expect(a >= Double(blocks) / Double(n), "\(a)")
        #expect(f >= Double(blocks) / Double(n), "\(f)")
        let own = measureAllocs(threadStartingBenchmark("test/alloc/own", startsThreads: false, blocks: blocks), n: n)
        let o = try #require(own.metric("allocs/op")).value
        // pthread_create's own bookkeeping on the harness thread is at most
        // a few blocks; the child's 500 are not there.
        #expect(o < Double(blocks) / Double(n) / 10, "\(o)")
    }
}

@Suite struct PeakMemoryTests {
    static let resettable = PeakMemoryInstrument().resetError == nil

    /// A repetition that touches 96 MiB shows it; the next one, after the
    /// reset, does not.
    @Test(.enabled(if: resettable, "/proc/self/clear_refs cannot reset VmHWM here"))
    func peakPerRepetitionIsReset() {
        let mib = 96
        let big = Benchmark.simple("test/peak/big") { w in
            // Above glibc's mmap threshold: its own mapping, returned on free.
            let p = malloc(mib << 20)!
            memset(p, 1, mib << 20)
            free(p)
        }
        let small = Benchmark.simple("test/peak/small") { _ in }
        let instrument = PeakMemoryInstrument()
        let runner = Runner(instruments: [instrument])
        let a = runner.runRepetition(big, n: 1, repetition: 0).metric("peak-rss-MiB")?.value ?? 0
        let b = runner.runRepetition(small, n: 1, repetition: 0).metric("peak-rss-MiB")?.value ?? 0
        #expect(a > 0 && b > 0)
        // Other tests run in parallel and allocate, so leave some slack.
        #expect(a - b > Double(mib) * 0.7, "big \(a) MiB, small \(b) MiB")
        let r1 = runner.runRepetition(big, n: 1, repetition: 1), r2 = runner.runRepetition(small, n: 1, repetition: 1)
        let grew = r1.metric("peak-rss-growth-MiB")?.value ?? 0, flat = r2.metric("peak-rss-growth-MiB")?.value ?? -1
        #expect(grew > Double(mib) * 0.9 && grew < Double(mib) * 1.5, "\(grew)")
        #expect(flat >= 0 && flat < Double(mib) * 0.3, "\(flat)")
        let run = instrument.closingContextLines.first { $0.key == "peak-rss" }?.value ?? ""
        let runPeak = Double(run.split(separator: " ").first ?? "") ?? 0
        #expect(runPeak >= a - 0.1, "\(run)")  // printed to 0.1 MiB
    }

    @Test func readsStatusFields() {
        let hwm = ProcessMemory.highWaterKB(), rss = ProcessMemory.residentKB()
        #expect(hwm != nil && rss != nil)
        #expect((hwm ?? 0) >= (rss ?? 0) / 2)
    }
}

@Suite struct AllocVerdictTests {
    func reps(_ name: String, _ values: [Double], unit: String, exact: Bool) -> [RepetitionResult] {
        values.enumerated().map {
            RepetitionResult(name: name, threads: 1, repetition: $0.offset, n: 100,
                             metrics: [Metric($0.element, unit: unit, kind: exact ? .exact : .count)])
        }
    }

    /// One whole allocation more per op is a regression even when it is
    /// under the percent threshold (20 -> 21 is +5%, threshold 10%).
    @Test func oneMoreAllocationPerOpIsARegression() throws {
        let c = try Comparer.compare(base: reps("m", [20, 20, 20], unit: "allocs/op", exact: true),
                                     new: reps("m", [21, 21, 21], unit: "allocs/op", exact: true),
                                     policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 10)))
        #expect(c.rows.first?.verdict == .regression)
        let fewer = try Comparer.compare(base: reps("m", [21, 21, 21], unit: "allocs/op", exact: true),
                                         new: reps("m", [20, 20, 20], unit: "allocs/op", exact: true),
                                         policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 10)))
        #expect(fewer.rows.first?.verdict == .improvement)
        // A fraction of an allocation (a per-thread first use amortized
        // over n) is not one.
        let frac = try Comparer.compare(base: reps("m", [0.0001, 0.0001, 0.0001], unit: "allocs/op", exact: true),
                                        new: reps("m", [0.0004, 0.0004, 0.0004], unit: "allocs/op", exact: true),
                                        policy: VerdictPolicy(thresholds: Thresholds(defaultPercent: 10)))
        #expect(frac.rows.first?.verdict == .unchanged)
    }
}

