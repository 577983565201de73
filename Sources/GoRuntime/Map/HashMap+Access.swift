// Lookup, insert/update and delete: runtime/map.go mapaccess1/mapaccessK,
// mapassign, mapdelete, with the word-key variants of runtime/map_fast64.go
// (mapaccess1_fast64, mapassign_fast64, mapdelete_fast64) selected by
// `Key.mapKeyKind` (a constant once specialized).
//
// A bucket's 8 tophash bytes are tested as one word (see MapConst's
// matchingSlots): Go 1.19 loops over the slots one branch at a time; the
// slots visited, their order and the result are the same, without the
// mispredicted branch at the slot a hit lands on. Go's fast64 loops
// compare all 8 keys instead of tophashes; here only a one-bucket table
// (no hash computed) does that, as tophash filtering touches fewer cache
// lines and mispredicts less (paired A/B: hit/n=1k 17.9 -> 8.7 ns).
//
// Fast paths are @inlinable so that a client's HashMap<Int64, Int64> is
// specialized in the client: the AES hash inlines where the client is built
// with -Xcc -maes (GoBenchSuites is; elsewhere it is one call into the C
// shim) and the rest is inline loads and compares. Growth work and overflow allocation
// are outlined (HashMap+Grow.swift). For String keys a lookup makes only
// calls the optimizer knows to be read-only (the hash, the byte compare
// and the flags load, see `_readerFlags`), so the caller's key is borrowed,
// not retained and released around the lookup.
//
// Locking contract: none; a write must not run concurrently with anything
// else on the same map (checked through hashWriting, see HashMap.swift).

extension HashMap {
    // MARK: Public API

    /// The value for `key`, or nil. Setting nil deletes the key.
    @inlinable
    public subscript(key: Key) -> Value? {
        @inline(__always) get {
            guard let (b, i) = _lookup(key) else { return nil }
            return Self.valueAt(b, i).pointee
        }
        @inline(__always) set {
            if let v = newValue { _assign(key, v) } else { _delete(key) }
        }
    }

    /// Removes `key`; returns the value it had.
    @inlinable @discardableResult
    public func removeValue(forKey key: Key) -> Value? { _delete(key) }

    /// Whether `key` is present (Go's `_, ok := m[k]`).
    @inlinable
    public func contains(_ key: Key) -> Bool { _lookup(key) != nil }

    // MARK: mapaccess

    /// mapaccess1 / mapaccess1_fast64 / mapaccessK: the bucket and slot
    /// holding `key`, in the old array if its bucket is not evacuated yet.
    @inlinable @inline(__always)
    func _lookup(_ key: Key) -> (UnsafeMutableRawPointer, Int)? {
        if h.count == 0 { return nil }
        var b: UnsafeMutableRawPointer
        if Key.mapKeyKind == .word64 && h.B == 0 {
            if flags & MapConst.hashWriting != 0 { mapFatalReadWrite() }
            // One-bucket table: no need to hash (mapaccess1_fast64).
            b = h.buckets.unsafelyUnwrapped
        } else {
            let hash: UInt64
            if Key.self == String.self {
                // The writer check and the hash in one outlined read-only
                // call (see _checkedStringHash).
                let w = unsafeBitCast(key, to: StringWords.Words.self)
                hash = withExtendedLifetime(key) { _checkedStringHash(w.0, w.1) }
            } else {
                if _readerFlags & MapConst.hashWriting != 0 { mapFatalReadWrite() }
                hash = Key.mapHash(key, seed: UInt64(h.hash0))
            }
            let m = MapConst.bucketMask(h.B)
            b = h.buckets.unsafelyUnwrapped + Int(hash & m) &* Self.bucketSize
            if let old = h.oldbuckets {
                b = _oldBucketIfUnevacuated(old, hash: hash, current: b)
            }
            return Self._searchChain(b, key: key, top: MapConst.tophash(hash))
        }
        // mapaccess1_fast64's one-bucket case: compare the key words
        // directly; the tophash only tells live slots from empty ones.
        let kb = Self.keyBits(key)
        while true {
            let i = Self._word64Slot(b, kb)
            if i >= 0 { return (b, i) }
            guard let o = Self.overflow(b) else { return nil }
            b = o
        }
    }

    /// The slot of bucket `b` holding the word key `kb`, or -1: the loop of
    /// map_fast64.go, which compares the key of every slot (a fixed 8
    /// compares, no exit that depends on the data) and checks the tophash
    /// only to reject stale keys in empty slots.
    @inlinable @inline(__always)
    static func _word64Slot(_ b: UnsafeMutableRawPointer, _ kb: UInt64) -> Int {
        for i in 0..<MapConst.bucketCnt
        where keyBitsAt(b, i) == kb && !MapConst.isEmpty(tophash(b, i)) {
            return i
        }
        return -1
    }

    /// During growth: the old bucket for `hash` if it still holds its
    /// entries, else `current`.
    @inlinable @inline(__always)
    func _oldBucketIfUnevacuated(_ old: UnsafeMutableRawPointer, hash: UInt64,
                                 current: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var m = MapConst.bucketMask(h.B)
        if _readerFlags & MapConst.sameSizeGrow == 0 { m >>= 1 }  // there used to be half as many buckets
        let ob = old + Int(hash & m) &* Self.bucketSize
        return Self.evacuated(ob) ? current : ob
    }

    /// `flags` as lookups read it. For keys that are reference-counted
    /// (String) the load is outlined and declared read-only, which it is:
    /// an inline atomic load counts as an unknown side effect for Swift's
    /// ARC optimizer, which then keeps a retain and a release of the
    /// caller's key around every lookup (an atomic increment and decrement
    /// on the key's storage, ~15% of a 100k-entry String lookup). With only
    /// read-only calls in the lookup, the caller's key is borrowed instead.
    /// The price: the compiler may merge the flag loads of a loop of
    /// lookups that writes no memory, so detection of a concurrent writer
    /// there can be later (it is best effort, as in Go).
    @inlinable
    var _readerFlags: UInt8 {
        @inline(__always) get {
            if Key.mapKeyKind != .string { return flags }
            return _readerFlagsOutlined()
        }
    }

    @usableFromInline @inline(never) @_effects(readonly)
    func _readerFlagsOutlined() -> UInt8 { flags }

    /// A String lookup's first step: stop if a writer is in the map
    /// (mapaccess1_faststr's hashWriting check), then the key's hash, from
    /// the words of the live key. One outlined call where there were two
    /// (the flags load and the hash), each of which made the caller spill
    /// its registers. Declared read-only like `_readerFlagsOutlined`, with
    /// the same caveat; the fatal path is the only thing it does besides
    /// reading.
    @usableFromInline @inline(never) @_effects(readonly)
    func _checkedStringHash(_ w0: UInt64, _ w1: UInt64) -> UInt64 {
        if flags & MapConst.hashWriting != 0 { mapFatalReadWrite() }
        return _stringWordsHashBody(w0, w1, UInt64(h.hash0))
    }

    /// mapaccess1's generic loop: tophash first, then key equality; stops
    /// at emptyRest. The 8 tophashes of a bucket are compared at once
    /// (MapConst.matchingSlots), then the keys of the matching slots in
    /// slot order.
    @inlinable @inline(__always)
    static func _searchChain(_ start: UnsafeMutableRawPointer, key: Key, top: UInt8)
        -> (UnsafeMutableRawPointer, Int)?
    {
        var b = start
        while true {
            let tops = tophashes(b)
            var m = MapConst.matchingSlots(tops, top)
            while m != 0 {
                let i = MapConst.firstSlot(m)
                if Key.mapKeysEqual(at: keyAt(b, i), key) { return (b, i) }
                m &= m &- 1
            }
            if MapConst.endsChain(tops) { return nil }
            guard let o = overflow(b) else { return nil }
            b = o
        }
    }

    // MARK: mapassign

    /// mapassign / mapassign_fast64: store `value` under `key`.
    ///
    /// Word keys: inlined into the caller, AES hash included, so an insert
    /// makes no call (Go calls mapassign_fast64, which calls the hasher).
    /// With the precomputed grow limits (HMap.loadLimit), paired A/B:
    /// assign sized/1k 18.9 -> 13.2 ns, grow/100k 69.7 -> 53.9, sized/n=8
    /// 29.4 -> 25.4. Other keys: one call, as in Go (inlining the String
    /// path measured 6% slower on string16/assign).
    ///
    /// In a table far bigger than the caches, inserts still run one bucket
    /// miss at a time on machines where a load may not pass older stores
    /// whose addresses are unknown: this insert's stores go to the slot its
    /// tophash load finds, and the next insert's loads of `h.buckets`, `B`
    /// and the seed wait for them. Go's layout has this in every insert
    /// (scripts/probes/insert-store-address.c measures it).
    @inlinable @inline(__always)
    func _assign(_ key: Key, _ value: Value) {
        if Key.mapKeyKind == .word64 { _assignBody(key, value) } else { _assignOutlined(key, value) }
    }

    @inlinable
    func _assignOutlined(_ key: Key, _ value: Value) { _assignBody(key, value) }

    @inlinable @inline(__always)
    func _assignBody(_ key: Key, _ value: Value) {
        if flags & MapConst.hashWriting != 0 { mapFatalConcurrentWrites() }
        let hash = Key.mapHash(key, seed: UInt64(h.hash0))
        // Set hashWriting after hashing, as Go does (hashing may fail there).
        flags ^= MapConst.hashWriting
        if h.buckets == nil { _allocateFirstBucket() }
        let top = MapConst.tophash(hash)
        let kb = Key.mapKeyKind == .word64 ? Self.keyBits(key) : 0

        while true {  // again:
            let bucket = Int(hash & MapConst.bucketMask(h.B))
            if h.oldbuckets != nil { _growWork(bucket) }
            var b = h.buckets.unsafelyUnwrapped + bucket &* Self.bucketSize
            var insertb: UnsafeMutableRawPointer? = nil
            var inserti = 0

            bucketloop: while true {
                let tops = Self.tophashes(b)
                let empty = MapConst.emptySlots(tops)
                if insertb == nil && empty != 0 { insertb = b; inserti = MapConst.firstSlot(empty) }
                var m = MapConst.matchingSlots(tops, top)
                while m != 0 {
                    let i = MapConst.firstSlot(m)
                    m &= m &- 1
                    if Key.mapKeyKind == .word64 {
                        if Self.keyBitsAt(b, i) != kb { continue }
                    } else {
                        if !Key.mapKeysEqual(at: Self.keyAt(b, i), key) { continue }
                        // Go's needkeyupdate (strings): keep the new key.
                        if Key.mapKeyKind == .string { Self.keyAt(b, i).pointee = key }
                    }
                    // Already have a mapping for key: update it.
                    Self.valueAt(b, i).pointee = value
                    _endWrite()
                    return
                }
                if MapConst.endsChain(tops) { break }
                guard let o = Self.overflow(b) else { break }
                b = o
            }

            // Not found. If we hit the load factor or have too many overflow
            // buckets, and are not already growing, start growing and retry
            // (growing invalidates everything).
            if h.oldbuckets == nil && h.insertNeedsGrow() {
                _hashGrow()
                continue
            }
            if insertb == nil {
                // The bucket and its chain are full: chain a new one.
                insertb = _newOverflow(b)
                inserti = 0
            }
            let ib = insertb.unsafelyUnwrapped
            Self.setTophash(ib, inserti, top)
            Self.keyAt(ib, inserti).initialize(to: key)
            Self.valueAt(ib, inserti).initialize(to: value)
            h.count &+= 1
            _endWrite()
            return
        }
    }

    /// The end of every write: the flag must still be ours.
    @inlinable @inline(__always)
    func _endWrite() {
        let f = flags
        if f & MapConst.hashWriting == 0 { mapFatalConcurrentWrites() }
        flags = f & ~MapConst.hashWriting
    }

    // MARK: mapdelete

    /// mapdelete / mapdelete_fast64: remove `key`, returning its value.
    @inlinable @discardableResult
    func _delete(_ key: Key) -> Value? {
        if h.count == 0 { return nil }
        if flags & MapConst.hashWriting != 0 { mapFatalConcurrentWrites() }
        let hash = Key.mapHash(key, seed: UInt64(h.hash0))
        flags ^= MapConst.hashWriting

        let bucket = Int(hash & MapConst.bucketMask(h.B))
        if h.oldbuckets != nil { _growWork(bucket) }
        let bOrig = h.buckets.unsafelyUnwrapped + bucket &* Self.bucketSize
        var b = bOrig
        let top = MapConst.tophash(hash)
        let kb = Key.mapKeyKind == .word64 ? Self.keyBits(key) : 0
        var result: Value? = nil

        search: while true {
            var found = -1
            let tops = Self.tophashes(b)
            if Key.mapKeyKind == .word64 {
                found = Self._word64Slot(b, kb)
            } else {
                var m = MapConst.matchingSlots(tops, top)
                while m != 0 {
                    let i = MapConst.firstSlot(m)
                    if Key.mapKeysEqual(at: Self.keyAt(b, i), key) { found = i; break }
                    m &= m &- 1
                }
            }
            if found < 0 && MapConst.endsChain(tops) { break search }
            if found >= 0 {
                let i = found
                Self.keyAt(b, i).deinitialize(count: 1)
                result = Self.valueAt(b, i).move()
                Self.setTophash(b, i, MapConst.emptyOne)
                Self._collapseEmptyRest(bOrig, b, i)
                h.count &-= 1
                if h.count == 0 {
                    // Reset the seed so collisions are harder to engineer
                    // (Go issue 25237).
                    h.hash0 = UInt32(truncatingIfNeeded: MapHash.fastrand64())
                }
                break search
            }
            guard let o = Self.overflow(b) else { break }
            b = o
        }
        _endWrite()
        return result
    }

    /// After slot i of b became emptyOne: if nothing live follows it in the
    /// chain, turn it and the run of emptyOne slots before it into
    /// emptyRest, walking back across buckets of the chain from bOrig.
    @inlinable @inline(__always)
    static func _collapseEmptyRest(_ bOrig: UnsafeMutableRawPointer,
                                   _ bIn: UnsafeMutableRawPointer, _ iIn: Int) {
        var b = bIn
        var i = iIn
        if i == MapConst.bucketCnt - 1 {
            if let o = overflow(b), tophash(o, 0) != MapConst.emptyRest { return }
        } else if tophash(b, i + 1) != MapConst.emptyRest {
            return
        }
        while true {
            setTophash(b, i, MapConst.emptyRest)
            if i == 0 {
                if b == bOrig { break }  // beginning of the chain
                // Find the previous bucket; continue at its last slot.
                let c = b
                b = bOrig
                while overflow(b) != c { b = overflow(b).unsafelyUnwrapped }
                i = MapConst.bucketCnt - 1
            } else {
                i -= 1
            }
            if tophash(b, i) != MapConst.emptyOne { break }
        }
    }
}
