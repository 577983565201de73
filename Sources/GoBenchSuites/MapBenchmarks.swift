// Map benchmarks: GoRuntime's HashMap (the Go 1.19 bucket map port) in the
// shapes Go users measure, each beside Swift's Dictionary on the same keys
// (`dict/...`, same suffix). Go twins: suites/go/map_test.go
// (BenchmarkMap/...), which documents each shape.
//
// Maps that a benchmark only reads (access, iterate, string16 hit/miss) are
// built once per process and cached here: prepare runs before every
// calibration step and repetition, and a 1M-entry build costs ~100 ms.
//
// Metrics (per op, lower is better):
//   evacuated/op  old buckets evacuated by growth (assign)
//   overflow/op   overflow buckets taken (assign)
//   probes/op     slots examined per lookup, averaged over the keys the
//                 benchmark looks up (access; computed on the cached map)

import GoBenchKit
import GoRuntime
import Synchronization

private let mapSizes: [(label: String, n: Int)] = [("8", 8), ("1k", 1000), ("100k", 100_000), ("1M", 1_000_000)]
private let string16N = 100_000

/// One cached read-only fixture.
private final class MapFixture: @unchecked Sendable {
    let map: HashMap<Int64, Int64>
    let dict: [Int64: Int64]
    let hitProbes: Double
    let missProbes: Double
    init(n: Int) {
        let m = HashMap<Int64, Int64>()
        var d: [Int64: Int64] = [:]
        for j in 0..<n { m[Int64(j)] = Int64(j); d[Int64(j)] = Int64(j) }
        map = m
        dict = d
        let sample = Swift.min(n, 20_000)
        let step = Swift.max(1, n / sample)
        hitProbes = m.averageProbeLength(stride(from: 0, to: n, by: step).map { Int64($0) })
        missProbes = m.averageProbeLength(stride(from: 0, to: n, by: step).map { Int64($0 + n) })
    }
}

private final class String16Fixture: @unchecked Sendable {
    let keys: [String]
    let missing: [String]
    let map: HashMap<String, Int64>
    let dict: [String: Int64]
    let hitProbes: Double
    let missProbes: Double
    init(n: Int) {
        func key(_ prefix: String, _ j: Int) -> String {
            let digits = String(j)
            return prefix + String(repeating: "0", count: 12 - digits.count) + digits
        }
        keys = (0..<n).map { key("key-", $0) }
        missing = (0..<n).map { key("mis-", $0) }
        let m = HashMap<String, Int64>()
        var d: [String: Int64] = [:]
        for (j, k) in keys.enumerated() { m[k] = Int64(j); d[k] = Int64(j) }
        map = m
        dict = d
        hitProbes = m.averageProbeLength(keys.prefix(20_000))
        missProbes = m.averageProbeLength(missing.prefix(20_000))
    }
}

/// Process-wide cache of fixtures (prepare runs on the runner's thread; the
/// mutex keeps it correct if that ever changes).
private let fixtureCache = Synchronization.Mutex<[Int: MapFixture]>([:])
private let string16Cache = Synchronization.Mutex<String16Fixture?>(nil)

private func fixture(_ n: Int) -> MapFixture {
    fixtureCache.withLock { c in
        if let f = c[n] { return f }
        let f = MapFixture(n: n)
        c[n] = f
        return f
    }
}

private func string16() -> String16Fixture {
    string16Cache.withLock { c in
        if let f = c { return f }
        let f = String16Fixture(n: string16N)
        c = f
        return f
    }
}

/// Per-run growth event totals, summed over the maps a body creates.
private final class GrowthTally: @unchecked Sendable {
    var evacuations = 0
    var overflow = 0
    func add<K, V>(_ m: HashMap<K, V>) {
        let s = m.stats
        evacuations += s.evacuations
        overflow += s.overflowAllocations
    }
    func report(_ run: RunContext) {
        let n = Double(Swift.max(run.n, 1))
        run.report(Double(evacuations) / n, unit: "evacuated/op")
        run.report(Double(overflow) / n, unit: "overflow/op")
    }
}

/// assign/sized and assign/grow: insert keys 0..<n into fresh maps, per
/// element (a new map every n elements). b.N is a multiple of n (the
/// iteration quantum), so every map timed is filled to n.
private func assignBenchmarks() -> [Benchmark] {
    var out: [Benchmark] = []
    for sized in [true, false] {
        let shape = sized ? "sized" : "grow"
        for (label, n) in mapSizes {
            out.append(Benchmark("map/assign/\(shape)/n=\(label)",
                                 summary: "insert \(label) Int64 keys into a new HashMap\(sized ? " made with that capacity" : " (growing)"), per element",
                                 iterationQuantum: n) { run in
                let tally = GrowthTally()
                run.teardown { tally.report(run) }
                return { worker in
                    var done = 0
                    while done < worker.n {
                        let m = sized ? HashMap<Int64, Int64>(minimumCapacity: n) : HashMap<Int64, Int64>()
                        var j = 0
                        while j < n && done < worker.n {
                            m[Int64(j)] = Int64(j)
                            j += 1
                            done += 1
                        }
                        tally.add(m)
                    }
                }
            })
            out.append(Benchmark("dict/assign/\(shape)/n=\(label)",
                                 summary: "Dictionary twin of map/assign/\(shape)/n=\(label)", iterationQuantum: n) { _ in
                { worker in
                    var done = 0
                    while done < worker.n {
                        var d = sized ? [Int64: Int64](minimumCapacity: n) : [Int64: Int64]()
                        var j = 0
                        while j < n && done < worker.n {
                            d[Int64(j)] = Int64(j)
                            j += 1
                            done += 1
                        }
                        blackHole(d)
                    }
                }
            })
        }
    }
    return out
}

/// access/hit and access/miss on cached maps of n entries.
private func accessBenchmarks() -> [Benchmark] {
    var out: [Benchmark] = []
    for hit in [true, false] {
        let kind = hit ? "hit" : "miss"
        for (label, n) in mapSizes {
            let offset = hit ? 0 : n
            out.append(Benchmark("map/access/\(kind)/n=\(label)",
                                 summary: "m[k] on a HashMap<Int64, Int64> of \(label) entries, keys \(hit ? "present" : "absent") in turn",
                                 primaryMetrics: ["probes/op"]) { run in
                let f = fixture(n)
                run.teardown { run.report(hit ? f.hitProbes : f.missProbes, unit: "probes/op") }
                return { worker in
                    let m = f.map
                    var sum: Int64 = 0
                    var j = 0
                    for _ in 0..<worker.n {
                        sum &+= m[Int64(j + offset)] ?? 0
                        j += 1
                        if j == n { j = 0 }
                    }
                    blackHole(sum)
                }
            })
            out.append(Benchmark("dict/access/\(kind)/n=\(label)",
                                 summary: "Dictionary twin of map/access/\(kind)/n=\(label)") { _ in
                let f = fixture(n)
                return { worker in
                    let d = f.dict
                    var sum: Int64 = 0
                    var j = 0
                    for _ in 0..<worker.n {
                        sum &+= d[Int64(j + offset)] ?? 0
                        j += 1
                        if j == n { j = 0 }
                    }
                    blackHole(sum)
                }
            })
        }
    }
    return out
}

/// delete/n: delete keys in turn from a map refilled (untimed) with n keys
/// whenever it empties (Go's benchmarkMapDeleteInt32 shape).
private func deleteBenchmarks() -> [Benchmark] {
    var out: [Benchmark] = []
    for (label, n) in mapSizes.dropFirst() {
        out.append(Benchmark("map/delete/n=\(label)",
                             summary: "delete one key per op from a HashMap refilled untimed with \(label) keys") { _ in
            { worker in
                let m = HashMap<Int64, Int64>(minimumCapacity: n)
                for i in 0..<worker.n {
                    if m.isEmpty {
                        worker.stopTimer()
                        for j in i..<(i + n) { m[Int64(j)] = Int64(j) }
                        worker.startTimer()
                    }
                    m[Int64(i)] = nil
                }
                blackHole(m)
            }
        })
        out.append(Benchmark("dict/delete/n=\(label)", summary: "Dictionary twin of map/delete/n=\(label)") { _ in
            { worker in
                var d = [Int64: Int64](minimumCapacity: n)
                for i in 0..<worker.n {
                    if d.isEmpty {
                        worker.stopTimer()
                        for j in i..<(i + n) { d[Int64(j)] = Int64(j) }
                        worker.startTimer()
                    }
                    d[Int64(i)] = nil
                }
                blackHole(d)
            }
        })
    }
    return out
}

/// iterate/n: range over a cached map; per element.
private func iterateBenchmarks() -> [Benchmark] {
    var out: [Benchmark] = []
    for (label, n) in mapSizes {
        out.append(Benchmark("map/iterate/n=\(label)",
                             summary: "for (k, v) in a HashMap of \(label) entries, per element") { _ in
            let f = fixture(n)
            return { worker in
                let m = f.map
                var sum: Int64 = 0
                var i = 0
                outer: while i < worker.n {
                    for (k, v) in m {
                        sum &+= k &+ v
                        i += 1
                        if i >= worker.n { break outer }
                    }
                }
                blackHole(sum)
            }
        })
        out.append(Benchmark("dict/iterate/n=\(label)", summary: "Dictionary twin of map/iterate/n=\(label)") { _ in
            let f = fixture(n)
            return { worker in
                let d = f.dict
                var sum: Int64 = 0
                var i = 0
                outer: while i < worker.n {
                    for (k, v) in d {
                        sum &+= k &+ v
                        i += 1
                        if i >= worker.n { break outer }
                    }
                }
                blackHole(sum)
            }
        })
    }
    return out
}

/// string16: 16-byte string keys ("key-%012d"), n = 100k.
private func string16Benchmarks() -> [Benchmark] {
    let n = string16N
    var out: [Benchmark] = []
    out.append(Benchmark("map/string16/assign/n=100k",
                         summary: "insert 100k 16-byte String keys into a new (growing) HashMap, per element",
                         iterationQuantum: n) { run in
        let f = string16()
        let tally = GrowthTally()
        run.teardown { tally.report(run) }
        return { worker in
            let keys = f.keys
            var done = 0
            while done < worker.n {
                let m = HashMap<String, Int64>()
                var j = 0
                while j < n && done < worker.n {
                    m[keys[j]] = Int64(j)
                    j += 1
                    done += 1
                }
                tally.add(m)
            }
        }
    })
    out.append(Benchmark("dict/string16/assign/n=100k", summary: "Dictionary twin of map/string16/assign/n=100k",
                         iterationQuantum: n) { _ in
        let f = string16()
        return { worker in
            let keys = f.keys
            var done = 0
            while done < worker.n {
                var d: [String: Int64] = [:]
                var j = 0
                while j < n && done < worker.n {
                    d[keys[j]] = Int64(j)
                    j += 1
                    done += 1
                }
                blackHole(d)
            }
        }
    })
    for hit in [true, false] {
        let kind = hit ? "hit" : "miss"
        out.append(Benchmark("map/string16/\(kind)/n=100k",
                             summary: "m[k] with 16-byte String keys, \(hit ? "present" : "absent"), on a 100k-entry HashMap",
                             primaryMetrics: ["probes/op"]) { run in
            let f = string16()
            run.teardown { run.report(hit ? f.hitProbes : f.missProbes, unit: "probes/op") }
            return { worker in
                let m = f.map
                let keys = hit ? f.keys : f.missing
                var sum: Int64 = 0
                var j = 0
                for _ in 0..<worker.n {
                    sum &+= m[keys[j]] ?? 0
                    j += 1
                    if j == n { j = 0 }
                }
                blackHole(sum)
            }
        })
        out.append(Benchmark("dict/string16/\(kind)/n=100k", summary: "Dictionary twin of map/string16/\(kind)/n=100k") { _ in
            let f = string16()
            return { worker in
                let d = f.dict
                let keys = hit ? f.keys : f.missing
                var sum: Int64 = 0
                var j = 0
                for _ in 0..<worker.n {
                    sum &+= d[keys[j]] ?? 0
                    j += 1
                    if j == n { j = 0 }
                }
                blackHole(sum)
            }
        })
    }
    return out
}

func mapBenchmarks() -> [Benchmark] {
    assignBenchmarks() + accessBenchmarks() + deleteBenchmarks() + iterateBenchmarks() + string16Benchmarks()
}
