// Tests for GoRuntime's HashMap (runtime/map.go port): API behaviour,
// growth exactly on Go's triggers, incremental evacuation, iteration during
// growth, lifetimes of non-trivial keys and values, hashing, deterministic
// mode, concurrent readers and the fatal concurrent-write paths.
// checkInvariants() runs after mutations throughout.

import Foundation
import Testing
@testable import GoRuntime

/// A key type that takes the generic (tophash + equality) path.
struct PairKey: MapKey, Hashable {
    var a: Int32
    var b: Int32
    static var mapKeyKind: MapKeyKind { .generic }
    static func mapHash(_ k: PairKey, seed: UInt64) -> UInt64 {
        MapHash.memhash64(UInt64(UInt32(bitPattern: k.a)) << 32 | UInt64(UInt32(bitPattern: k.b)), seed: seed)
    }
    static func mapKeysEqual(_ x: PairKey, _ y: PairKey) -> Bool { x == y }
}

/// A value whose live instances are counted, to check that the map
/// initializes and deinitializes exactly once per stored copy.
final class Tracked {
    nonisolated(unsafe) static var live = 0
    static let lock = NSLock()
    let id: Int
    init(_ id: Int) { self.id = id; Tracked.lock.lock(); Tracked.live += 1; Tracked.lock.unlock() }
    deinit { Tracked.lock.lock(); Tracked.live -= 1; Tracked.lock.unlock() }
}

/// A value that counts its live instances in a counter of its own (so
/// that tests running in parallel do not share one).
final class LiveCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    func add(_ d: Int) { lock.lock(); n += d; lock.unlock() }
}
final class Counted {
    let id: Int
    let counter: LiveCount
    init(_ id: Int, _ counter: LiveCount) { self.id = id; self.counter = counter; counter.add(1) }
    deinit { counter.add(-1) }
}

func contents<K: MapKey & Hashable, V>(_ m: HashMap<K, V>) -> [K: V] {
    var d: [K: V] = [:]
    for (k, v) in m {
        #expect(d[k] == nil, "iteration returned a key twice")
        d[k] = v
    }
    return d
}

/// Insert with a check that growth starts exactly on Go's triggers.
func checkedInsert<K: MapKey, V>(_ m: HashMap<K, V>, _ k: K, _ v: V) {
    let wasGrowing = m.isGrowing, B = m.B, count = m.count, nover = m.noverflow
    let present = m.contains(k)
    m[k] = v
    if present || wasGrowing {
        #expect(m.B == B, "B changed without a new grow")
        return
    }
    let over = MapConst.overLoadFactor(count + 1, UInt8(B))
    let tooMany = MapConst.tooManyOverflowBuckets(UInt16(nover), UInt8(B))
    if count == 0 && B == 0 && !over { return }
    if over {
        #expect(m.B == B + 1, "load factor passed but no doubling (count \(count + 1), B \(B))")
    } else if tooMany {
        #expect(m.B == B && (m.isSameSizeGrow || !m.isGrowing), "overflow trigger but no same-size grow")
        #expect(m.stats.sameSizeGrows > 0)
    } else {
        #expect(m.B == B, "grew without a trigger")
    }
}

@Suite struct MapTests {
    @Test func basicOperations() {
        let m = HashMap<Int64, String>()
        #expect(m.isEmpty && m[1] == nil && m.removeValue(forKey: 1) == nil)
        for i in 0..<100 { m[Int64(i)] = "v\(i)" }
        m.checkInvariants()
        #expect(m.count == 100)
        #expect(m[42] == "v42" && m[100] == nil)
        m[42] = "new"
        #expect(m[42] == "new" && m.count == 100)
        #expect(m.removeValue(forKey: 42) == "new" && m[42] == nil && m.count == 99)
        m[7] = nil
        #expect(m[7] == nil && m.count == 98)
        m.checkInvariants()
        let seed = m.hashSeed
        for i in 0..<100 { m[Int64(i)] = nil }
        m.checkInvariants()
        #expect(m.isEmpty)
        _ = seed  // the seed is re-drawn when the map empties; nothing to assert on its value
    }

    @Test func stringAndIntKeys() {
        let s = HashMap<String, Int>()
        let words = (0..<500).map { "key-\($0)-" + String(repeating: "x", count: $0 % 40) }
        for (i, w) in words.enumerated() { s[w] = i }
        s.checkInvariants()
        for (i, w) in words.enumerated() { #expect(s[w] == i) }
        #expect(s["nope"] == nil && s[""] == nil)
        s[""] = -1
        #expect(s[""] == -1)
        // Byte equality, as Go: canonically equivalent strings are distinct keys.
        s["\u{e9}"] = 1
        s["e\u{301}"] = 2
        #expect(s["\u{e9}"] == 1 && s["e\u{301}"] == 2)
        let i = HashMap<Int, Int>(), u = HashMap<UInt64, Int>()
        for k in 0..<300 { i[k - 150] = k; u[UInt64.max - UInt64(k)] = k }
        #expect(i[-150] == 0 && u[UInt64.max] == 0 && i.count == 300 && u.count == 300)
        i.checkInvariants(); u.checkInvariants()
    }

    @Test func bucketLayoutMatchesGo() {
        // Go: 8 tophash + 8*8 keys + 8*8 elems + overflow ptr = 144 bytes.
        #expect(HashMap<Int64, Int64>.bucketSize == 144)
        // string keys (16 bytes) with int values: 8 + 128 + 64 + 8.
        #expect(HashMap<String, Int>.bucketSize == 208)
        #expect(HashMap<Int64, Int64>.keysOffset == 8 && HashMap<Int64, Int64>.valuesOffset == 72)
    }

    /// The limits an insert compares against are Go's two grow tests,
    /// precomputed: they must agree with the formulas on each side of
    /// every boundary.
    @Test func precomputedGrowLimitsMatchGosTests() {
        for b in 0...40 {
            let B = UInt8(b)
            let limit = MapConst.loadLimit(B)
            for count in [0, 1, 8, 9, limit - 1, limit, limit + 1, limit + 2] where count >= 0 {
                #expect(MapConst.overLoadFactor(count, B) == (count > limit), "B \(b) count \(count)")
            }
            let ovl = MapConst.overflowLimit(B)
            for n in [0, 1, Int(ovl) - 1, Int(ovl), Int(ovl) + 1] where n >= 0 && n <= Int(UInt16.max) {
                let nover = UInt16(n)
                #expect(MapConst.tooManyOverflowBuckets(nover, B) == (nover >= ovl), "B \(b) noverflow \(n)")
            }
        }
    }

    @Test func growthStartsExactlyAtTheLoadFactor() {
        let m = HashMap<Int64, Int64>()
        var grewAt: [Int] = []
        for i in 0..<5000 {
            let b = m.B
            checkedInsert(m, Int64(i), Int64(i))
            if m.B != b { grewAt.append(i + 1) }
            if i % 97 == 0 { m.checkInvariants() }
        }
        m.checkInvariants()
        // Doublings happen on the insert that makes count exceed 6.5 * 2^B
        // (and 8): the 9th, 14th, 27th, 53rd, 105th, ... entries.
        #expect(Array(grewAt.prefix(6)) == [9, 14, 27, 53, 105, 209])
        for (k, c) in grewAt.enumerated() {
            #expect(c == 13 * (1 << k) / 2 + 1 || (k == 0 && c == 9))
        }
        #expect(m.stats.grows == grewAt.count)
        for i in 0..<5000 { #expect(m[Int64(i)] == Int64(i)) }
    }

    @Test func minimumCapacityIsGosHint() {
        for (hint, B) in [(0, 0), (8, 0), (9, 1), (13, 1), (14, 2), (26, 2), (27, 3), (1000, 8), (1_000_000, 18)] {
            let m = HashMap<Int64, Int64>(minimumCapacity: hint)
            #expect(m.B == B, "hint \(hint)")
        }
        let m = HashMap<Int64, Int64>(minimumCapacity: 1000)
        for i in 0..<1000 { m[Int64(i)] = 0 }
        #expect(m.B == 8 && m.stats.grows == 0)
        m.checkInvariants()
    }

    @Test func reusedLargeBucketArrayIsCleared() {
        // 2^15 buckets * 144 bytes is above LargeBucketArrayCache's minimum:
        // the second map gets the first one's array back and must see it
        // zeroed.
        for round in 0..<3 {
            let m = HashMap<Int64, Int64>(minimumCapacity: 200_000)
            #expect(m.B == 15)
            for i in 0..<5000 { #expect(m[Int64(-1 - i)] == nil); m[Int64(i &* 7919 &+ round)] = 1 }
            m.checkInvariants()
            #expect(m.count == 5000)
        }
    }

    @Test func incrementalEvacuationSplitsXY() {
        let m = HashMap<Int64, Int64>(minimumCapacity: 1664)  // B = 8, full at 1664
        for i in 0..<1664 { m[Int64(i)] = Int64(i) }
        #expect(m.B == 8 && !m.isGrowing)
        m[1664] = 1664  // the 1665th entry starts a doubling
        #expect(m.isGrowing && !m.isSameSizeGrow && m.B == 9 && m.oldBucketCount == 256)
        // That insert evacuated its own bucket and one more.
        #expect((1...2).contains(m.evacuatedBucketCount))
        m.checkInvariants()
        var writes = 0
        var lastEvacuated = m.evacuatedBucketCount
        while m.isGrowing {
            m[Int64(10_000 + writes)] = 0
            writes += 1
            let e = m.evacuatedBucketCount
            #expect(e == 0 || e >= lastEvacuated)
            lastEvacuated = e
            #expect(m.nevacuate <= 256)
            if writes % 16 == 0 { m.checkInvariants() }
        }
        // Each write evacuates at least one old bucket (nevacuate's), so
        // 256 old buckets need at most 256 writes.
        #expect(writes <= 256)
        #expect(m.stats.evacuations == 256)
        m.checkInvariants()
        for i in 0...1664 { #expect(m[Int64(i)] == Int64(i)) }
        // Deletes also do grow work.
        for i in 0..<(13 * 512 / 2 - m.count) { m[Int64(20_000 + i)] = 0 }
        m[-1] = 0
        #expect(m.isGrowing)
        let before = m.evacuatedBucketCount
        m[0] = nil
        #expect(m.evacuatedBucketCount > before || !m.isGrowing)
        m.checkInvariants()
    }

    @Test func sameSizeGrowAfterChurn() {
        // Keep 24 entries in 4 buckets (B = 2) while replacing keys: chains
        // gain overflow buckets that deletes never give back, until there
        // are as many overflow buckets as buckets and a same-size grow runs.
        let m = HashMap<Int64, Int64>()
        var rng = SplitMix64(state: 1)
        var keys: [Int64] = []
        for i in 0..<24 { checkedInsert(m, Int64(i), 0); keys.append(Int64(i)) }
        #expect(m.B == 2)
        var next: Int64 = 24
        var ops = 0
        while m.stats.sameSizeGrows == 0 && ops < 200_000 {
            let j = Int(rng.next() % UInt64(keys.count))
            m[keys[j]] = nil
            keys[j] = next
            checkedInsert(m, next, 0)
            next += 1
            ops += 1
            m.checkInvariants()
        }
        #expect(m.stats.sameSizeGrows >= 1, "no same-size grow after \(ops) ops")
        #expect(m.B == 2 && m.count == 24)
        // Finish the growth: fewer overflow buckets afterwards.
        while m.isGrowing { m[keys[0]] = 1 ; m[keys[0]] = nil; m[keys[0]] = 0; m.checkInvariants() }
        #expect(m.noverflow < 4)
        for k in keys { #expect(m[k] == 0) }
    }

    @Test func deleteCollapsesEmptyRest() {
        let m = HashMap<Int64, Int64>()
        for i in 0..<8 { m[Int64(i)] = 0 }   // one full bucket (B = 0)
        for i in (0..<8).reversed() {
            m[Int64(i)] = nil
            m.checkInvariants()
        }
        // All slots back to emptyRest: a miss now stops at slot 0.
        m[100] = 1
        #expect(m.probeLength(forKey: 100) == 1)
        m.checkInvariants()
    }

    @Test func differentialFuzzAgainstDictionary() {
        var rng = SplitMix64(state: 0x5eed)
        // Phase 1: small key space, invariants after every operation.
        // Phase 2: wider key space across several growths, checked every
        // 256 operations and compared in full every 8192.
        for (range, ops, every) in [(64, 40_000, 1), (700, 40_000, 7), (20_000, 100_000, 256)] {
            let m = HashMap<Int64, Int>()
            var d: [Int64: Int] = [:]
            for op in 0..<ops {
                let k = Int64(rng.next() % UInt64(range))
                switch rng.next() % 10 {
                case 0..<5:
                    m[k] = op; d[k] = op
                case 5..<7:
                    #expect(m.removeValue(forKey: k) == d.removeValue(forKey: k))
                case 7:
                    m[k] = nil; d[k] = nil
                default:
                    #expect(m[k] == d[k])
                }
                #expect(m.count == d.count)
                if op % every == 0 { m.checkInvariants() }
                if op % 8192 == 0 { #expect(contents(m) == d) }
            }
            m.checkInvariants()
            #expect(contents(m) == d)
        }
    }

    @Test func differentialFuzzStringAndGenericKeys() {
        var rng = SplitMix64(state: 99)
        let s = HashMap<String, Int>()
        var sd: [String: Int] = [:]
        let g = HashMap<PairKey, Int>()
        var gd: [PairKey: Int] = [:]
        for op in 0..<40_000 {
            let r = rng.next()
            let sk = "k\(r % 500)" + (r & 1 == 0 ? "-long-enough-for-the-17-to-32-path" : "")
            let gk = PairKey(a: Int32(r % 37), b: Int32((r >> 8) % 29))
            if (r >> 20) % 3 == 0 {
                #expect(s.removeValue(forKey: sk) == sd.removeValue(forKey: sk))
                #expect(g.removeValue(forKey: gk) == gd.removeValue(forKey: gk))
            } else {
                s[sk] = op; sd[sk] = op
                g[gk] = op; gd[gk] = op
            }
            if op % 16 == 0 { s.checkInvariants(); g.checkInvariants() }
        }
        #expect(contents(s) == sd && contents(g) == gd)
    }

    @Test func iterationSeesEveryKeyOnceFromRandomStarts() {
        let m = HashMap<Int64, Int64>()
        for i in 0..<200 { m[Int64(i)] = Int64(i) * 2 }
        var firsts = Set<Int64>()
        for _ in 0..<20 {
            var seen = Set<Int64>()
            var first: Int64? = nil
            for (k, v) in m {
                #expect(v == k * 2)
                #expect(seen.insert(k).inserted)
                if first == nil { first = k }
            }
            #expect(seen.count == 200)
            firsts.insert(first!)
        }
        #expect(firsts.count > 1, "iteration always started at the same entry")
        #expect(Array(HashMap<Int64, Int64>()).isEmpty)
    }

    /// Iterates while writing, checking Go's guarantees: no key twice; every
    /// key present for the whole iteration seen; every key seen was present
    /// when returned, with its current value.
    func iterateWhileMutating(startMidGrow: Bool, seed: UInt64) {
        var rng = SplitMix64(state: seed)
        let m = HashMap<Int64, Int64>()
        var mirror: [Int64: Int64] = [:]
        var next: Int64 = 0
        func insert() { m[next] = next; mirror[next] = next; next += 1 }
        for _ in 0..<800 { insert() }
        if startMidGrow {
            while !m.isGrowing { insert() }
            #expect(m.isGrowing)
        }
        let initial = Set(mirror.keys)
        var deleted = Set<Int64>()
        var seen = Set<Int64>()
        var it = m.makeIterator()
        var grewDuring = false
        while let (k, v) = it.next() {
            #expect(seen.insert(k).inserted, "key \(k) returned twice")
            #expect(mirror[k] == v, "returned \(k) not present or stale")
            // Mutate: inserts (forcing growth), deletes, updates.
            for _ in 0..<3 {
                switch rng.next() % 4 {
                case 0, 1: insert()
                case 2:
                    let victim = Int64(rng.next() % UInt64(next))
                    if mirror.removeValue(forKey: victim) != nil { deleted.insert(victim) }
                    m[victim] = nil
                default:
                    let key = Int64(rng.next() % UInt64(next))
                    if mirror[key] != nil { mirror[key]! += 1_000_000; m[key] = mirror[key] }
                }
            }
            if m.isGrowing { grewDuring = true }
        }
        m.checkInvariants()
        #expect(grewDuring)
        let stayed = initial.subtracting(deleted)
        #expect(stayed.isSubset(of: seen), "missed \(stayed.subtracting(seen).count) keys")
        #expect(contents(m) == mirror)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func iterationDuringGrowth(seed: UInt64) {
        iterateWhileMutating(startMidGrow: false, seed: seed)
        iterateWhileMutating(startMidGrow: true, seed: seed &+ 100)
    }

    /// Non-trivial keys and values across growth with and without
    /// iterators: evacuation moves entries when no iterator can see the old
    /// array and copies them when one can.
    @Test(arguments: [false, true])
    func iterationDuringGrowthWithStrings(startMidGrow: Bool) {
        var rng = SplitMix64(state: startMidGrow ? 7 : 8)
        let m = HashMap<String, String>()
        var mirror: [String: String] = [:]
        var next = 0
        func insert() { let k = "k\(next)"; m[k] = "v\(next)"; mirror[k] = "v\(next)"; next += 1 }
        for _ in 0..<600 { insert() }
        if startMidGrow { while !m.isGrowing { insert() } }
        let initial = Set(mirror.keys)
        var deleted = Set<String>()
        var seen = Set<String>()
        for (k, v) in m {
            #expect(seen.insert(k).inserted && mirror[k] == v)
            for _ in 0..<3 {
                if rng.next() % 3 == 0 {
                    let victim = "k\(rng.next() % UInt64(next))"
                    if mirror.removeValue(forKey: victim) != nil { deleted.insert(victim) }
                    m[victim] = nil
                } else {
                    insert()
                }
            }
        }
        m.checkInvariants()
        #expect(initial.subtracting(deleted).isSubset(of: seen))
        #expect(contents(m) == mirror)
        for _ in 0..<5000 { insert() }  // more growth, no iterator: moves
        m.checkInvariants()
        #expect(contents(m) == mirror)
    }

    @Test func nonTrivialKeysAndValuesAreReleased() {
        #expect(Tracked.live == 0)
        do {
            let m = HashMap<String, Tracked>()
            for i in 0..<3000 { m["key\(i)"] = Tracked(i) }
            for i in 0..<3000 where i % 3 == 0 { m["key\(i)"] = nil }
            for i in 0..<3000 where i % 3 == 1 { m["key\(i)"] = Tracked(-i) }
            #expect(m.removeValue(forKey: "key2")?.id == 2)
            m.checkInvariants()
            #expect(m["key4"]?.id == -4 && m["key5"]?.id == 5)
            // An iterator outliving a growth keeps the old array alive.
            var it = m.makeIterator()
            _ = it.next()
            for i in 3000..<9000 { m["key\(i)"] = Tracked(i) }
            var n = 1
            while it.next() != nil { n += 1 }
            #expect(n >= 1999)
        }
        #expect(Tracked.live == 0, "leaked or over-released \(Tracked.live) values")
    }

    /// String keys with trivial values are released by the storage directly
    /// (BucketStorage.releaseStringKeys): each key's heap storage must die
    /// with the map, not before (an over-release would free it while the map
    /// still holds it) and not never (a leak). Watched through a weak
    /// reference to each key's storage object. Small strings and literals
    /// (which own nothing) are in the same map.
    @Test func stringKeyStorageIsReleasedWithTheMap() {
        final class Weak { weak var object: AnyObject? }
        func storage(of s: String) -> AnyObject? {
            let object = unsafeBitCast(s, to: (UInt64, UInt64).self).1
            guard object >> 60 == 0, let p = UnsafeRawPointer(bitPattern: UInt(object)) else { return nil }
            return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue()
        }
        var watched: [Weak] = []
        do {
            let m = HashMap<String, Int>()
            // Overflow buckets and growth included: 5000 keys.
            for i in 0..<5000 {
                let key = "a heap-allocated key, number \(i)"
                let w = Weak()
                w.object = storage(of: key)
                #expect(w.object != nil)
                watched.append(w)
                m[key] = i
            }
            m["short"] = -1
            m["a literal key, long enough to be stored in the binary"] = -2
            for i in stride(from: 0, to: 5000, by: 7) { m["a heap-allocated key, number \(i)"] = nil }
            #expect(watched.enumerated().allSatisfy { i, w in (w.object == nil) == (i % 7 == 0) },
                    "deleted keys are freed, kept ones alive while the map is")
            #expect(m["a heap-allocated key, number 1"] == 1 && m["short"] == -1)
            m.checkInvariants()
        }
        #expect(watched.allSatisfy { $0.object == nil }, "every key freed with the map")
    }

    @Test func smallMapsAllocateTheirBucketOnFirstInsert() {
        // makemap_small (no hint) and makemap with a hint of at most 8:
        // B == 0 and no bucket array until mapassign needs one.
        for hint in [nil, 0, 1, 8] as [Int?] {
            let m = hint.map { HashMap<Int64, String>(minimumCapacity: $0) } ?? HashMap<Int64, String>()
            #expect(!m.hasBucketArray && m.B == 0 && m.isEmpty)
            // Reads, deletes and iteration work on it and allocate nothing.
            #expect(m[1] == nil && !m.contains(1) && m.removeValue(forKey: 1) == nil)
            #expect(m.probeLength(forKey: 1) == 0)
            #expect(Array(m).isEmpty)
            m.checkInvariants()
            #expect(!m.hasBucketArray)
            m[1] = "one"
            #expect(m.hasBucketArray && m.B == 0 && m[1] == "one" && m.count == 1)
            m.checkInvariants()
            #expect(m.removeValue(forKey: 1) == "one" && m.isEmpty && m[1] == nil)
            m.checkInvariants()
            for i in 0..<8 { m[Int64(i)] = "\(i)" }
            #expect(m.B == 0 && !m.isGrowing && m.overflowBucketCount == 0)
            m[8] = "8"  // the 9th entry doubles
            #expect(m.B == 1 && m.stats.grows == 1)
            m.checkInvariants()
            #expect(Dictionary(uniqueKeysWithValues: m.map { ($0.key, $0.value) }) == Dictionary(uniqueKeysWithValues: (0...8).map { (Int64($0), "\($0)") }))
        }
        // A hint above 8 allocates 2^B buckets up front, as makemap does.
        let sized = HashMap<Int64, Int64>(minimumCapacity: 9)
        #expect(sized.hasBucketArray && sized.B == 1)
    }

    @Test func firstBucketOutlivesGrowthForAnIterator() {
        // The one-bucket array of a small map is retired by its first
        // doubling but must keep serving an iterator that started on it,
        // and the entries it holds (moved or copied) are released exactly
        // once, at the latest with the map.
        let live = LiveCount()
        for withIterator in [false, true] {
            do {
                let m = HashMap<Int64, Counted>()
                for i in 0..<8 { m[Int64(i)] = Counted(i, live) }
                var it = withIterator ? m.makeIterator() : nil
                var seen = Set<Int64>()
                if let (k, v) = it?.next() { #expect(v.id == Int(k)); seen.insert(k) }
                for i in 8..<300 { m[Int64(i)] = Counted(i, live) }  // grows past the first bucket
                #expect(m.B > 1 && !m.isGrowing)
                m.checkInvariants()
                while let (k, v) = it?.next() {
                    #expect(v.id == Int(k))
                    #expect(seen.insert(k).inserted)
                }
                if withIterator { #expect(Set(0..<8).isSubset(of: seen.map { Int($0) })) }
                #expect(live.value == 300)
                for i in 0..<300 where i % 2 == 0 { m[Int64(i)] = nil }
                // Evacuated while an iterator could read the first bucket,
                // its 8 entries were copied, not moved; the copies live as
                // long as the map (see HashMap.firstBucket): the 4 deleted
                // even keys among them are still referenced there.
                #expect(live.value == 150 + (withIterator ? 4 : 0))
            }
            #expect(live.value == 0, "leaked or over-released \(live.value) values")
        }
    }

    @Test func stringKeysAreComparedAsUTF8Bytes() {
        let m = HashMap<String, Int>()
        // Canonically equivalent (Swift's == says equal) but different
        // UTF-8 bytes: different keys, as in Go.
        let precomposed = "caf\u{e9}", decomposed = "cafe\u{301}"
        #expect(precomposed == decomposed)
        m[precomposed] = 1
        #expect(m[decomposed] == nil && !m.contains(decomposed))
        m[decomposed] = 2
        #expect(m.count == 2 && m[precomposed] == 1 && m[decomposed] == 2)
        #expect(m.removeValue(forKey: decomposed) == 2 && m[precomposed] == 1 && m.count == 1)
        // Equal bytes in distinct storage: found by the byte comparison,
        // not the same-storage fast path (long, short and non-ASCII keys).
        for text in [String(repeating: "k", count: 40), "short", "\u{e9}t\u{e9} \u{1F600} long enough to be on the heap"] {
            let copy = String(decoding: Array(text.utf8), as: UTF8.self)
            if text.utf8.count > 15 {
                #expect(unsafeBitCast(text, to: (UInt64, UInt64).self) != unsafeBitCast(copy, to: (UInt64, UInt64).self))
            }
            m[text] = text.utf8.count
            #expect(m[copy] == text.utf8.count)
            m[copy] = -1  // an update, not a second key
            #expect(m[text] == -1 && m.contains(copy))
            #expect(m.removeValue(forKey: copy) == -1 && m[text] == nil)
        }
        // Same length, same tophash is unlikely but the bytes decide: many
        // keys of equal length that differ only in their last byte.
        for i in 0..<2000 { m["key-\(String(repeating: "0", count: 8))\(i % 10)\(i / 10)"] = i }
        for i in 0..<2000 { #expect(m["key-\(String(repeating: "0", count: 8))\(i % 10)\(i / 10)"] == i) }
        m.checkInvariants()
    }

    /// String keys are hashed and compared from their two words
    /// (StringWords), not through the standard library's UTF-8 view. Every
    /// form this platform makes must give the hash of its UTF-8 bytes and
    /// byte equality: small, native heap strings (exact and with spare
    /// capacity, including a heap string short enough to be small),
    /// literals (immortal), substrings made into strings, empty.
    @Test func stringKeysHashedFromTheirWords() {
        var texts: [String] = ["", "a", "fifteen bytes!!", "sixteen bytes!!!",
                               "a literal long enough to live in the binary's constant data",
                               "\u{e9}t\u{e9}", "\u{1F600}\u{1F600}\u{1F600}\u{1F600}"]
        for n in [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 200] {
            texts.append(String(repeating: "x", count: n))
            texts.append(String(decoding: (0..<n).map { UInt8(97 + $0 % 26) }, as: UTF8.self))
            var spare = String()
            spare.reserveCapacity(64)  // heap storage even when n <= 15
            spare += String(repeating: "y", count: n)
            texts.append(spare)
            let long = String(repeating: "z", count: n + 20)
            texts.append(String(long.dropFirst(20)))  // from a Substring
        }
        let seeds: [UInt64] = [0, 1, 0xdead_beef]
        var forms = Set<UInt64>()  // the discriminator nibbles seen
        for t in texts {
            let words = unsafeBitCast(t, to: (UInt64, UInt64).self)
            forms.insert(words.1 >> 60)
            #expect(StringWords.hasContiguousBytes(words), "form \(String(words.1 >> 60, radix: 16)) of \(t.debugDescription)")
            let bytes = Array(t.utf8)
            for seed in seeds {
                let expected = bytes.withUnsafeBytes { MapHash.memhash($0.baseAddress, count: $0.count, seed: seed) }
                #expect(String.mapHash(t, seed: seed) == expected, "\(t.debugDescription)")
                withUnsafePointer(to: t) { p in
                    #expect(String.mapHash(at: p, seed: seed) == expected)
                }
            }
        }
        #expect(forms.count >= 3, "small, native and immortal forms: \(forms)")
        // Equality across forms is byte equality.
        for a in texts {
            for b in texts {
                let equal = Array(a.utf8) == Array(b.utf8)
                #expect(String.mapKeysEqual(a, b) == equal)
                withUnsafePointer(to: a) { p in #expect(String.mapKeysEqual(at: p, b) == equal) }
            }
        }
        // And a map keyed by all of them finds each through any equal form.
        let m = HashMap<String, Int>()
        for (i, t) in texts.enumerated() where m[t] == nil { m[t] = i }
        for t in texts {
            let copy = String(decoding: Array(t.utf8), as: UTF8.self)
            #expect(m[copy] != nil && m[copy] == m[t])
        }
        m.checkInvariants()
    }

    @Test func largeBucketArraysAreHugePageAligned() {
        // 2^15 buckets * 144 bytes = 4.5 MiB: from LargeBucketArrays, on
        // 2 MiB boundaries (where the kernel can back it with huge pages).
        let m = HashMap<Int64, Int64>(minimumCapacity: 200_000)
        #expect(m.B == 15)
        let base = UInt(bitPattern: m.storage?.base)
        #expect(base != 0 && base % UInt(LargeBucketArrays.hugePageBytes) == 0)
        // Small arrays are tail-allocated in their storage object.
        let s = HashMap<Int64, Int64>(minimumCapacity: 100)
        #expect(s.storage.map { !$0.withUnsafeMutablePointerToHeader { $0.pointee.isLarge } } == true)
        for i in 0..<1000 { m[Int64(i)] = Int64(i); s[Int64(i)] = Int64(i) }
        m.checkInvariants(); s.checkInvariants()
        #expect(m[999] == 999 && s[999] == 999)
    }

    @Test func overAlignedValuesStayAligned() {
        // SIMD4<Float> needs 16-byte alignment: tail-allocated arrays are
        // aligned up inside their storage, the first bucket and overflow
        // buckets come from malloc (16-byte aligned).
        let m = HashMap<Int64, SIMD4<Float>>()
        #expect(MemoryLayout<SIMD4<Float>>.alignment == 16 && HashMap<Int64, SIMD4<Float>>.maxAlign == 16)
        for i in 0..<3000 {
            m[Int64(i)] = SIMD4(Float(i), 1, 2, 3)
            if i == 0 || i == 2999 {
                #expect(UInt(bitPattern: m.h.buckets) % 16 == 0)
            }
        }
        m.checkInvariants()
        for i in 0..<3000 { #expect(m[Int64(i)] == SIMD4(Float(i), 1, 2, 3)) }
        var n = 0
        for (k, v) in m { #expect(v.x == Float(k)); n += 1 }
        #expect(n == 3000)
    }

    @Test func hashFunctions() {
        MapHash.ensureInitialized()
        #expect(MapHash.usesAES == MapHash.cpuHasAES)
        let seeds: [UInt64] = [0, 1, 0xdead_beef]
        for seed in seeds {
            #expect(MapHash.memhash64(12345, seed: seed) == (MapHash.usesAES
                ? MapHash.aeshash64(12345, seed: seed) : MapHash.memhash64Fallback(12345, seed: seed)))
        }
        #expect(MapHash.aeshash64(1, seed: 1) != MapHash.aeshash64(1, seed: 2))
        #expect(MapHash.memhash64Fallback(1, seed: 1) != MapHash.memhash64Fallback(2, seed: 1))
        // Every length through every AES and fallback branch: distinct
        // inputs give distinct hashes; one changed byte changes the hash.
        var bytes = [UInt8](repeating: 0, count: 400)
        for i in 0..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
        var aes = Set<UInt64>(), fb = Set<UInt64>()
        bytes.withUnsafeBytes { all in
            for n in 0...300 {
                let b = UnsafeRawBufferPointer(rebasing: all[0..<n])
                aes.insert(MapHash.aeshash(b, seed: 7))
                fb.insert(MapHash.memhashFallback(b, seed: 7))
                #expect(MapHash.aeshash(b, seed: 7) == MapHash.aeshash(b, seed: 7))
            }
        }
        #expect(aes.count == 301 && fb.count == 301)
        for n in [1, 15, 16, 17, 32, 33, 64, 65, 128, 129, 300] {
            for pos in [0, n / 2, n - 1] {
                var copy = bytes
                let a0 = copy.withUnsafeBytes { MapHash.aeshash(UnsafeRawBufferPointer(rebasing: $0[0..<n]), seed: 3) }
                let f0 = copy.withUnsafeBytes { MapHash.memhashFallback(UnsafeRawBufferPointer(rebasing: $0[0..<n]), seed: 3) }
                copy[pos] ^= 0x10
                let a1 = copy.withUnsafeBytes { MapHash.aeshash(UnsafeRawBufferPointer(rebasing: $0[0..<n]), seed: 3) }
                let f1 = copy.withUnsafeBytes { MapHash.memhashFallback(UnsafeRawBufferPointer(rebasing: $0[0..<n]), seed: 3) }
                #expect(a0 != a1 && f0 != f1, "n \(n) pos \(pos)")
            }
        }
        // Bytes past the length do not matter (the 0..15 masked load).
        var a = [UInt8](repeating: 1, count: 32), b = [UInt8](repeating: 2, count: 32)
        for i in 0..<5 { a[i] = 9; b[i] = 9 }
        let ha = a.withUnsafeBytes { MapHash.aeshash(UnsafeRawBufferPointer(rebasing: $0[0..<5]), seed: 1) }
        let hb = b.withUnsafeBytes { MapHash.aeshash(UnsafeRawBufferPointer(rebasing: $0[0..<5]), seed: 1) }
        #expect(ha == hb)
        // Low bits spread: 64k sequential keys fill 4096 buckets evenly.
        var counts = [Int](repeating: 0, count: 4096)
        for k in 0..<65536 { counts[Int(MapHash.memhash64(UInt64(k), seed: 42) & 4095)] += 1 }
        #expect(counts.max()! < 48 && counts.min()! > 0)
    }

    @Test func concurrentReadersAndIterators() async {
        let m = HashMap<Int64, Int64>()
        for i in 0..<20_000 { m[Int64(i)] = Int64(i) }
        nonisolated(unsafe) let shared = m
        await withTaskGroup(of: Bool.self) { g in
            for t in 0..<2 {
                g.addTask {
                    var ok = true
                    for round in 0..<3 {
                        for i in stride(from: t, to: 20_000, by: 3) where shared[Int64(i)] != Int64(i) { ok = false }
                        var n = 0
                        for (k, v) in shared { if k != v { ok = false }; n += 1 }
                        if n != 20_000 { ok = false }
                        _ = round
                    }
                    return ok
                }
            }
            for await ok in g { #expect(ok) }
        }
    }

    @Test func deterministicModeRepeats() async {
        func digest() async -> [UInt8]? {
            let r = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
                setenv("GOBENCH_DETERMINISTIC", "1", 1)
                let m = HashMap<Int64, Int64>()
                for i in 0..<1000 { m[Int64(i)] = 0 }
                let order = m.prefix(8).map { String($0.key) }.joined(separator: ",")
                print(MapHash.isDeterministic, m.hashSeed, order, MapHash.memhash64(1, seed: 1))
            }
            return r?.standardOutputContent
        }
        let a = await digest(), b = await digest()
        #expect(a != nil && a == b)
        #expect(String(decoding: a ?? [], as: UTF8.self).hasPrefix("true "))
    }

    @Test func writeDuringWriteIsFatal() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let m = HashMap<Int64, Int64>()
            m[1] = 1
            m.flags |= MapConst.hashWriting  // another writer is mid-write
            m[2] = 2
        }
        expectStderr(of: r, contains: "fatal error: concurrent map writes")
    }

    @Test func readAndIterateDuringWriteAreFatal() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let m = HashMap<Int64, Int64>()
            m[1] = 1
            m.flags |= MapConst.hashWriting
            _ = m[1]
        }
        expectStderr(of: r, contains: "concurrent map read and map write")
        let r2 = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let m = HashMap<Int64, Int64>()
            m[1] = 1
            var it = m.makeIterator()
            m.flags |= MapConst.hashWriting
            _ = it.next()
        }
        expectStderr(of: r2, contains: "concurrent map iteration and map write")
    }

    @Test func twoThreadsWritingAreCaught() async {
        let r = await #expect(processExitsWith: .exitCode(2), observing: [\.standardErrorContent]) {
            let m = HashMap<Int64, Int64>()
            nonisolated(unsafe) let shared = m
            let deadline = Machine.nanotime() + 20_000_000_000
            let t = Thread {
                var i: Int64 = 0
                while Machine.nanotime() < deadline { shared[i & 1023] = i; i += 1 }
            }
            t.start()
            var i: Int64 = 0
            while Machine.nanotime() < deadline { shared[(i & 1023) + 2048] = i; i += 1 }
            exit(0)  // not caught in 20 s: the test fails on the exit code
        }
        expectStderr(of: r, contains: "concurrent map")
    }
}
