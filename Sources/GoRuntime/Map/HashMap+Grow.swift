// Growth: runtime/map.go makeBucketArray, newoverflow, incrnoverflow,
// hashGrow, growWork, evacuate, advanceEvacuationMark.
//
// Stages of a grow:
//   1. hashGrow (on an insert that would pass the load factor, or with too
//      many overflow buckets): allocate the new array (double, or same size),
//      move the current array to `oldbuckets`, reset nevacuate and noverflow.
//      No entry moves yet.
//   2. growWork, on every later assign and delete while growing: evacuate the
//      old bucket the write is about to use, then the oldest unevacuated one
//      (nevacuate), so growth finishes after at most 2^oldB writes.
//   3. evacuate(i): copy each live entry of old bucket i (and its chain) to
//      new bucket i (X) or, when doubling, i + 2^oldB (Y) if the hash has
//      bit 2^oldB set; mark each old slot evacuatedX/Y/Empty. As in Go, the
//      two destinations are an array indexed by that bit (xy [2]evacDst),
//      so the per-entry coin flip costs no branch.
//   4. advanceEvacuationMark: when every old bucket is evacuated, drop
//      `oldbuckets` (the storage is freed once no iterator holds it).
//
// All of this runs with hashWriting held by the caller (a write in progress).
// These functions are outlined (@inline(never)) but @inlinable so that they
// are specialized for the client's Key and Value.

#if canImport(Glibc)
import Glibc
#endif

/// Go's evacDst: where evacuation writes next (a bucket of the new array
/// and the next free slot in it).
@usableFromInline
struct EvacDst {
    @usableFromInline var b: UnsafeMutableRawPointer
    @usableFromInline var i: Int
    @inlinable init(b: UnsafeMutableRawPointer, i: Int) { self.b = b; self.i = i }
}

extension HashMap {
    /// Go's roundupsize for the size classes of runtime/sizeclasses.go
    /// (class_to_size), then whole 8 KiB pages above 32 KiB. Used only to
    /// size the preallocated overflow area as Go does.
    @usableFromInline
    static func roundupsize(_ size: Int) -> Int {
        let classToSize: [Int] = [
            0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
            288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
            1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
            6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
            20480, 21760, 24576, 27264, 28672, 32768,
        ]
        if size < 32768 {
            for c in classToSize where c >= size { return c }
        }
        let page = 8192
        return (size + page - 1) / page * page
    }

    /// makeBucketArray: 2^b buckets plus, for b >= 4, about 2^(b-4)
    /// preallocated overflow buckets (rounded up to the allocation's size
    /// class). The last preallocated bucket's overflow pointer is set to a
    /// non-nil sentinel (the array's base) to mark the end of the free run.
    @inlinable
    func makeBucketArray(_ b: UInt8) -> (BucketStorage<Key, Value>, UnsafeMutableRawPointer?) {
        let base = 1 << Int(b)
        var nbuckets = base
        if b >= 4 {
            nbuckets += 1 << Int(b - 4)
            let sz = Self.bucketSize * nbuckets
            let up = Self.roundupsize(sz)
            if up != sz { nbuckets = up / Self.bucketSize }
        }
        let s = BucketStorage<Key, Value>.make(buckets: nbuckets)
        var next: UnsafeMutableRawPointer? = nil
        if base != nbuckets {
            next = s.base + base * Self.bucketSize
            Self.setOverflow(s.base + (nbuckets - 1) * Self.bucketSize, s.base)
        }
        return (s, next)
    }

    /// The first bucket of a map made with B == 0 (makemap_small; Go's
    /// mapassign allocates it when h.buckets is nil). Owned by the map
    /// (`firstBucket`), not by a storage.
    @inlinable @inline(never)
    func _allocateFirstBucket() {
        let b = Self.allocateZeroedBucket()
        firstBucket = b
        h.buckets = b
    }

    /// incrnoverflow: exact up to B = 15; above, incremented with
    /// probability 1/2^(B-15) so a UInt16 can still count to ~2^B.
    @inlinable @inline(__always)
    func _incrNoverflow() {
        let B = h.B
        if B < 16 {
            h.noverflow &+= 1
            return
        }
        let mask = (UInt32(1) << UInt32(B - 15)) - 1
        if UInt32(truncatingIfNeeded: MapHash.fastrand64()) & mask == 0 {
            h.noverflow &+= 1
        }
    }

    /// newoverflow: chain a zeroed bucket after `b` (which belongs to the
    /// current array): a preallocated one if any is left, else a new
    /// allocation recorded in the current storage.
    @inlinable @inline(never)
    func _newOverflow(_ b: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let ovf: UnsafeMutableRawPointer
        if let next = h.nextOverflow {
            ovf = next
            if Self.overflow(ovf) == nil {
                // Not the last preallocated bucket: bump the pointer.
                h.nextOverflow = ovf + Self.bucketSize
            } else {
                // The last one: clear its sentinel.
                Self.setOverflow(ovf, nil)
                h.nextOverflow = nil
            }
        } else {
            ovf = Self.allocateZeroedBucket()
            // The current array is never the first bucket here (it never
            // overflows: see `firstBucket`), so it has a storage.
            guard let s = storage else { goFatal("overflow bucket on a map's first bucket") }
            s.appendOverflow(ovf)
        }
        _incrNoverflow()
        h.overflowAllocations += 1
        Self.setOverflow(b, ovf)
        return ovf
    }

    /// hashGrow: start growing. Doubles if the next insert would pass the
    /// load factor; otherwise (too many overflow buckets) keeps the size.
    @inlinable @inline(never)
    func _hashGrow() {
        var bigger: UInt8 = 1
        var f = flags
        if !MapConst.overLoadFactor(h.count + 1, h.B) {
            bigger = 0
            f |= MapConst.sameSizeGrow
            h.sameSizeGrows += 1
        }
        let (newStorage, nextOverflow) = makeBucketArray(h.B + bigger)
        // An iterator on the current array is now an iterator on the old one.
        var nf = f & ~(MapConst.iterator | MapConst.oldIterator)
        if f & MapConst.iterator != 0 { nf |= MapConst.oldIterator }
        // Commit the grow.
        h.setB(h.B + bigger)
        flags = nf
        h.oldbuckets = h.buckets
        h.buckets = newStorage.base
        h.nevacuate = 0
        h.noverflow = 0
        h.nextOverflow = nextOverflow
        h.grows += 1
        oldStorage = storage  // Go: extra.oldoverflow = extra.overflow
        storage = newStorage
    }

    /// Buckets before the current growth (Go's noldbuckets).
    @inlinable @inline(__always)
    var _noldbuckets: Int {
        var oldB = h.B
        if flags & MapConst.sameSizeGrow == 0 { oldB -= 1 }
        return 1 << Int(oldB)
    }

    /// growWork: evacuate the old bucket behind `bucket`, then one more.
    @inlinable @inline(never)
    func _growWork(_ bucket: Int) {
        _evacuate(bucket & (_noldbuckets - 1))
        if h.oldbuckets != nil { _evacuate(h.nevacuate) }
    }

    /// evacuate: move old bucket `oldbucket` and its chain into the new
    /// array (X, and Y when doubling).
    ///
    /// While an iterator may be reading the old array (oldIterator), entries
    /// are copied: the old slots, marked evacuatedX/Y, keep their key for
    /// the iterator's lookup and are released with the array. Otherwise,
    /// for keys or values that need deinitialization, entries are moved and
    /// the old slot is marked evacuatedEmpty (Go keeps the X/Y mark and
    /// clears the memory for its GC; only an iterator that predates
    /// oldIterator's clearing could tell, and none exists). Trivial types
    /// are always copied with Go's marks: a copy costs nothing there.
    @inlinable @inline(never)
    func _evacuate(_ oldbucket: Int) {
        let size = Self.bucketSize
        let newbit = _noldbuckets
        let f = flags
        let sameSize = f & MapConst.sameSizeGrow != 0
        let moveOut = (!_isPOD(Key.self) || !_isPOD(Value.self)) && f & MapConst.oldIterator == 0
        let first = h.oldbuckets.unsafelyUnwrapped + oldbucket * size
        if !Self.evacuated(first) {
            // Go's xy [2]evacDst: the X (index 0) and Y (index 1)
            // destinations, each a bucket and its next free slot, indexed by
            // the hash bit so that choosing one costs no branch (it is a coin
            // flip per entry).
            withUnsafeTemporaryAllocation(of: EvacDst.self, capacity: 2) { xy in
                let base = h.buckets.unsafelyUnwrapped
                let x = xy.baseAddress.unsafelyUnwrapped
                x.initialize(to: EvacDst(b: base + oldbucket * size, i: 0))
                // Only use Y when doubling; a same-size grow has one destination.
                (x + 1).initialize(to: sameSize ? x.pointee : EvacDst(b: base + (oldbucket + newbit) * size, i: 0))
                let newbitShift = UInt64(newbit.trailingZeroBitCount)
                let seed = UInt64(h.hash0)
                var ob: UnsafeMutableRawPointer? = first
                while let b = ob {
                    for i in 0..<MapConst.bucketCnt {
                        let top = Self.tophash(b, i)
                        if MapConst.isEmpty(top) {
                            Self.setTophash(b, i, MapConst.evacuatedEmpty)
                            continue
                        }
                        if top < MapConst.minTopHash { goFatal("bad map state") }
                        let k = Self.keyAt(b, i)
                        var useY = 0
                        if !sameSize {
                            // The hash bit the doubled mask adds picks X or Y.
                            let hash = Key.mapHash(at: k, seed: seed)
                            useY = Int(truncatingIfNeeded: (hash >> newbitShift) & 1)
                        }
                        // evacuatedX + 1 == evacuatedY.
                        Self.setTophash(b, i, moveOut ? MapConst.evacuatedEmpty
                                                   : MapConst.evacuatedX &+ UInt8(truncatingIfNeeded: useY))
                        let dst = x + useY
                        if dst.pointee.i == MapConst.bucketCnt {
                            dst.pointee.b = _newOverflow(dst.pointee.b)
                            dst.pointee.i = 0
                        }
                        let db = dst.pointee.b, di = dst.pointee.i
                        dst.pointee.i = di + 1
                        Self.setTophash(db, di, top)
                        if moveOut {
                            Self.keyAt(db, di).moveInitialize(from: k, count: 1)
                            Self.valueAt(db, di).moveInitialize(from: Self.valueAt(b, i), count: 1)
                        } else {
                            Self.keyAt(db, di).initialize(to: k.pointee)
                            Self.valueAt(db, di).initialize(to: Self.valueAt(b, i).pointee)
                        }
                    }
                    ob = Self.overflow(b)
                }
            }
            h.evacuations += 1
        }
        if oldbucket == h.nevacuate { _advanceEvacuationMark(newbit) }
    }

    /// advanceEvacuationMark: move nevacuate past evacuated buckets (at most
    /// 1024 per call, to stay O(1)); finish the grow when all are done.
    @inlinable
    func _advanceEvacuationMark(_ newbit: Int) {
        h.nevacuate += 1
        let stop = Swift.min(h.nevacuate + 1024, newbit)
        let old = h.oldbuckets.unsafelyUnwrapped
        while h.nevacuate != stop && Self.evacuated(old + h.nevacuate * Self.bucketSize) {
            h.nevacuate += 1
        }
        if h.nevacuate == newbit {
            // Growing is done: release the old array (and its overflow
            // buckets) unless an iterator still holds it.
            h.oldbuckets = nil
            oldStorage = nil
            flags = flags & ~MapConst.sameSizeGrow
        }
    }
}
