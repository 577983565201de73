// HashMap: Go 1.19's classic bucket hash map (runtime/map.go), in Swift.
//
// A map is a header (`HMap`, Go's hmap) and an array of 2^B buckets. Each
// bucket holds 8 entries laid out contiguously in memory we allocate:
//
//     tophash [8]UInt8 | 8 keys | 8 values | overflow pointer
//
// (keys together, then values, as Go does to avoid padding between a key and
// its value). The low B bits of a key's hash pick its bucket; the top 8 bits
// (`tophash`, bumped above the sentinels) are stored per slot so a lookup
// rejects most slots with a one-byte compare before touching keys. When a
// bucket's 8 slots are full, further entries go to a chain of overflow
// buckets.
//
// Growth. When an insert would take the average load above 6.5 entries per
// bucket (loadFactorNum/loadFactorDen = 13/2), the table doubles; when there
// are about as many overflow buckets as buckets while the load is low (a map
// that grew and shrank), it "grows" to the same size to compact the chains.
// Growth is incremental: `hashGrow` only allocates the new array and keeps
// the old one as `oldbuckets`; each later assign or delete evacuates the old
// bucket it is about to use plus one more (`growWork`), splitting the old
// bucket i of a doubling between new buckets i (X) and i + 2^(B-1) (Y) by
// the hash bit that the larger mask adds. Lookups during growth read the old
// bucket if it has not been evacuated yet.
//
// Iteration starts at a random bucket and a random slot offset and walks all
// buckets once; during growth it reads not-yet-evacuated old buckets and
// filters them to the entries bound for the bucket it is visiting, and for
// entries found in evacuated old buckets it looks the key up in the current
// table (the live value, or nothing if it was deleted). See
// HashMap+Iterator.swift.
//
// Tophash values below minTopHash are sentinels (documented where they are
// declared below). Invariants, checked by `checkInvariants()`:
//   - a slot's key and value are initialized exactly when its tophash is
//     not emptyRest, emptyOne or evacuatedEmpty (see `isInitialized`);
//     evacuated slots (evacuatedX/Y) keep an initialized *copy* until their
//     array is freed, which is what lets an iterator that started on the old
//     array read them (entries moved out with no iterator around are marked
//     evacuatedEmpty instead, see evacuate);
//   - in a bucket chain, every slot after an emptyRest is emptyRest;
//   - the current array holds no evacuated* marks; an old bucket is either
//     entirely in evacuated* states or in none of them;
//   - every live entry sits in the chain its hash selects and its tophash
//     matches; `count` is the number of live entries;
//   - old buckets below `nevacuate` are evacuated; `oldbuckets` is nil when
//     not growing, and the sameSizeGrow flag is clear then;
//   - with B < 16, `noverflow` equals the overflow buckets chained into the
//     current array;
//   - `buckets` (and `oldbuckets`) is owned by `storage` (`oldStorage`), or
//     is the map's `firstBucket` with no storage; the first bucket never
//     has an overflow chain (a full one-bucket table always doubles).
//
// Memory. A map costs what a Go map costs: the HashMap object holds Go's
// hmap fields inline (`h`, plus the flags byte), and a map made with B == 0
// (no hint, or a hint of at most 8) allocates nothing more until its first
// insert, which allocates its one bucket (makemap_small, then mapassign's
// `h.buckets == nil` case): two allocations for a small map, as Go's
// hmap plus bucket. That first bucket is owned by the map itself
// (`firstBucket`) and freed with it: an iterator holds the map, so an
// iterator that started on it can keep reading it after growth retires it,
// and it keeps any evacuated copies until then (at most 8 entries, only
// when an iterator existed during that growth). Every later bucket array
// (and the overflow buckets allocated for it) is owned by a
// `BucketStorage` object with the array tail-allocated inside it (one
// allocation per array; the storage types are in HashMap+Storage.swift);
// the map holds the current and, while growing, the old one. An iterator
// holds the storages it reads, so an array
// outlives the growth that retired it while an iterator still walks it (Go
// relies on its GC for this). Arrays of 1 MiB and more come from
// `LargeBucketArrays` instead: mapped on 2 MiB boundaries with transparent
// huge pages requested, as Go's heap requests them (mem_linux.go), and the
// most recently freed one reused. Keys and values may be any Swift types;
// storage deinitializes what is initialized when freed.
//
// Concurrency, as in Go: any number of concurrent readers (lookups and
// iterators), or one writer and nothing else. A writer sets the hashWriting
// flag for the duration of the write; a second writer, a reader or an
// iterator that sees it stops the process ("concurrent map writes",
// "concurrent map read and map write", "concurrent map iteration and map
// write"). Detection is best effort, as in Go. The flags byte is accessed
// with relaxed atomics (plain moves on x86) so that concurrent readers,
// which may set the iterator bits, are race-free.
//
// Deliberate differences from Go: no indirect (boxed) keys or values above
// 128 bytes (Swift values are stored inline whatever their size); no NaN
// handling (MapKey equality must be reflexive); the one-bucket no-hash
// shortcut of mapaccess1_faststr is not ported; tophashes are compared a
// bucket at a time (SWAR, HashMap+Access.swift), and word keys in tables of
// more than one bucket are filtered by tophash rather than by comparing
// all 8 keys as map_fast64.go does; the first bucket lives as
// long as the map (above). Go's hmap.extra.overflow / oldoverflow lists
// live in the two BucketStorage objects (as a list linked through a word
// after each separately allocated overflow bucket). Not in Go's hmap:
// `loadLimit` and `overflowLimit`, mapassign's two grow tests precomputed
// from B. Word-key inserts are inlined into their caller, hash included
// (see `_assign`).

import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Map constants and tophash sentinels (runtime/map.go).
@usableFromInline
enum MapConst {
    /// Entries per bucket is 1 << bucketCntBits.
    @inlinable static var bucketCntBits: Int { 3 }
    /// Maximum key/value pairs a bucket holds.
    @inlinable static var bucketCnt: Int { 8 }
    /// Growth starts when count > loadFactorNum * (2^B / loadFactorDen):
    /// an average of 6.5 entries per bucket.
    @inlinable static var loadFactorNum: Int { 13 }
    @inlinable static var loadFactorDen: Int { 2 }

    // Tophash sentinels.
    /// This slot is empty, and so is every later slot and overflow bucket.
    @inlinable static var emptyRest: UInt8 { 0 }
    /// This slot is empty (a later one may be full).
    @inlinable static var emptyOne: UInt8 { 1 }
    /// Entry moved to the first (X) half of the larger table; the slot still
    /// holds a copy for iterators.
    @inlinable static var evacuatedX: UInt8 { 2 }
    /// Entry moved to the second (Y) half of the larger table.
    @inlinable static var evacuatedY: UInt8 { 3 }
    /// Slot was empty when its bucket was evacuated.
    @inlinable static var evacuatedEmpty: UInt8 { 4 }
    /// Smallest tophash of a live entry; computed tophashes below it are
    /// bumped up by minTopHash.
    @inlinable static var minTopHash: UInt8 { 5 }

    // hmap.flags bits.
    /// There may be an iterator using `buckets`.
    @inlinable static var iterator: UInt8 { 1 }
    /// There may be an iterator using `oldbuckets`.
    @inlinable static var oldIterator: UInt8 { 2 }
    /// A writer is inside assign or delete.
    @inlinable static var hashWriting: UInt8 { 4 }
    /// The current growth keeps the same number of buckets.
    @inlinable static var sameSizeGrow: UInt8 { 8 }

    /// Iterator sentinel: no bucket filter.
    @inlinable static var noCheck: Int { -1 }

    // Tophash bytes as one word. A bucket's 8 tophash bytes, loaded as a
    // little-endian UInt64, are tested together (SWAR) instead of one
    // branch per slot: the slot a hit lands on is random, so per-slot
    // branches mispredict once per lookup, and a mispredict discards the
    // next lookups' work that the CPU had started while this one waited for
    // its bucket. The masks below have the high bit of byte i set when
    // slot i qualifies, and are exact (no false positives); slot order is
    // kept by taking the lowest set bit first.

    /// 0x01 in every byte.
    @inlinable static var lowBits: UInt64 { 0x0101_0101_0101_0101 }
    /// 0x7F in every byte.
    @inlinable static var low7Bits: UInt64 { 0x7F7F_7F7F_7F7F_7F7F }

    /// The high bit of each byte of `x` that is zero.
    @inlinable @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        ~(((x & low7Bits) &+ low7Bits) | x | low7Bits)
    }

    /// Slots whose tophash equals `top`.
    @inlinable @inline(__always)
    static func matchingSlots(_ tophashes: UInt64, _ top: UInt8) -> UInt64 {
        zeroBytes(tophashes ^ (UInt64(top) &* lowBits))
    }

    /// Slots that are emptyRest or emptyOne (Go's isEmpty: 0 or 1).
    @inlinable @inline(__always)
    static func emptySlots(_ tophashes: UInt64) -> UInt64 {
        zeroBytes(tophashes & ~lowBits)
    }

    /// The first slot of a nonzero slot mask.
    @inlinable @inline(__always)
    static func firstSlot(_ mask: UInt64) -> Int { mask.trailingZeroBitCount &>> 3 }

    /// Whether a bucket ends its chain's live entries: Go's loops stop at
    /// the first emptyRest, and every slot after an emptyRest is emptyRest,
    /// so the last slot tells.
    @inlinable @inline(__always)
    static func endsChain(_ tophashes: UInt64) -> Bool { tophashes &>> 56 == UInt64(emptyRest) }

    /// Go's isEmpty: emptyRest or emptyOne.
    @inlinable @inline(__always)
    static func isEmpty(_ x: UInt8) -> Bool { x <= emptyOne }

    /// Whether a slot with tophash `t` holds an initialized key and value:
    /// neither empty nor evacuatedEmpty (see the invariants in the header).
    @inlinable @inline(__always)
    static func isInitialized(_ t: UInt8) -> Bool { t > emptyOne && t != evacuatedEmpty }

    /// Go's tophash(hash): the top byte, kept clear of the sentinels.
    @inlinable @inline(__always)
    static func tophash(_ hash: UInt64) -> UInt8 {
        let top = UInt8(truncatingIfNeeded: hash >> 56)
        return top < minTopHash ? top &+ minTopHash : top
    }

    /// Whether `count` entries in 2^B buckets exceed the load factor.
    @inlinable @inline(__always)
    static func overLoadFactor(_ count: Int, _ B: UInt8) -> Bool {
        count > bucketCnt && count > loadFactorNum &* ((1 &<< Int(B)) / loadFactorDen)
    }

    /// Whether noverflow overflow buckets are too many for 2^B buckets:
    /// about as many overflow buckets as buckets (B capped at 15, the
    /// range incrnoverflow can count to).
    @inlinable @inline(__always)
    static func tooManyOverflowBuckets(_ noverflow: UInt16, _ B: UInt8) -> Bool {
        let b = B > 15 ? 15 : B
        return noverflow >= UInt16(1) << UInt16(b & 15)
    }

    /// The largest count that does not exceed the load factor in 2^B
    /// buckets: overLoadFactor(count, B) == (count > loadLimit(B)).
    @inlinable
    static func loadLimit(_ B: UInt8) -> Int {
        Swift.max(bucketCnt, loadFactorNum &* ((1 &<< Int(B)) / loadFactorDen))
    }

    /// tooManyOverflowBuckets(noverflow, B) == (noverflow >= overflowLimit(B)).
    @inlinable
    static func overflowLimit(_ B: UInt8) -> UInt16 {
        UInt16(1) << UInt16(Swift.min(B, 15))
    }

    /// 2^B - 1.
    @inlinable @inline(__always)
    static func bucketMask(_ B: UInt8) -> UInt64 { (UInt64(1) << UInt64(B & 63)) &- 1 }
}

/// Go's hmap: the map header, stored inline in the HashMap object (one
/// allocation, as Go's *hmap is one). `flags` is not here: it lives in the
/// object as an `Atomic<UInt8>` (`HashMap.flagsWord`), because concurrent
/// readers may set the iterator bits.
@usableFromInline
struct HMap {
    /// Live entries (len(m)).
    @usableFromInline var count: Int = 0
    /// log2 of the number of buckets.
    @usableFromInline var B: UInt8 = 0
    /// Overflow buckets allocated since the last grow: exact for B < 16,
    /// sampled above (incrnoverflow).
    @usableFromInline var noverflow: UInt16 = 0
    /// Per-map hash seed.
    @usableFromInline var hash0: UInt32 = 0
    /// 2^B buckets; nil until the first insert of a map made with B == 0
    /// (no hint, or a hint of at most 8: makemap_small / makemap leave it
    /// to mapassign).
    @usableFromInline var buckets: UnsafeMutableRawPointer? = nil
    /// The previous array (half the size, or the same size), while growing.
    @usableFromInline var oldbuckets: UnsafeMutableRawPointer? = nil
    /// Evacuation progress: old buckets below this are evacuated.
    @usableFromInline var nevacuate: Int = 0
    /// Next free preallocated overflow bucket of `buckets` (mapextra).
    @usableFromInline var nextOverflow: UnsafeMutableRawPointer? = nil

    // Not in Go: mapassign's grow test, precomputed from B (by `setB`) so
    // that an insert makes two compares instead of recomputing both limits.
    /// overLoadFactor(count, B) == (count > loadLimit).
    @usableFromInline var loadLimit: Int = MapConst.loadLimit(0)
    /// tooManyOverflowBuckets(noverflow, B) == (noverflow >= overflowLimit).
    @usableFromInline var overflowLimit: UInt16 = MapConst.overflowLimit(0)

    // Event counters (not in Go), for benchmarks and tests.
    /// Old buckets evacuated, ever.
    @usableFromInline var evacuations: Int = 0
    /// Overflow buckets taken (preallocated or allocated), ever.
    @usableFromInline var overflowAllocations: Int = 0
    /// Grows started (doubling plus same-size).
    @usableFromInline var grows: Int = 0
    @usableFromInline var sameSizeGrows: Int = 0

    @inlinable init() {}

    /// Sets B and the limits derived from it.
    @inlinable @inline(__always) mutating func setB(_ b: UInt8) {
        B = b
        loadLimit = MapConst.loadLimit(b)
        overflowLimit = MapConst.overflowLimit(b)
    }

    /// mapassign's test for starting a grow: the next insert would pass
    /// the load factor, or there are too many overflow buckets.
    @inlinable @inline(__always)
    func insertNeedsGrow() -> Bool {
        count &+ 1 > loadLimit || noverflow >= overflowLimit
    }
}

/// Go's map, specialised to Swift keys and values. A reference type, like
/// a Go map value: copies of a HashMap reference share one table.
///
/// Thread safety: concurrent reads (subscript get, iteration) are allowed;
/// a write concurrent with anything else is a fatal error when detected.
public final class HashMap<Key: MapKey, Value> {
    /// The header (Go's hmap), in this object. Written only by a writer
    /// holding hashWriting and read by readers and iterators, the map's
    /// own single-writer contract, so Swift's dynamic exclusivity checks (a
    /// runtime call per access) are off for it and the two storages.
    @exclusivity(unchecked)
    @usableFromInline var h: HMap
    /// hmap.flags: iterator | oldIterator | hashWriting | sameSizeGrow.
    /// Relaxed atomic loads and stores (plain moves on x86), so that
    /// concurrent iterators setting their bits are race-free.
    @usableFromInline let flagsWord: Atomic<UInt8>
    /// Owner of h.buckets (nil until the first bucket is allocated).
    @exclusivity(unchecked)
    @usableFromInline var storage: BucketStorage<Key, Value>?
    /// Owner of h.oldbuckets, while growing.
    @exclusivity(unchecked)
    @usableFromInline var oldStorage: BucketStorage<Key, Value>?
    /// The one bucket of a map that started with B == 0 (no hint, or a
    /// hint of at most 8), allocated by its first insert: a plain
    /// allocation owned by the map itself rather than by a BucketStorage,
    /// so that a small map costs two allocations (this object and the
    /// bucket), not three. It is freed with the map, never earlier, even
    /// after growth retires it: an iterator reading it holds the map, and
    /// it keeps evacuated copies until then (see `deinit`). It never has
    /// overflow buckets (a full one-bucket table always doubles instead).
    @exclusivity(unchecked)
    @usableFromInline var firstBucket: UnsafeMutableRawPointer?

    /// Go's makemap_small: an empty map; the first bucket is allocated by
    /// the first insert. One allocation (this object).
    @inlinable
    public init() {
        MapHash.ensureInitialized()
        h = HMap()
        flagsWord = Atomic(0)
        h.hash0 = UInt32(truncatingIfNeeded: MapHash.fastrand64())
    }

    deinit {
        if let b = firstBucket { Self._freeFirstBucket(b) }
    }

    /// Deinitializes the entries `b` still holds (live ones, or the copies
    /// evacuation left for iterators) and frees it. Outlined: it runs
    /// unspecialized from deinit.
    @usableFromInline @inline(never)
    static func _freeFirstBucket(_ b: UnsafeMutableRawPointer) {
        if !_isPOD(Key.self) || !_isPOD(Value.self) {
            for i in 0..<MapConst.bucketCnt where MapConst.isInitialized(tophash(b, i)) {
                keyAt(b, i).deinitialize(count: 1)
                valueAt(b, i).deinitialize(count: 1)
            }
        }
        free(b)
    }

    /// Go's makemap(hint): sized so that `minimumCapacity` entries fit
    /// without growing. With B == 0 (a hint of at most 8) the bucket is
    /// left to the first insert, as in Go.
    @inlinable
    public convenience init(minimumCapacity hint: Int) {
        self.init()
        var B: UInt8 = 0
        while MapConst.overLoadFactor(hint, B) { B += 1 }
        h.setB(B)
        if B != 0 {
            let (s, next) = makeBucketArray(B)
            storage = s
            h.buckets = s.base
            h.nextOverflow = next
        }
    }

    /// Number of entries (Go's len).
    @inlinable public var count: Int { h.count }

    /// True when the map has no entries.
    @inlinable public var isEmpty: Bool { h.count == 0 }

    // MARK: Bucket layout

    @inlinable static var keyStride: Int { MemoryLayout<Key>.stride }
    @inlinable static var valueStride: Int { MemoryLayout<Value>.stride }
    @inlinable static var maxAlign: Int {
        Swift.max(8, MemoryLayout<Key>.alignment, MemoryLayout<Value>.alignment)
    }
    @inlinable @inline(__always)
    static func roundUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }
    /// Go's dataOffset: keys start after the 8 tophash bytes.
    @inlinable static var keysOffset: Int { roundUp(8, MemoryLayout<Key>.alignment) }
    @inlinable static var valuesOffset: Int {
        roundUp(keysOffset + 8 * keyStride, MemoryLayout<Value>.alignment)
    }
    @inlinable static var overflowOffset: Int { roundUp(valuesOffset + 8 * valueStride, 8) }
    /// Bytes per bucket (Go's t.bucketsize): 144 for Int64 -> Int64.
    @inlinable static var bucketSize: Int { roundUp(overflowOffset + 8, maxAlign) }

    @inlinable @inline(__always)
    static func tophash(_ b: UnsafeMutableRawPointer, _ i: Int) -> UInt8 {
        b.load(fromByteOffset: i, as: UInt8.self)
    }
    /// The 8 tophash bytes of bucket `b` as one word, slot i in byte i
    /// (bits 8i..8i+7) whatever the byte order.
    @inlinable @inline(__always)
    static func tophashes(_ b: UnsafeMutableRawPointer) -> UInt64 {
        UInt64(littleEndian: b.load(as: UInt64.self))
    }
    @inlinable @inline(__always)
    static func setTophash(_ b: UnsafeMutableRawPointer, _ i: Int, _ v: UInt8) {
        b.storeBytes(of: v, toByteOffset: i, as: UInt8.self)
    }
    @inlinable @inline(__always)
    static func keyAt(_ b: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutablePointer<Key> {
        (b + keysOffset + i * keyStride).assumingMemoryBound(to: Key.self)
    }
    @inlinable @inline(__always)
    static func valueAt(_ b: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutablePointer<Value> {
        (b + valuesOffset + i * valueStride).assumingMemoryBound(to: Value.self)
    }
    /// The raw 64 bits of a `.word64` key slot (may be stale in empty slots).
    @inlinable @inline(__always)
    static func keyBitsAt(_ b: UnsafeMutableRawPointer, _ i: Int) -> UInt64 {
        b.load(fromByteOffset: keysOffset + i * 8, as: UInt64.self)
    }
    @inlinable @inline(__always)
    static func keyBits(_ k: Key) -> UInt64 { unsafeBitCast(k, to: UInt64.self) }
    @inlinable @inline(__always)
    static func overflow(_ b: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        b.load(fromByteOffset: overflowOffset, as: UnsafeMutableRawPointer?.self)
    }
    @inlinable @inline(__always)
    static func setOverflow(_ b: UnsafeMutableRawPointer, _ o: UnsafeMutableRawPointer?) {
        b.storeBytes(of: o, toByteOffset: overflowOffset, as: UnsafeMutableRawPointer?.self)
    }
    /// Go's evacuated(b): the first slot carries an evacuated* mark.
    @inlinable @inline(__always)
    static func evacuated(_ b: UnsafeMutableRawPointer) -> Bool {
        let t = tophash(b, 0)
        return t > MapConst.emptyOne && t < MapConst.minTopHash
    }

    /// One zeroed overflow bucket allocated on its own, followed by the
    /// link word of its storage's list (BucketStorage.appendOverflow; freed
    /// with that storage). The link is outside the bucket: Go's layout is
    /// unchanged.
    @inlinable
    static func allocateZeroedBucket() -> UnsafeMutableRawPointer {
        let bytes = bucketSize + maxAlign  // bucket, link word, padding
        guard let p = maxAlign <= 16 ? malloc(bytes) : aligned_alloc(maxAlign, bytes) else {
            mapFatalOutOfMemory()
        }
        // Only the bucket is cleared (appendOverflow writes the link word).
        // Not calloc: glibc's calloc bypasses the per-thread cache malloc
        // serves small blocks from (a map of 8 entries cost ~25% more), and
        // LLVM turns a malloc followed by a memset of the same size into
        // calloc, hence the different sizes.
        memset(p, 0, bucketSize)
        return p
    }

    // MARK: Flags (relaxed atomics; see `flagsWord`)

    @inlinable
    var flags: UInt8 {
        @inline(__always) get { flagsWord.load(ordering: .relaxed) }
        @inline(__always) set { flagsWord.store(newValue, ordering: .relaxed) }
    }
}

// MARK: Fatal errors (outlined: never on a fast path)

@usableFromInline @inline(never)
func mapFatalConcurrentWrites() -> Never { goFatal("concurrent map writes") }

@usableFromInline @inline(never)
func mapFatalReadWrite() -> Never { goFatal("concurrent map read and map write") }

@usableFromInline @inline(never)
func mapFatalOutOfMemory() -> Never { goFatal("out of memory allocating map buckets") }

@usableFromInline @inline(never)
func mapFatalIterationWrite() -> Never { goFatal("concurrent map iteration and map write") }
