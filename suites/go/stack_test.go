// Go 1.19 reference for gobench's stack benchmarks (Sources/GoBenchSuites/
// StackBenchmarks.swift): the same recursion with 64-byte frames (return
// address, saved BP, 32 bytes of locals, 16 bytes of argument spill space:
// checked by TestStackFrameIs64Bytes), run by real goroutines on real
// contiguous stacks.
//
//	cd suites/go && go test -run 'Stack' -bench 'Stack' -benchmem -count 5
package gobench

import (
	"fmt"
	"testing"
	"unsafe"
)

var stackFrameAddrs [3]uintptr

// recurse64 recurses n levels; each frame writes values, passes a pointer to
// its own value to its callee, reads its caller's value through the pointer
// it got, and checks its own value after the callee returns.
//
//go:noinline
func recurse64(n int, parent *uint64) uint64 {
	var v [4]uint64
	v[0] = uint64(n)*0x9E3779B97F4A7C15 ^ *parent
	v[1] = v[0] >> 7
	if n < len(stackFrameAddrs) {
		stackFrameAddrs[n] = uintptr(unsafe.Pointer(&v[0]))
	}
	if n == 0 {
		return v[0] + v[1]
	}
	r := recurse64(n-1, &v[0])
	if v[1] != v[0]>>7 {
		panic("stack value lost")
	}
	return r*31 + v[0] + v[1]
}

// leaf64 is a 64-byte frame that calls nothing (the hot-split loop body),
// with the model's arguments and result (RecursionDriver.callLoop: 24 bytes
// of k, x and the result): v := k ^ x; q := &v; return *q.
//
//go:noinline
func leaf64(k int, x uint64) uint64 {
	var v [4]uint64
	v[0] = uint64(k) ^ x
	q := &v[0]
	if n := len(stackFrameAddrs); k < 0 {
		stackFrameAddrs[n-1] = uintptr(unsafe.Pointer(q))
	}
	return *q + v[1]
}

// descendThenLoop recurses n levels, then calls leaf64 iters times,
// checking every result.
//
//go:noinline
func descendThenLoop(n, iters int, parent *uint64) uint64 {
	var v [4]uint64
	v[0] = uint64(n) ^ *parent
	if n == 0 {
		var s uint64
		x := v[0]
		for i := 0; i < iters; i++ {
			r := leaf64(i, x)
			if r != uint64(i)^x {
				panic("leaf64 returned a wrong result")
			}
			s += r
		}
		return s
	}
	return descendThenLoop(n-1, iters, &v[0]) + v[0]
}

var stackSink uint64

func TestStackFrameIs64Bytes(t *testing.T) {
	var x uint64
	recurse64(10, &x)
	if d := stackFrameAddrs[1] - stackFrameAddrs[0]; d != 64 {
		t.Fatalf("recurse64 frame is %d bytes, want 64", d)
	}
}

func BenchmarkStack(b *testing.B) {
	b.ReportAllocs()
	for _, depth := range []int{10, 100, 1000, 10000} {
		// A fresh goroutine per op: its 2 KiB stack grows to fit depth frames.
		runWithAllocs(b, fmt.Sprintf("grow/depth=%d", depth), func(b *testing.B) {
			done := make(chan uint64)
			for i := 0; i < b.N; i++ {
				go func() {
					var x uint64 = 1
					done <- recurse64(depth, &x)
				}()
				stackSink += <-done
			}
		})
	}
	for _, depth := range []int{10, 100, 1000, 10000} {
		// One goroutine, already grown by the first iteration.
		runWithAllocs(b, fmt.Sprintf("grown/depth=%d", depth), func(b *testing.B) {
			done := make(chan uint64)
			go func() {
				var x uint64 = 1
				s := recurse64(depth, &x)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s += recurse64(depth, &x)
				}
				b.StopTimer()
				done <- s
			}()
			stackSink += <-done
		})
	}
	// A call loop on a fresh goroutine 16 frames deep, near the end of its
	// 2 KiB stack: the first call grows it, the rest run on the grown stack.
	// (Go 1.19 has only contiguous stacks; segmented has no counterpart.)
	runWithAllocs(b, "hotsplit/mode=contiguous", func(b *testing.B) {
		done := make(chan uint64)
		go func() {
			var x uint64 = 1
			done <- descendThenLoop(16, b.N, &x)
		}()
		stackSink += <-done
	})
}
