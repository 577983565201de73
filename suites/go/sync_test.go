// Go 1.19 reference for gobench's sync benchmarks
// (Sources/GoBenchSuites/SyncBenchmarks.swift). Sub-benchmark names mirror
// ours: gobench's mutex/contended/threads=2 is BenchmarkMutex/contended/threads=2.
// Workers are goroutines that split b.N and start together, as gobench's
// worker threads do.
//
//	cd suites/go && go test -run '^$' -bench . -benchmem -count 5
package gobench

import (
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// guarded is a word protected by a sync.Mutex.
type guarded struct {
	mu   sync.Mutex
	word uint64
}

// criticalWorkSteps xorshift64 steps: ~100 ns inside the lock.
const criticalWorkSteps = 40

//go:noinline
func criticalWork(x uint64) uint64 {
	for i := 0; i < criticalWorkSteps; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// runWorkers runs body(index, n) on `threads` goroutines that split b.N and
// are released together.
func runWorkers(b *testing.B, threads int, body func(index, n int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(threads)
	done.Add(threads)
	for i := 0; i < threads; i++ {
		n := b.N / threads
		if i < b.N%threads {
			n++
		}
		go func(i, n int) {
			defer done.Done()
			ready.Done()
			<-start
			body(i, n)
		}(i, n)
	}
	ready.Wait()
	cpu0 := processCPUNanos()
	b.ResetTimer()
	close(start)
	done.Wait()
	b.StopTimer()
	b.ReportMetric(float64(processCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPUNanos is the process's user+system CPU time: gobench reports
// cpu-ns/op (worker threads' CPU time per op) too, and on a loaded 2-vCPU
// VM it is the fairer comparison than wall time.
func processCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func busyFor(d time.Duration) {
	start := time.Now()
	for time.Since(start) < d {
	}
}

const (
	starvationHold  = 20 * time.Microsecond
	starvationThink = 20 * time.Microsecond
	starvationHogCap = 250 * time.Millisecond
)

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i])
}

func BenchmarkMutex(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "uncontended", func(b *testing.B) {
		g := &guarded{word: 1}
		runWorkers(b, 1, func(_, n int) {
			for i := 0; i < n; i++ {
				g.mu.Lock()
				g.word++
				g.mu.Unlock()
			}
		})
	})
	for _, threads := range []int{2, 4} {
		threads := threads
		runWithAllocs(b, "contended/threads="+itoa(threads), func(b *testing.B) {
			g := &guarded{word: 1}
			runWorkers(b, threads, func(_, n int) {
				for i := 0; i < n; i++ {
					g.mu.Lock()
					g.word++
					g.mu.Unlock()
				}
			})
			if g.word != uint64(b.N)+1 {
				b.Fatal("lost an increment")
			}
		})
	}
	runWithAllocs(b, "contended-work/threads=2", func(b *testing.B) {
		g := &guarded{word: 1}
		runWorkers(b, 2, func(_, n int) {
			for i := 0; i < n; i++ {
				g.mu.Lock()
				g.word = criticalWork(g.word)
				g.mu.Unlock()
			}
		})
	})
	// Go cannot switch starvation mode off: only mode=on has a reference.
	// One op is one acquisition by the victim, which sleeps between
	// attempts; the hog holds 20 us and re-locks at once, until the victim
	// is done or 250 ms have passed (as in gobench's version).
	runWithAllocs(b, "starvation/mode=on", func(b *testing.B) {
		g := &guarded{word: 1}
		waits := make([]int64, 0, b.N)
		var victimDone atomic.Bool
		var wg sync.WaitGroup
		wg.Add(2)
		cpu0 := processCPUNanos()
		b.ResetTimer()
		go func() {
			defer wg.Done()
			stop := time.Now().Add(starvationHogCap)
			for !victimDone.Load() && time.Now().Before(stop) {
				g.mu.Lock()
				busyFor(starvationHold)
				g.mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < b.N; i++ {
				time.Sleep(starvationThink)
				t0 := time.Now()
				g.mu.Lock()
				g.word++
				g.mu.Unlock()
				waits = append(waits, int64(time.Since(t0)))
			}
			victimDone.Store(true)
		}()
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(float64(processCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
		sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
		b.ReportMetric(percentile(waits, 50), "p50-wait-ns")
		b.ReportMetric(percentile(waits, 99), "p99-wait-ns")
		b.ReportMetric(percentile(waits, 99.9), "p999-wait-ns")
		b.ReportMetric(percentile(waits, 100), "max-wait-ns")
	})
	benchmarkMutexGoroutine(b) // goroutine_test.go
}

// BenchmarkRwmutex's read-mostly/threads=2 runs its two workers as
// goroutines (runWorkers), which Go's scheduler mostly runs one at a time
// (a reader blocked on a pending writer is readied into the writer's
// runnext): its parallelism (cpu-ns/op over ns/op) is about 1.1, where
// gobench's two OS threads reach 1.5 and block on each other's semaphore
// waits. goroutine/read-mostly/procs=2 is the twin of gobench's
// goroutine-mode row.
// readMostly is one worker of the read-mostly rows: n sections, every
// 100th a write (increment the word), the others reads; the sum read.
func readMostly(rw *sync.RWMutex, word *uint64, n int) uint64 {
	var sum uint64
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			rw.Lock()
			*word++
			rw.Unlock()
		} else {
			rw.RLock()
			sum += *word
			rw.RUnlock()
		}
	}
	return sum
}

func BenchmarkRwmutex(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "read-mostly/threads=2", func(b *testing.B) {
		var rw sync.RWMutex
		word := uint64(1)
		var sink uint64
		var sinkMu sync.Mutex
		runWorkers(b, 2, func(_, n int) {
			sum := readMostly(&rw, &word, n)
			sinkMu.Lock()
			sink += sum
			sinkMu.Unlock()
		})
		_ = sink
	})
	benchmarkRWMutexGoroutine(b) // goroutine_test.go
}

