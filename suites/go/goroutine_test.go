// Go 1.19 reference for gobench's goroutine benchmarks (Sources/GoBenchSuites/
// GoroutineBenchmarks.swift): the same shapes with real goroutines, the
// same names (goroutine/spawn is BenchmarkGoroutine/spawn; the chan/goroutine/*
// and mutex/goroutine/* ones are sub-benchmarks of BenchmarkChan and
// BenchmarkMutex, which call the functions below). procs=N sets GOMAXPROCS
// for the benchmark; without it GOMAXPROCS stays the default (the CPUs).
//
//	cd suites/go && go test -run '^$' -bench '^Benchmark(Goroutine|Waitgroup|Sched)' -count 5
package gobench

import (
	"runtime"
	"sync"
	"testing"
)

// withProcs runs f with GOMAXPROCS = procs, then restores it.
func withProcs(procs int, f func()) {
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	f()
}

// runGoroutines is runWithAllocs plus cpu-ns/op: the process's CPU time
// per op over the sub-benchmark's body, every M included, as gobench
// charges its goroutine rows the whole process's CPU time.
func runGoroutines(b *testing.B, name string, f func(b *testing.B)) bool {
	return runWithAllocs(b, name, func(b *testing.B) {
		cpu0 := processCPUNanos()
		f(b)
		b.ReportMetric(float64(processCPUNanos()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

var goroutineSink uint64

const spawnBatch = 1024

func BenchmarkGoroutine(b *testing.B) {
	// At most spawnBatch goroutines alive at once, as in gobench's twin
	// (whose goroutines have fixed 64 KiB mmap'd stacks: b.N live ones
	// would exhaust the process's mappings).
	runGoroutines(b, "spawn", func(b *testing.B) {
		var wg sync.WaitGroup
		for i := 0; i < b.N; i += spawnBatch {
			k := b.N - i
			if k > spawnBatch {
				k = spawnBatch
			}
			wg.Add(k)
			for j := 0; j < k; j++ {
				go func() { wg.Done() }()
			}
			wg.Wait()
		}
	})
	runGoroutines(b, "yield/procs=1", func(b *testing.B) {
		withProcs(1, func() {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				for i := 0; i < b.N; i++ {
					runtime.Gosched()
				}
				wg.Done()
			}()
			for i := 0; i < b.N; i++ {
				runtime.Gosched()
			}
			wg.Wait()
		})
	})
}

func benchmarkChanGoroutine(b *testing.B) {
	for _, procs := range []int{1, 2} {
		procs := procs
		runGoroutines(b, "goroutine/pingpong/procs="+itoa(procs), func(b *testing.B) {
			withProcs(procs, func() {
				c1, c2 := make(chan int), make(chan int)
				done := make(chan struct{})
				go func() {
					for i := 0; i < b.N; i++ {
						v := <-c1
						c2 <- v
					}
					close(done)
				}()
				s := 0
				for i := 0; i < b.N; i++ {
					c1 <- i
					s += <-c2
				}
				<-done
				chanSink = s
			})
		})
	}
	for _, cap := range []int{1, 64} {
		cap := cap
		runGoroutines(b, "goroutine/buffered/cap="+itoa(cap)+"/procs=2", func(b *testing.B) {
			withProcs(2, func() {
				c := make(chan int, cap)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					for i := 0; i < b.N; i++ {
						c <- i
					}
					wg.Done()
				}()
				s := 0
				for i := 0; i < b.N; i++ {
					s += <-c
				}
				wg.Wait()
				chanSink = s
			})
		})
	}
	runGoroutines(b, "goroutine/fan-in/producers=8/procs=2", func(b *testing.B) {
		withProcs(2, func() {
			c := make(chan int)
			const producers = 8
			for p := 0; p < producers; p++ {
				share := b.N / producers
				if p < b.N%producers {
					share++
				}
				go func() {
					for i := 0; i < share; i++ {
						c <- i
					}
				}()
			}
			s := 0
			for i := 0; i < b.N; i++ {
				s += <-c
			}
			chanSink = s
		})
	})
}

func benchmarkMutexGoroutine(b *testing.B) {
	runGoroutines(b, "goroutine/contended/goroutines=100/procs=2", func(b *testing.B) {
		withProcs(2, func() {
			var mu sync.Mutex
			var word uint64
			var wg sync.WaitGroup
			const gs = 100
			for k := 0; k < gs; k++ {
				share := b.N / gs
				if k < b.N%gs {
					share++
				}
				wg.Add(1)
				go func() {
					for i := 0; i < share; i++ {
						mu.Lock()
						word++
						mu.Unlock()
					}
					wg.Done()
				}()
			}
			wg.Wait()
			if word != uint64(b.N) {
				b.Fatal("lost an increment")
			}
		})
	})
}

// benchmarkRWMutexGoroutine is read-mostly/threads=2 (whose two workers
// are goroutines here too) at GOMAXPROCS 2, as gobench's goroutine-mode
// twin runs it.
func benchmarkRWMutexGoroutine(b *testing.B) {
	runGoroutines(b, "goroutine/read-mostly/procs=2", func(b *testing.B) {
		withProcs(2, func() {
			var rw sync.RWMutex
			word := uint64(1)
			var sums [2]uint64
			var wg sync.WaitGroup
			for k := 0; k < 2; k++ {
				k := k
				share := b.N / 2
				if k < b.N%2 {
					share++
				}
				wg.Add(1)
				go func() {
					sums[k] = readMostly(&rw, &word, share) // sync_test.go
					wg.Done()
				}()
			}
			wg.Wait()
			goroutineSink += sums[0] + sums[1]
		})
	})
}

func BenchmarkWaitgroup(b *testing.B) {
	runGoroutines(b, "goroutine", func(b *testing.B) {
		var wg sync.WaitGroup
		for i := 0; i < b.N; i++ {
			wg.Add(1)
			go func() { wg.Done() }()
			wg.Wait()
		}
	})
}

//go:noinline
func stealWork(seed uint64) uint64 {
	v := seed | 1
	for i := 0; i < 100; i++ {
		v ^= v << 13
		v ^= v >> 7
		v ^= v << 17
	}
	return v
}

func BenchmarkSched(b *testing.B) {
	runGoroutines(b, "steal", func(b *testing.B) {
		withProcs(2, func() {
			var wg sync.WaitGroup
			var out [1000]uint64
			for n := 0; n < b.N; n++ {
				wg.Add(1000)
				for i := 0; i < 1000; i++ {
					i := i
					go func() {
						out[i] = stealWork(uint64(i))
						wg.Done()
					}()
				}
				wg.Wait()
				goroutineSink += out[999]
			}
		})
	})
}
