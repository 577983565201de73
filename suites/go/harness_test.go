package gobench

import (
	"sync/atomic"
	"testing"
	_ "unsafe" // for go:linkname
)

// procyield is the runtime's spin primitive (runtime/asm_amd64.s): cycles
// PAUSE instructions. Reached through linkname, as sync does.
//
//go:linkname procyield runtime.procyield
func procyield(cycles uint32)

func BenchmarkHarness(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "empty", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
		}
	})
}

func BenchmarkSpin(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "procyield/n=30", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			procyield(30)
		}
	})
}

func casIncrement(v *int64, n int) (failures int64) {
	for i := 0; i < n; i++ {
		for {
			old := atomic.LoadInt64(v)
			if atomic.CompareAndSwapInt64(v, old, old+1) {
				break
			}
			failures++
		}
	}
	return
}

func BenchmarkAtomic(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "cas/uncontended", func(b *testing.B) {
		var v int64
		casIncrement(&v, b.N)
	})
	runWithAllocs(b, "cas/contended/threads=2", func(b *testing.B) {
		var v, failures int64
		done := make(chan int64)
		measureParallelism(b, func() {
			for w := 0; w < 2; w++ {
				n := b.N / 2
				if w == 0 {
					n += b.N % 2
				}
				go func(n int) { done <- casIncrement(&v, n) }(n)
			}
			failures = <-done + <-done
		})
		if v != int64(b.N) {
			b.Fatalf("lost increments: %d of %d", v, b.N)
		}
		b.ReportMetric(float64(failures)/float64(b.N), "retries/op")
	})
}
