// Shared helpers for the Go reference benchmarks. Package gobench mirrors
// gobench's own benchmarks name for name: our `chan/buffered/cap=64` is
// `BenchmarkChan/buffered/cap=64` here.
package gobench

import (
	"strconv"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureParallelism runs body and reports the process CPU time over the
// wall time as "parallelism", like gobench does for its multi-threaded
// benchmarks: on a 2-vCPU VM two busy goroutines get 1x to 2x.
func measureParallelism(b *testing.B, body func()) {
	c0, t0 := cpuTime(), time.Now()
	body()
	wall := time.Since(t0)
	if wall > 0 {
		b.ReportMetric(float64(cpuTime()-c0)/float64(wall), "parallelism")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// runWithAllocs is b.Run with b.ReportAllocs() in the sub-benchmark, so
// every row carries B/op and allocs/op, as gobench's rows do, even without
// -benchmem (testing.B's sub-benchmarks do not inherit ReportAllocs).
func runWithAllocs(b *testing.B, name string, f func(b *testing.B)) bool {
	return b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		f(b)
	})
}
