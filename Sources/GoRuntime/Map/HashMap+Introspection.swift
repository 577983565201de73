// Introspection for tests and benchmarks: the shape of the table, event
// counters, probe lengths, and `checkInvariants()` (the invariants listed in
// HashMap.swift). None of this is on a hot path; all of it reads the map and
// must not run concurrently with a write.

extension HashMap {
    /// log2 of the number of buckets.
    public var B: Int { Int(h.B) }
    /// 2^B.
    public var bucketCount: Int { 1 << Int(h.B) }
    /// Whether the map has a bucket array yet (false for a map made with
    /// B == 0 until its first insert: makemap_small).
    public var hasBucketArray: Bool { h.buckets != nil }
    /// Whether a grow (doubling or same-size) is in progress.
    public var isGrowing: Bool { h.oldbuckets != nil }
    /// Whether the grow in progress keeps the bucket count.
    public var isSameSizeGrow: Bool { isGrowing && flags & MapConst.sameSizeGrow != 0 }
    /// Evacuation progress of the grow in progress (old buckets below it are
    /// evacuated); 0 when not growing.
    public var nevacuate: Int { isGrowing ? h.nevacuate : 0 }
    /// Old buckets of the grow in progress; 0 when not growing.
    public var oldBucketCount: Int { isGrowing ? _noldbuckets : 0 }
    /// Evacuated old buckets of the grow in progress.
    public var evacuatedBucketCount: Int {
        guard let old = h.oldbuckets else { return 0 }
        return (0..<_noldbuckets).filter { Self.evacuated(old + $0 * Self.bucketSize) }.count
    }
    /// Go's noverflow (exact below B = 16, sampled above).
    public var noverflow: Int { Int(h.noverflow) }
    /// Overflow buckets chained into the current array.
    public var overflowBucketCount: Int {
        guard let base = h.buckets else { return 0 }
        var n = 0
        for i in 0..<bucketCount {
            var b = Self.overflow(base + i * Self.bucketSize)
            while let o = b { n += 1; b = Self.overflow(o) }
        }
        return n
    }
    /// The per-map seed.
    public var hashSeed: UInt32 { h.hash0 }

    /// Cumulative event counts since the map was made.
    @frozen
    public struct Stats: Equatable, Sendable {
        /// Old buckets evacuated.
        public var evacuations: Int
        /// Overflow buckets taken (preallocated or newly allocated).
        public var overflowAllocations: Int
        /// Grows started, and how many of those were same-size.
        public var grows: Int
        public var sameSizeGrows: Int
        @inlinable
        init(evacuations: Int, overflowAllocations: Int, grows: Int, sameSizeGrows: Int) {
            self.evacuations = evacuations
            self.overflowAllocations = overflowAllocations
            self.grows = grows
            self.sameSizeGrows = sameSizeGrows
        }
    }
    /// Inlinable: benchmarks read it once per map they build.
    @inlinable
    public var stats: Stats {
        Stats(evacuations: h.evacuations, overflowAllocations: h.overflowAllocations,
              grows: h.grows, sameSizeGrows: h.sameSizeGrows)
    }

    /// Slots a lookup of `key` examines (tophash or key compares) before it
    /// finds the key or gives up: the probe length of one access.
    public func probeLength(forKey key: Key) -> Int {
        let h = self.h
        guard h.count != 0, var b = h.buckets else { return 0 }
        let hash = Key.mapHash(key, seed: UInt64(h.hash0))
        if !(Key.mapKeyKind == .word64 && h.B == 0) {
            b = b + Int(hash & MapConst.bucketMask(h.B)) * Self.bucketSize
            if let old = h.oldbuckets { b = _oldBucketIfUnevacuated(old, hash: hash, current: b) }
        }
        let top = MapConst.tophash(hash)
        var probes = 0
        var cur: UnsafeMutableRawPointer? = b
        while let c = cur {
            for i in 0..<MapConst.bucketCnt {
                probes += 1
                let t = Self.tophash(c, i)
                if Key.mapKeyKind == .word64 && h.B == 0 {
                    // The one-bucket table compares keys, not tophashes.
                    if !MapConst.isEmpty(t) && Self.keyBitsAt(c, i) == Self.keyBits(key) { return probes }
                } else {
                    if t == top && Key.mapKeysEqual(at: Self.keyAt(c, i), key) { return probes }
                    if t == MapConst.emptyRest { return probes }
                }
            }
            cur = Self.overflow(c)
        }
        return probes
    }

    /// Mean probe length over `keys`.
    public func averageProbeLength<S: Sequence>(_ keys: S) -> Double where S.Element == Key {
        var total = 0, n = 0
        for k in keys { total += probeLength(forKey: k); n += 1 }
        return n == 0 ? 0 : Double(total) / Double(n)
    }

    /// Checks every invariant in HashMap.swift's header; stops the process
    /// with a description of the first violation.
    public func checkInvariants() {
        func fail(_ s: String) -> Never { goFatal("HashMap invariant: \(s)") }
        let h = self.h
        let size = Self.bucketSize
        let f = flags
        if f & MapConst.hashWriting != 0 { fail("hashWriting set outside a write") }
        if h.loadLimit != MapConst.loadLimit(h.B) || h.overflowLimit != MapConst.overflowLimit(h.B) {
            fail("grow limits not those of B")
        }
        let seed = UInt64(h.hash0)
        guard let base = h.buckets else {
            if h.count != 0 || h.oldbuckets != nil { fail("no buckets but count/oldbuckets") }
            return
        }
        if storage?.base != base && !(storage == nil && base == firstBucket) {
            fail("neither storage nor firstBucket owns buckets")
        }
        if let fb = firstBucket, Self.overflow(fb) != nil { fail("first bucket has an overflow chain") }
        let nb = bucketCount
        let growing = h.oldbuckets != nil
        if !growing && f & MapConst.sameSizeGrow != 0 { fail("sameSizeGrow without growth") }
        if growing && oldStorage?.base != h.oldbuckets && !(oldStorage == nil && h.oldbuckets == firstBucket) {
            fail("neither oldStorage nor firstBucket owns oldbuckets")
        }
        if !growing && oldStorage != nil { fail("oldStorage kept after growth") }

        var live = 0
        var chained = 0
        // Walks one chain, checking emptyRest runs; calls body for live slots.
        func walk(_ head: UnsafeMutableRawPointer, old: Bool, _ body: (UnsafeMutableRawPointer, Int, UInt8) -> Void) -> Int {
            var sawRest = false
            var overflowCount = 0
            var cur: UnsafeMutableRawPointer? = head
            while let c = cur {
                for i in 0..<MapConst.bucketCnt {
                    let t = Self.tophash(c, i)
                    if sawRest && t != MapConst.emptyRest { fail("slot after emptyRest is \(t)") }
                    if t == MapConst.emptyRest { sawRest = true }
                    if t >= MapConst.minTopHash { body(c, i, t) }
                    if !old && t > MapConst.emptyOne && t < MapConst.minTopHash {
                        fail("evacuated mark \(t) in current array")
                    }
                }
                cur = Self.overflow(c)
                if cur != nil { overflowCount += 1 }
            }
            return overflowCount
        }
        for bi in 0..<nb {
            chained += walk(base + bi * size, old: false) { b, i, t in
                let hash = Key.mapHash(at: Self.keyAt(b, i), seed: seed)
                if Int(hash & MapConst.bucketMask(h.B)) != bi { fail("entry in wrong bucket") }
                if MapConst.tophash(hash) != t { fail("tophash mismatch") }
                live += 1
            }
        }
        if growing {
            let old = h.oldbuckets.unsafelyUnwrapped
            let nold = _noldbuckets
            let oldMask = MapConst.bucketMask(UInt8(truncatingIfNeeded: nold.trailingZeroBitCount))
            if h.nevacuate > nold { fail("nevacuate past old buckets") }
            for ob in 0..<nold {
                let head = old + ob * size
                let evac = Self.evacuated(head)
                if ob < h.nevacuate && !evac { fail("old bucket below nevacuate not evacuated") }
                var cur: UnsafeMutableRawPointer? = head
                while let c = cur {
                    for i in 0..<MapConst.bucketCnt {
                        let t = Self.tophash(c, i)
                        let isMark = t > MapConst.emptyOne && t < MapConst.minTopHash
                        if evac != isMark { fail("old bucket \(ob) partly evacuated") }
                    }
                    cur = Self.overflow(c)
                }
                if !evac {
                    _ = walk(head, old: true) { b, i, t in
                        let hash = Key.mapHash(at: Self.keyAt(b, i), seed: seed)
                        if Int(hash & oldMask) != ob { fail("old entry in wrong bucket") }
                        if MapConst.tophash(hash) != t { fail("old tophash mismatch") }
                        live += 1
                    }
                }
            }
        }
        if live != h.count { fail("count \(h.count) but \(live) live entries") }
        if h.B < 16 && chained != Int(h.noverflow) {
            fail("noverflow \(h.noverflow) but \(chained) chained overflow buckets")
        }
    }
}
