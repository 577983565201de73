// Go 1.19 reference for gobench's map benchmarks (Sources/GoBenchSuites/
// MapBenchmarks.swift): the same shapes, name for name. Our
// `map/access/hit/n=1k` is `BenchmarkMap/access/hit/n=1k` here.
//
//   assign/sized/n=N  insert keys 0..N-1 into make(map, N); per element,
//                     the make amortised; a new map every N elements
//   assign/grow/n=N   the same into make(map) (growth included)
//   access/hit/n=N    m[k] for keys 0..N-1 in turn, all present
//   access/miss/n=N   m[k] for keys N..2N-1, none present
//   delete/n=N        delete(m, i) on a map refilled (untimed) with N keys
//                     whenever it empties (runtime's benchmarkMapDeleteInt32)
//   iterate/n=N       range over a map of N entries; per element
//   string16/...      16-byte string keys ("key-%012d"), N = 100k
//
// Maps that a benchmark only reads are built once and cached.
package gobench

import (
	"fmt"
	"testing"
)

var mapSink int64

var mapSizes = []struct {
	label string
	n     int
}{{"8", 8}, {"1k", 1000}, {"100k", 100_000}, {"1M", 1_000_000}}

var cachedInt64Maps = map[int]map[int64]int64{}

func cachedInt64Map(n int) map[int64]int64 {
	if m, ok := cachedInt64Maps[n]; ok {
		return m
	}
	m := make(map[int64]int64)
	for j := 0; j < n; j++ {
		m[int64(j)] = int64(j)
	}
	cachedInt64Maps[n] = m
	return m
}

var string16Keys, string16Missing []string
var string16Map map[string]int64

func string16Setup(n int) {
	if len(string16Keys) == n {
		return
	}
	string16Keys = make([]string, n)
	string16Missing = make([]string, n)
	string16Map = make(map[string]int64)
	for j := 0; j < n; j++ {
		string16Keys[j] = fmt.Sprintf("key-%012d", j)
		string16Missing[j] = fmt.Sprintf("mis-%012d", j)
		string16Map[string16Keys[j]] = int64(j)
	}
}

func BenchmarkMap(b *testing.B) {
	b.ReportAllocs()
	for _, s := range mapSizes {
		n := s.n
		runWithAllocs(b, "assign/sized/n="+s.label, func(b *testing.B) {
			for done := 0; done < b.N; {
				m := make(map[int64]int64, n)
				for j := 0; j < n && done < b.N; j++ {
					m[int64(j)] = int64(j)
					done++
				}
			}
		})
	}
	for _, s := range mapSizes {
		n := s.n
		runWithAllocs(b, "assign/grow/n="+s.label, func(b *testing.B) {
			for done := 0; done < b.N; {
				m := make(map[int64]int64)
				for j := 0; j < n && done < b.N; j++ {
					m[int64(j)] = int64(j)
					done++
				}
			}
		})
	}
	for _, s := range mapSizes {
		n := s.n
		runWithAllocs(b, "access/hit/n="+s.label, func(b *testing.B) {
			m := cachedInt64Map(n)
			b.ResetTimer()
			var sum int64
			j := 0
			for i := 0; i < b.N; i++ {
				sum += m[int64(j)]
				j++
				if j == n {
					j = 0
				}
			}
			mapSink = sum
		})
	}
	for _, s := range mapSizes {
		n := s.n
		runWithAllocs(b, "access/miss/n="+s.label, func(b *testing.B) {
			m := cachedInt64Map(n)
			b.ResetTimer()
			var sum int64
			j := 0
			for i := 0; i < b.N; i++ {
				sum += m[int64(j+n)]
				j++
				if j == n {
					j = 0
				}
			}
			mapSink = sum
		})
	}
	for _, s := range mapSizes[1:] {
		n := s.n
		runWithAllocs(b, "delete/n="+s.label, func(b *testing.B) {
			m := make(map[int64]int64, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if len(m) == 0 {
					b.StopTimer()
					for j := i; j < i+n; j++ {
						m[int64(j)] = int64(j)
					}
					b.StartTimer()
				}
				delete(m, int64(i))
			}
		})
	}
	for _, s := range mapSizes {
		n := s.n
		runWithAllocs(b, "iterate/n="+s.label, func(b *testing.B) {
			m := cachedInt64Map(n)
			b.ResetTimer()
			var sum int64
			for i := 0; i < b.N; {
				for k, v := range m {
					sum += k + v
					i++
					if i >= b.N {
						break
					}
				}
			}
			mapSink = sum
		})
	}
	const sn = 100_000
	runWithAllocs(b, "string16/assign/n=100k", func(b *testing.B) {
		string16Setup(sn)
		keys := string16Keys
		b.ResetTimer()
		for done := 0; done < b.N; {
			m := make(map[string]int64)
			for j := 0; j < sn && done < b.N; j++ {
				m[keys[j]] = int64(j)
				done++
			}
		}
	})
	runWithAllocs(b, "string16/hit/n=100k", func(b *testing.B) {
		string16Setup(sn)
		m, keys := string16Map, string16Keys
		b.ResetTimer()
		var sum int64
		j := 0
		for i := 0; i < b.N; i++ {
			sum += m[keys[j]]
			j++
			if j == sn {
				j = 0
			}
		}
		mapSink = sum
	})
	runWithAllocs(b, "string16/miss/n=100k", func(b *testing.B) {
		string16Setup(sn)
		m, keys := string16Map, string16Missing
		b.ResetTimer()
		var sum int64
		j := 0
		for i := 0; i < b.N; i++ {
			sum += m[keys[j]]
			j++
			if j == sn {
				j = 0
			}
		}
		mapSink = sum
	})
}
