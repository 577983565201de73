// HashMap+Storage: who owns a map's bucket arrays (HashMap.swift's
// "Memory" paragraph is the design; this file is the code).
//
//   - BucketArrayHeader: the fixed part of one array's owner: where the
//     array is, its layout, and the overflow buckets allocated for it.
//   - BucketStorage: the owner itself, a ManagedBuffer with the array
//     tail-allocated (one allocation per array), which deinitializes the
//     entries it still holds when the map and every iterator let go of it.
//   - LargeBucketArrays: arrays of 1 MiB and more, mapped on 2 MiB
//     boundaries with huge pages requested, the last one freed kept for
//     reuse (Go's heap gives its maps both through mem_linux.go).
//
// Invariants: an array's slots are initialized exactly where
// MapConst.isInitialized(tophash) holds (HashMap.swift); the overflow list
// of a storage holds every bucket HashMap.allocateZeroedBucket made for its
// array and nothing else; LargeBucketArrays' slot holds at most one array,
// under its lock.

#if canImport(Glibc)
import Glibc
#endif

/// The fixed part of a `BucketStorage`: where its array is and what it
/// takes to free it. Trivial (no references), so destroying it is free.
@usableFromInline
struct BucketArrayHeader {
    /// The first bucket: 2^B buckets followed by preallocated overflow ones,
    /// in the storage object's tail, or a large array (`isLarge`).
    @usableFromInline var base: UnsafeMutableRawPointer
    /// Buckets in the array (including preallocated overflow).
    @usableFromInline var allocated: Int
    /// Bytes of the array.
    @usableFromInline var bytes: Int
    /// The array came from LargeBucketArrays (else it is the tail).
    @usableFromInline var isLarge: Bool
    /// Whether keys or values need deinitializing, and the bucket layout.
    /// Stored so that deinit, which runs unspecialized, needs no runtime
    /// generic metadata lookups (a HashMap<Key, Value> static member called
    /// from generic code instantiates that metadata on every call).
    @usableFromInline var needsDeinit: Bool
    @usableFromInline var bucketSize: Int
    @usableFromInline var keysOffset: Int
    @usableFromInline var valuesOffset: Int
    /// The overflow buckets allocated one by one for this array, as a list
    /// linked through the word after each bucket (see
    /// HashMap.allocateZeroedBucket); nil when there are none.
    @usableFromInline var allocatedOverflow: UnsafeMutableRawPointer? = nil

    @inlinable
    init(base: UnsafeMutableRawPointer, allocated: Int, bytes: Int, isLarge: Bool,
         needsDeinit: Bool, bucketSize: Int, keysOffset: Int, valuesOffset: Int) {
        self.base = base
        self.allocated = allocated
        self.bytes = bytes
        self.isLarge = isLarge
        self.needsDeinit = needsDeinit
        self.bucketSize = bucketSize
        self.keysOffset = keysOffset
        self.valuesOffset = valuesOffset
    }
}

/// Who owns one bucket array and the overflow buckets allocated for it
/// (Go's mapextra.overflow list). Freed when neither the map nor an
/// iterator refers to it; deinitializes the entries it still holds.
///
/// One allocation: the array is tail-allocated in the object itself (so a
/// small map costs its HashMap object plus this, as a Go map costs its
/// hmap plus its bucket array), except arrays of at least
/// `LargeBucketArrays.minimumBytes`, which come from LargeBucketArrays
/// (huge pages, reuse).
@usableFromInline
final class BucketStorage<Key: MapKey, Value>: ManagedBuffer<BucketArrayHeader, UInt64> {
    /// A zeroed array of `buckets` buckets (tophash 0 is emptyRest).
    /// Inlinable so that it is specialized (no runtime generic metadata
    /// lookups when a small map is made).
    @inlinable
    static func make(buckets n: Int) -> BucketStorage<Key, Value> {
        typealias M = HashMap<Key, Value>
        let bytes = n * M.bucketSize
        let large = bytes >= LargeBucketArrays.minimumBytes
        let align = M.maxAlign
        // Tail words: the array, plus slack to align it when a key or value
        // needs more than the 8-byte alignment of the tail.
        let words = large ? 0 : (bytes + (align - 8)) >> 3
        let object = create(minimumCapacity: words) { buffer in
            let base: UnsafeMutableRawPointer
            if large {
                base = LargeBucketArrays.take(bytes: bytes)
            } else {
                let tail = buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
                base = align > 8 ? tail.alignedUp(toMultipleOf: align) : tail
                memset(base, 0, bytes)
            }
            return BucketArrayHeader(
                base: base, allocated: n, bytes: bytes, isLarge: large,
                needsDeinit: !_isPOD(Key.self) || !_isPOD(Value.self),
                bucketSize: M.bucketSize, keysOffset: M.keysOffset, valuesOffset: M.valuesOffset)
        }
        return unsafeDowncast(object, to: BucketStorage<Key, Value>.self)
    }

    /// The first bucket.
    @inlinable var base: UnsafeMutableRawPointer {
        withUnsafeMutablePointerToHeader { $0.pointee.base }
    }

    /// Records an overflow bucket from HashMap.allocateZeroedBucket (freed
    /// with this storage).
    @inlinable
    func appendOverflow(_ b: UnsafeMutableRawPointer) {
        withUnsafeMutablePointerToHeader { h in
            b.storeBytes(of: h.pointee.allocatedOverflow, toByteOffset: h.pointee.bucketSize,
                         as: UnsafeMutableRawPointer?.self)
            h.pointee.allocatedOverflow = b
        }
    }

    deinit {
        withUnsafeMutablePointerToHeader { h in
            let size = h.pointee.bucketSize
            // This runs unspecialized, where a generic deinitialize is a
            // runtime call through the type's value witnesses (~100
            // instructions an entry); String keys with trivial values, the
            // common non-trivial case, are released directly instead.
            let stringKeys = Key.self == String.self && _isPOD(Value.self)
            if h.pointee.needsDeinit {
                let base = h.pointee.base
                let n = h.pointee.allocated
                for i in 0..<n {
                    if stringKeys {
                        if i + 1 < n { prefetchStringKeyObjects(base + (i + 1) * size, h) }
                        releaseStringKeys(base + i * size, h)
                    } else {
                        deinitializeEntries(base + i * size, h)
                    }
                }
            }
            var next = h.pointee.allocatedOverflow
            while let b = next {
                next = b.load(fromByteOffset: size, as: UnsafeMutableRawPointer?.self)
                if h.pointee.needsDeinit {
                    if stringKeys { releaseStringKeys(b, h) } else { deinitializeEntries(b, h) }
                }
                free(b)
            }
            if h.pointee.isLarge { LargeBucketArrays.release(h.pointee.base, bytes: h.pointee.bytes) }
        }
    }

    /// Releasing a String key is an atomic decrement on its storage
    /// object, which is usually not in cache, and the atomic stalls until
    /// the line arrives: freeing a map of 100k String keys spent ~70 ns per
    /// key there. Touching the next bucket's key objects first lets those
    /// misses overlap. The object address is the second word of a String
    /// with its top 4 (discriminator) bits cleared, for native strings on
    /// 64-bit platforms; for other strings (small, bridged) the word is not
    /// a pointer, which is harmless: a prefetch never faults.
    private func prefetchStringKeyObjects(_ b: UnsafeMutableRawPointer, _ h: UnsafeMutablePointer<BucketArrayHeader>) {
        #if _pointerBitWidth(_64)
        let keys = h.pointee.keysOffset
        for i in 0..<8 {
            let t = b.load(fromByteOffset: i, as: UInt8.self)
            if !MapConst.isInitialized(t) { continue }
            let object = UInt(truncatingIfNeeded: b.load(fromByteOffset: keys + i * 16 + 8, as: UInt64.self) & StringWords.addressMask)
            MapHash.prefetchForWrite(UnsafeRawPointer(bitPattern: object &+ 8))  // the refcount word
        }
        #endif
    }

    /// `deinitializeEntries` for String keys and trivial values (the caller
    /// checked): releases each initialized key. A string whose object word
    /// has a top nibble of 0 (mortal, not small, not bridged: native or
    /// shared storage, a Swift object either way) is released as the
    /// object it points to, one runtime call instead
    /// of the four-deep chain of String's destroy witness; small and
    /// immortal strings own nothing; any other form goes through String's
    /// own destroy.
    private func releaseStringKeys(_ b: UnsafeMutableRawPointer, _ h: UnsafeMutablePointer<BucketArrayHeader>) {
        let keys = h.pointee.keysOffset
        for i in 0..<8 {
            let t = b.load(fromByteOffset: i, as: UInt8.self)
            if MapConst.isInitialized(t) {
                let key = b + keys + i * MemoryLayout<String>.stride
                #if _pointerBitWidth(_64) && _endian(little)
                let object = key.load(fromByteOffset: 8, as: UInt64.self)
                if object >> 60 == 0, let p = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: object)) {
                    Unmanaged<AnyObject>.fromOpaque(p).release()
                    continue
                }
                if object & (StringWords.smallBit | StringWords.immortalBit) != 0 { continue }
                #endif
                key.assumingMemoryBound(to: String.self).deinitialize(count: 1)
            }
        }
    }

    /// Deinitializes the initialized entries of one bucket (not its chain):
    /// those whose tophash is not emptyRest, emptyOne or evacuatedEmpty
    /// (MapConst.isInitialized).
    private func deinitializeEntries(_ b: UnsafeMutableRawPointer, _ h: UnsafeMutablePointer<BucketArrayHeader>) {
        let ks = MemoryLayout<Key>.stride, vs = MemoryLayout<Value>.stride
        let keys = h.pointee.keysOffset, values = h.pointee.valuesOffset
        for i in 0..<8 {
            let t = b.load(fromByteOffset: i, as: UInt8.self)
            if MapConst.isInitialized(t) {
                (b + keys + i * ks).assumingMemoryBound(to: Key.self).deinitialize(count: 1)
                (b + values + i * vs).assumingMemoryBound(to: Value.self).deinitialize(count: 1)
            }
        }
    }
}

/// Large bucket arrays: mapped from the OS on 2 MiB boundaries with
/// transparent huge pages requested, and the most recently freed one kept
/// for reuse.
///
/// Why huge pages: Go 1.19's heap asks for them on the memory it hands out
/// (mem_linux.go: sysUsedOS calls sysHugePageOS, MADV_HUGEPAGE), so a big
/// Go map's buckets sit on 2 MiB pages and a random bucket access rarely
/// misses the TLB. malloc'd memory here gets 4 KiB pages
/// (transparent_hugepage is "madvise" on this kind of machine), and a
/// 1M-entry map's 40 MiB array then costs a page walk on almost every
/// access. Arrays of at least `minimumBytes` therefore bypass malloc.
///
/// Why reuse: as Go's heap hands a freed span back to the next allocation
/// of its size, the next map of the same size gets the array back for one
/// memset of memory that is already resident, instead of faulting in every
/// page again. Only one array is kept; all calls take the lock (these are
/// rare: one per large array).
@usableFromInline
enum LargeBucketArrays {
    /// Smaller arrays are tail-allocated in their BucketStorage (malloc).
    @usableFromInline static var minimumBytes: Int { 1 << 20 }
    /// The transparent huge page size on x86-64 (physHugePageSize).
    static let hugePageBytes = 2 << 20
    private static let slot = RuntimeLocked<(pointer: UnsafeMutableRawPointer, bytes: Int)?>(nil)

    /// Mapped bytes for an array of `bytes`: whole huge pages.
    private static func mappedBytes(_ bytes: Int) -> Int {
        (bytes + hugePageBytes - 1) & ~(hugePageBytes - 1)
    }

    /// A zeroed array of `bytes` (at least minimumBytes), 2 MiB-aligned.
    @usableFromInline
    static func take(bytes: Int) -> UnsafeMutableRawPointer {
        let cached = slot.withLock { s -> UnsafeMutableRawPointer? in
            guard let c = s, c.bytes == bytes else { return nil }
            s = nil
            return c.pointer
        }
        if let p = cached {
            memset(p, 0, bytes)  // Go's makeBucketArray with dirtyalloc: clear and reuse
            return p
        }
        return map(bytes)
    }

    /// Frees `p` (from take), or keeps it for the next `take` of its size.
    @usableFromInline
    static func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let evicted = slot.withLock { s -> (pointer: UnsafeMutableRawPointer, bytes: Int)? in
            let old = s
            s = (p, bytes)
            return old
        }
        if let e = evicted { munmap(e.pointer, mappedBytes(e.bytes)) }
    }

    /// Fresh anonymous memory (zero), aligned to a huge page, with huge
    /// pages requested for it.
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        let length = mappedBytes(bytes)
        // Over-map by one huge page, then trim to an aligned run.
        let raw = mmap(nil, length + hugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let r = raw, r != UnsafeMutableRawPointer(bitPattern: -1) else { mapFatalOutOfMemory() }
        let start = r.alignedUp(toMultipleOf: hugePageBytes)
        let head = start - r
        if head > 0 { munmap(r, head) }
        let tail = hugePageBytes - head
        if tail > 0 { munmap(start + length, tail) }
        // Best effort, as Go's sysHugePageOS: without THP the array simply
        // uses small pages.
        _ = madvise(start, length, Int32(MADV_HUGEPAGE))
        return start
    }
}
