// Go 1.19 reference for gobench's chan/* benchmarks (Sources/GoBenchSuites/
// ChanBenchmarks.swift): same shapes, same names (chan/pingpong is
// BenchmarkChan/pingpong). Run:
//
//	cd suites/go && go test -run '^$' -bench '^BenchmarkChan' -benchmem -count 5
package gobench

import (
	"sync"
	"testing"
)

var chanSink int

func BenchmarkChan(b *testing.B) {
	b.ReportAllocs()
	runWithAllocs(b, "pingpong", func(b *testing.B) {
		c1, c2 := make(chan int), make(chan int)
		done := make(chan struct{})
		go func() {
			for i := 0; i < b.N; i++ {
				v := <-c1
				c2 <- v
			}
			close(done)
		}()
		for i := 0; i < b.N; i++ {
			c1 <- i
			chanSink = <-c2
		}
		<-done
	})
	for _, cap := range []int{1, 64, 1024} {
		cap := cap
		runWithAllocs(b, "buffered/cap="+itoa(cap), func(b *testing.B) {
			c := make(chan int, cap)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < b.N; i++ {
					c <- i
				}
			}()
			s := 0
			for i := 0; i < b.N; i++ {
				s += <-c
			}
			wg.Wait()
			chanSink = s
		})
	}
	runWithAllocs(b, "same-thread/cap=1", func(b *testing.B) {
		c := make(chan int, 1)
		s := 0
		for i := 0; i < b.N; i++ {
			c <- i
			s += <-c
		}
		chanSink = s
	})
	runWithAllocs(b, "select/two-ready", func(b *testing.B) {
		a, c := make(chan int, 1), make(chan int, 1)
		a <- 0
		c <- 1
		for i := 0; i < b.N; i++ {
			select {
			case v := <-a:
				a <- v
			case v := <-c:
				c <- v
			}
		}
	})
	runWithAllocs(b, "select/nonblocking-empty", func(b *testing.B) {
		c := make(chan int)
		d := 0
		for i := 0; i < b.N; i++ {
			select {
			case v := <-c:
				chanSink = v
			default:
				d++
			}
		}
		chanSink = d
	})
	runWithAllocs(b, "recv-closed", func(b *testing.B) {
		c := make(chan int)
		close(c)
		s := 0
		for i := 0; i < b.N; i++ {
			s += <-c
		}
		chanSink = s
	})
	runWithAllocs(b, "make-close-recv", func(b *testing.B) {
		s := 0
		for i := 0; i < b.N; i++ {
			c := make(chan int)
			close(c)
			s += <-c
		}
		chanSink = s
	})
	benchmarkChanGoroutine(b) // goroutine_test.go
}

