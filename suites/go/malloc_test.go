// Go 1.19 reference for gobench's malloc/ benchmarks (Sources/GoBenchSuites/
// MallocBenchmarks.swift): the same batches of mallocBatch allocations,
// kept alive until the batch is overwritten, and freed by the collector
// instead of an explicit free. ns/op therefore includes Go's GC share.
//
// Name mapping: our malloc/size=N is BenchmarkMalloc/size=N (a pointerful
// N-byte object, [N/8]*byte, the scan span class as on our side);
// malloc/tiny/size=N is BenchmarkMalloc/tiny/size=N ([N]byte: noscan, tiny
// allocator); malloc/threads=2 is BenchmarkMalloc/threads=2 (two goroutines,
// 64-byte pointerful objects). BenchmarkMalloc/noscan/size=N is the noscan
// ([N]byte) cost of the same sizes, twin of our malloc/noscan/size=N.
//
// Run: cd suites/go && go test -run '^$' -bench Malloc -benchmem -count 5
package gobench

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"
)

const mallocBatch = 100

var mallocSizes = []int{8, 16, 32, 64, 128, 512, 1024, 4096, 32768, 65536}

// newScan allocates a pointerful object of n bytes.
func newScan(n int) unsafe.Pointer {
	switch n {
	case 8:
		return unsafe.Pointer(new([1]*byte))
	case 16:
		return unsafe.Pointer(new([2]*byte))
	case 32:
		return unsafe.Pointer(new([4]*byte))
	case 64:
		return unsafe.Pointer(new([8]*byte))
	case 128:
		return unsafe.Pointer(new([16]*byte))
	case 512:
		return unsafe.Pointer(new([64]*byte))
	case 1024:
		return unsafe.Pointer(new([128]*byte))
	case 4096:
		return unsafe.Pointer(new([512]*byte))
	case 32768:
		return unsafe.Pointer(new([4096]*byte))
	case 65536:
		return unsafe.Pointer(new([8192]*byte))
	}
	panic("size")
}

// newNoscan allocates a pointer-free object of n bytes.
func newNoscan(n int) unsafe.Pointer {
	switch n {
	case 4:
		return unsafe.Pointer(new([4]byte))
	case 8:
		return unsafe.Pointer(new([8]byte))
	case 16:
		return unsafe.Pointer(new([16]byte))
	case 32:
		return unsafe.Pointer(new([32]byte))
	case 64:
		return unsafe.Pointer(new([64]byte))
	case 128:
		return unsafe.Pointer(new([128]byte))
	case 512:
		return unsafe.Pointer(new([512]byte))
	case 1024:
		return unsafe.Pointer(new([1024]byte))
	case 4096:
		return unsafe.Pointer(new([4096]byte))
	case 32768:
		return unsafe.Pointer(new([32768]byte))
	case 65536:
		return unsafe.Pointer(new([65536]byte))
	}
	panic("size")
}

func mallocLoop(n int, batch *[mallocBatch]unsafe.Pointer, alloc func() unsafe.Pointer) {
	for done := 0; done < n; {
		k := mallocBatch
		if n-done < k {
			k = n - done
		}
		for j := 0; j < k; j++ {
			batch[j] = alloc()
		}
		done += k
	}
}

func BenchmarkMalloc(b *testing.B) {
	b.ReportAllocs()
	for _, size := range mallocSizes {
		size := size
		runWithAllocs(b, fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var batch [mallocBatch]unsafe.Pointer
			mallocLoop(b.N, &batch, func() unsafe.Pointer { return newScan(size) })
		})
	}
	for _, size := range []int{4, 8} {
		size := size
		runWithAllocs(b, fmt.Sprintf("tiny/size=%d", size), func(b *testing.B) {
			var batch [mallocBatch]unsafe.Pointer
			mallocLoop(b.N, &batch, func() unsafe.Pointer { return newNoscan(size) })
		})
	}
	runWithAllocs(b, "noscan", mallocNoscan)
	runWithAllocs(b, "threads=2", func(b *testing.B) {
		var wg sync.WaitGroup
		for t := 0; t < 2; t++ {
			n := b.N / 2
			if t == 0 {
				n += b.N % 2
			}
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				var batch [mallocBatch]unsafe.Pointer
				mallocLoop(n, &batch, func() unsafe.Pointer { return newScan(64) })
			}(n)
		}
		wg.Wait()
	})
}

// mallocNoscan runs as BenchmarkMalloc/noscan/size=N.
func mallocNoscan(b *testing.B) {
	for _, size := range mallocSizes {
		size := size
		runWithAllocs(b, fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var batch [mallocBatch]unsafe.Pointer
			mallocLoop(b.N, &batch, func() unsafe.Pointer { return newNoscan(size) })
		})
	}
}
