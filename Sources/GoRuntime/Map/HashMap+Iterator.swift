// Iteration: runtime/map.go mapiterinit and mapiternext.
//
// The iterator snapshots B and the bucket array at its start, picks a random
// start bucket and a random slot offset (applied in every bucket), and
// visits each bucket of its snapshot once, wrapping around. What it
// guarantees, as Go does: an entry present for the whole iteration is
// returned exactly once; an entry deleted before the iterator reaches it is
// not returned; entries inserted meanwhile may or may not be.
//
// Growth while iterating:
//   - if the iterator started during a grow that is still going on (same B),
//     each bucket whose old bucket is not evacuated yet is read from the
//     old array, keeping only the entries bound for the bucket being visited
//     (on a doubling, an old bucket feeds two new ones);
//   - an entry found in an evacuated slot (evacuatedX/Y: the array grew
//     after the iterator started) is only a copy: the key is looked up in
//     the current table, which gives the live value, or skips it if deleted.
//
// Lifetime: the iterator holds the map, the storage of its snapshot array
// and, while it walks an old bucket chain, that storage too, so freeing an
// old array after growth never leaves it reading freed memory.
//
// Concurrency: iterators may run concurrently with readers and each other;
// mapiterinit sets the iterator flags with an atomic OR. A write seen in
// progress is fatal ("concurrent map iteration and map write").

import Synchronization

extension HashMap: Sequence {
    public typealias Element = (key: Key, value: Value)

    /// mapiterinit.
    @inlinable
    public func makeIterator() -> Iterator { Iterator(self) }

    /// Go's hiter.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let map: HashMap
        /// Owner of `buckets` (the snapshot array).
        @usableFromInline var bucketsOwner: BucketStorage<Key, Value>?
        /// Owner of the chain `bptr` walks when it is in an old array.
        @usableFromInline var chainOwner: BucketStorage<Key, Value>?
        @usableFromInline var buckets: UnsafeMutableRawPointer?
        @usableFromInline var B: UInt8 = 0
        @usableFromInline var startBucket = 0
        @usableFromInline var offset = 0
        @usableFromInline var wrapped = false
        @usableFromInline var bucket = 0
        @usableFromInline var bptr: UnsafeMutableRawPointer? = nil
        /// The slots of `bptr` still to visit: those that held an entry when
        /// the iterator reached the bucket, as a byte mask in visiting
        /// order (see `_slotsToVisit`). Go's hiter walks an index `i`
        /// over all 8 slots instead, one unpredictable branch per slot.
        @usableFromInline var pending: UInt64 = 0
        @usableFromInline var checkBucket = MapConst.noCheck
        @usableFromInline var done = false

        @inlinable
        init(_ map: HashMap) {
            self.map = map
            if map.h.count == 0 {
                done = true
                return
            }
            // Snapshot of the bucket state.
            B = map.h.B
            buckets = map.h.buckets
            bucketsOwner = map.storage
            // Where to start.
            let r = MapHash.fastrand64()
            startBucket = Int(r & MapConst.bucketMask(B))
            offset = Int((r >> UInt64(B)) & UInt64(MapConst.bucketCnt - 1))
            bucket = startBucket
            // Remember we have an iterator (may race with other iterators'
            // init: an atomic OR).
            let both = MapConst.iterator | MapConst.oldIterator
            if map.flags & both != both {
                map.flagsWord.bitwiseOr(both, ordering: .relaxed)
            }
        }

        /// mapiternext. The common step is inline: the next pending slot of
        /// a bucket of the current array still holds a live entry that has
        /// not been evacuated (tophash >= minTopHash), and no old bucket is
        /// being filtered. Everything else (moving to the next bucket or
        /// overflow bucket, growth, entries deleted or moved since the
        /// bucket was reached, the end) is `_nextSlow`, Go's loop.
        @inlinable @inline(__always)
        public mutating func next() -> (key: Key, value: Value)? {
            typealias M = HashMap<Key, Value>
            if pending != 0 && checkBucket == MapConst.noCheck {
                let b = bptr.unsafelyUnwrapped
                let offi = _nextPendingSlot
                if M.tophash(b, offi) >= MapConst.minTopHash {
                    if map.flags & MapConst.hashWriting != 0 { mapFatalIterationWrite() }
                    pending &= pending &- 1
                    return (M.keyAt(b, offi).pointee, M.valueAt(b, offi).pointee)
                }
            }
            return _nextSlow()
        }

        @inlinable
        mutating func _nextSlow() -> (key: Key, value: Value)? {
            if done { return nil }
            typealias M = HashMap<Key, Value>
            if map.flags & MapConst.hashWriting != 0 { mapFatalIterationWrite() }
            let size = M.bucketSize
            while true {
                if bptr == nil {
                    if bucket == startBucket && wrapped {
                        done = true
                        chainOwner = nil
                        bucketsOwner = nil
                        return nil
                    }
                    var oldBucket: UnsafeMutableRawPointer? = nil
                    if let old = map.h.oldbuckets, B == map.h.B {
                        // Started mid-grow and the grow is not done: read
                        // the old bucket if it has not been evacuated.
                        let ob = old + (bucket & (map._noldbuckets &- 1)) &* size
                        if !M.evacuated(ob) { oldBucket = ob }
                    }
                    if let ob = oldBucket {
                        bptr = ob
                        checkBucket = bucket
                        if chainOwner !== map.oldStorage { chainOwner = map.oldStorage }
                    } else {
                        bptr = buckets.unsafelyUnwrapped + bucket &* size
                        checkBucket = MapConst.noCheck
                        if chainOwner != nil { chainOwner = nil }
                    }
                    bucket &+= 1
                    if bucket == 1 &<< Int(B) {
                        bucket = 0
                        wrapped = true
                    }
                    pending = Self._slotsToVisit(bptr.unsafelyUnwrapped, offset: offset)
                }
                let b = bptr.unsafelyUnwrapped
                while pending != 0 {
                    let offi = _nextPendingSlot
                    pending &= pending &- 1
                    // Read again: the slot may have been emptied since.
                    let t = M.tophash(b, offi)
                    if !MapConst.isInitialized(t) { continue }
                    let k = M.keyAt(b, offi)
                    if checkBucket != MapConst.noCheck && map.flags & MapConst.sameSizeGrow == 0 {
                        // Reading an unevacuated old bucket during a doubling:
                        // skip entries bound for the other new bucket.
                        let hash = Key.mapHash(at: k, seed: UInt64(map.h.hash0))
                        if Int(hash & MapConst.bucketMask(B)) != checkBucket { continue }
                    }
                    if t != MapConst.evacuatedX && t != MapConst.evacuatedY {
                        // The golden data.
                        return (k.pointee, M.valueAt(b, offi).pointee)
                    }
                    // The table grew since we started: the live entry (if any)
                    // is elsewhere (mapaccessK).
                    guard let (nb, ni) = map._lookup(k.pointee) else { continue }
                    return (M.keyAt(nb, ni).pointee, M.valueAt(nb, ni).pointee)
                }
                bptr = M.overflow(b)
                if let o = bptr { pending = Self._slotsToVisit(o, offset: offset) }
            }
        }

        /// The slot the lowest byte of a nonzero `pending` stands for.
        @inlinable @inline(__always)
        var _nextPendingSlot: Int {
            (MapConst.firstSlot(pending) &+ offset) & (MapConst.bucketCnt - 1)
        }

        /// The slots of bucket `b` holding an entry (tophash not emptyRest,
        /// emptyOne or evacuatedEmpty), as a byte mask rotated so that byte
        /// k stands for slot (k + offset) mod 8: mapiternext's visiting
        /// order, lowest byte first. Slots filled after this is taken are
        /// not visited, which Go allows for entries inserted during
        /// iteration.
        @inlinable @inline(__always)
        static func _slotsToVisit(_ b: UnsafeMutableRawPointer, offset: Int) -> UInt64 {
            let t = HashMap.tophashes(b)
            let vacant = MapConst.emptySlots(t) | MapConst.matchingSlots(t, MapConst.evacuatedEmpty)
            let occupied = ~vacant & (MapConst.lowBits &<< 7)
            let shift = UInt64(offset &* 8)
            return (occupied >> shift) | (occupied << (64 &- shift))
        }
    }
}
