// Keys the map can hold: types hashed as bytes, compared as bytes, the way
// the Go compiler picks a key's hasher and equality (cmd/compile's
// genhash/geneq; runtime/alg.go memhash64, strhash).
//
// The key's `mapKeyKind` chooses the code path, as Go's compiler chooses
// between mapaccess1_fast64, mapaccess1_faststr and the generic mapaccess1:
//   .word64  an 8-byte trivial key compared as a 64-bit word
//            (runtime/map_fast64.go); a one-bucket table is searched by
//            comparing keys directly, without hashing, as fast64 does.
//   .string  a String compared by its UTF-8 bytes (runtime/map_faststr.go's
//            hashing and comparison; the one-bucket no-hash shortcut is not
//            ported).
//   .generic anything else: tophash first, then `mapKeysEqual`
//            (runtime/map.go).
// In specialized code `mapKeyKind` is a constant, so only one path is
// compiled into each HashMap<Key, Value>.
//
// Invariant a conformer must keep: equal keys (by `mapKeysEqual`) have equal
// `mapHash` under every seed, and `.word64` keys are trivial types of size 8.
// String equality is byte equality, as in Go: "é" (U+00E9) and "e\u{301}"
// are different keys even though Swift's `==` (canonical equivalence)
// calls them equal; two Strings are the same key exactly when their UTF-8
// bytes are equal (a String's UTF-8 view, not its normalized form). This is
// Go's semantics and what lets a lookup hash and compare raw bytes.
//
// String keys are hashed and compared from their two words (`StringWords`:
// pointer and length, as Go reads a string header), and keys in bucket
// slots are read in place (`mapHash(at:)`, `mapKeysEqual(at:)`), so no
// String is copied or retained. The hash and the byte compare are outlined
// and declared `@_effects(readonly)` (true: they only read the strings'
// bytes): a call the optimizer cannot see into would otherwise make it
// retain and release the caller's key around every lookup.

/// Which access path the map uses for a key type (see above).
#if canImport(Glibc)
import Glibc
#endif

public enum MapKeyKind: Sendable {
    case word64
    case string
    case generic
}

/// A key type for `HashMap`: hashed and compared as bytes.
public protocol MapKey {
    /// The map's code path for this key type.
    static var mapKeyKind: MapKeyKind { get }
    /// The key's hash under the map's seed (`hash0`).
    static func mapHash(_ key: Self, seed: UInt64) -> UInt64
    /// Key equality consistent with `mapHash`.
    static func mapKeysEqual(_ a: Self, _ b: Self) -> Bool
    /// `mapHash` of the key stored at `slot` (a bucket slot the map owns).
    /// The default reads `slot.pointee`; String reads its two words in
    /// place, which copies nothing and so retains nothing.
    static func mapHash(at slot: UnsafePointer<Self>, seed: UInt64) -> UInt64
    /// `mapKeysEqual(slot.pointee, key)`, with the same freedom.
    static func mapKeysEqual(at slot: UnsafePointer<Self>, _ key: Self) -> Bool
}

extension MapKey {
    @inlinable @inline(__always)
    public static func mapHash(at slot: UnsafePointer<Self>, seed: UInt64) -> UInt64 {
        mapHash(slot.pointee, seed: seed)
    }
    @inlinable @inline(__always)
    public static func mapKeysEqual(at slot: UnsafePointer<Self>, _ key: Self) -> Bool {
        mapKeysEqual(slot.pointee, key)
    }
}

extension Int64: MapKey {
    @inlinable public static var mapKeyKind: MapKeyKind { .word64 }
    @inlinable @inline(__always)
    public static func mapHash(_ key: Int64, seed: UInt64) -> UInt64 {
        MapHash.memhash64(UInt64(bitPattern: key), seed: seed)
    }
    @inlinable @inline(__always)
    public static func mapKeysEqual(_ a: Int64, _ b: Int64) -> Bool { a == b }
}

extension UInt64: MapKey {
    @inlinable public static var mapKeyKind: MapKeyKind { .word64 }
    @inlinable @inline(__always)
    public static func mapHash(_ key: UInt64, seed: UInt64) -> UInt64 {
        MapHash.memhash64(key, seed: seed)
    }
    @inlinable @inline(__always)
    public static func mapKeysEqual(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
}

extension Int: MapKey {
    @inlinable public static var mapKeyKind: MapKeyKind {
        MemoryLayout<Int>.size == 8 ? .word64 : .generic
    }
    @inlinable @inline(__always)
    public static func mapHash(_ key: Int, seed: UInt64) -> UInt64 {
        MapHash.memhash64(UInt64(UInt(bitPattern: key)), seed: seed)
    }
    @inlinable @inline(__always)
    public static func mapKeysEqual(_ a: Int, _ b: Int) -> Bool { a == b }
}

extension String: MapKey {
    @inlinable public static var mapKeyKind: MapKeyKind { .string }

    /// Go's strhash: memhash over the UTF-8 bytes.
    @inlinable @inline(__always)
    public static func mapHash(_ key: String, seed: UInt64) -> UInt64 {
        let w = StringWords.of(key)
        // The key must outlive the read of its bytes through the words.
        return withExtendedLifetime(key) { _stringWordsHash(w.0, w.1, seed) }
    }

    @inlinable @inline(__always)
    public static func mapHash(at slot: UnsafePointer<String>, seed: UInt64) -> UInt64 {
        let w = StringWords.at(slot)
        return _stringWordsHash(w.0, w.1, seed)
    }

    /// Byte equality (Go's string ==). Fast path, like Go's `k.str ==
    /// key.str`: the same two String words (same storage object, or the
    /// same small-string bytes) are equal without touching the bytes.
    /// Otherwise lengths, then memcmp (outlined).
    @inlinable @inline(__always)
    public static func mapKeysEqual(_ a: String, _ b: String) -> Bool {
        let x = StringWords.of(a), y = StringWords.of(b)
        if x == y { return true }
        return withExtendedLifetime(a) {
            withExtendedLifetime(b) { _stringWordsEqual(x.0, x.1, y.0, y.1) }
        }
    }

    @inlinable @inline(__always)
    public static func mapKeysEqual(at slot: UnsafePointer<String>, _ key: String) -> Bool {
        let x = StringWords.at(slot), y = StringWords.of(key)
        if x == y { return true }
        return withExtendedLifetime(key) { _stringWordsEqual(x.0, x.1, y.0, y.1) }
    }

    /// The hash through the standard library's UTF-8 access: the path for
    /// strings whose bytes are not reachable from their words (bridged or
    /// shared forms). Outlined and read-only (see the file header).
    @usableFromInline @inline(never) @_effects(readonly)
    static func _strhash(_ key: String, seed: UInt64) -> UInt64 {
        _withUTF8(key) { MapHash.memhash($0.baseAddress, count: $0.count, seed: seed) }
    }

    @usableFromInline @inline(never) @_effects(readonly)
    static func _bytesEqual(_ a: String, _ b: String) -> Bool {
        _withUTF8(a) { pa in
            _withUTF8(b) { pb in
                pa.count == pb.count
                    && (pa.baseAddress == pb.baseAddress || pa.count == 0
                        || memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0)
            }
        }
    }

    /// The UTF-8 bytes without copying for native strings (bridged or
    /// foreign strings are made contiguous on a copy first).
    @inlinable @inline(__always)
    static func _withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var c = s
        return c.withUTF8(body)
    }
}

/// A String's two words, read the way Go's runtime reads a string header
/// (pointer and length) instead of through the standard library's UTF-8
/// view, whose checks cost ~35 instructions per hash, more than the hash.
///
/// Layout (64-bit; the standard library's StringObject.swift, ABI-frozen):
/// word 0 is count-and-flags, word 1 the discriminated object.
///   - small (word 1 bit 61): up to 15 bytes stored in the words
///     themselves, in memory order; the count is word 1's bits 56-59;
///   - large with tail-allocated bytes (word 0 bit 60: native storage and
///     literals): the bytes start 32 bytes (`nativeBias`) past the object
///     address (word 1 with its top nibble cleared); the count is word 0's
///     low 48 bits;
///   - anything else (bridged, shared or foreign, word 1 bit 60 set for
///     foreign) goes through the standard library (`hasContiguousBytes` is
///     false).
/// Tests check these paths against the standard library's bytes for every
/// form this platform creates (MapTests.stringKeysHashedFromTheirWords).
@usableFromInline
enum StringWords {
    @usableFromInline typealias Words = (UInt64, UInt64)

    @inlinable static var smallBit: UInt64 { 1 << 61 }  // word 1
    @inlinable static var foreignBit: UInt64 { 1 << 60 }  // word 1
    @inlinable static var immortalBit: UInt64 { 1 << 63 }  // word 1: owns no object
    @inlinable static var tailAllocatedBit: UInt64 { 1 << 60 }  // word 0, large forms
    @inlinable static var addressMask: UInt64 { 0x0FFF_FFFF_FFFF_FFFF }
    @inlinable static var countMask: UInt64 { 0x0000_FFFF_FFFF_FFFF }
    @inlinable static var nativeBias: UInt64 { 32 }

    /// The words of `s`: a bit copy, no retain.
    @inlinable @inline(__always)
    static func of(_ s: String) -> Words { unsafeBitCast(s, to: Words.self) }

    /// The words of the String at `p`, loaded as plain integers.
    @inlinable @inline(__always)
    static func at(_ p: UnsafePointer<String>) -> Words {
        UnsafeRawPointer(p).load(as: Words.self)
    }

    /// Whether the string's UTF-8 is tail-allocated at its object plus
    /// nativeBias (native storage or a literal): large, not foreign, and
    /// word 0's tail-allocated flag.
    @inlinable @inline(__always)
    static func hasTailBytes(_ w0: UInt64, _ w1: UInt64) -> Bool {
        #if _pointerBitWidth(_64) && _endian(little)
        return w1 & (smallBit | foreignBit) == 0 && w0 & tailAllocatedBit != 0
        #else
        return false
        #endif
    }

    /// The UTF-8 bytes and count of a string with `hasTailBytes`.
    @inlinable @inline(__always)
    static func tailBytes(_ w0: UInt64, _ w1: UInt64) -> (UnsafeRawPointer?, Int) {
        (UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: (w1 & addressMask) &+ nativeBias)),
         Int(truncatingIfNeeded: w0 & countMask))
    }

    /// Whether `withBytes` can read the string's UTF-8 from its words.
    @inlinable @inline(__always)
    static func hasContiguousBytes(_ w: Words) -> Bool {
        #if _pointerBitWidth(_64) && _endian(little)
        return w.1 & smallBit != 0 || hasTailBytes(w.0, w.1)
        #else
        return false
        #endif
    }

    /// Calls `body` with the string's UTF-8 bytes (small strings are
    /// spilled to the stack). Only for words with `hasContiguousBytes`,
    /// whose string is alive for the call.
    @inlinable @inline(__always)
    static func withBytes<R>(_ w0: UInt64, _ w1: UInt64,
                             _ body: (UnsafeRawPointer?, Int) -> R) -> R {
        if w1 & smallBit != 0 {
            var spill = (w0, w1)
            let count = Int(truncatingIfNeeded: (w1 >> 56) & 0xF)
            return withUnsafeBytes(of: &spill) { body($0.baseAddress, count) }
        }
        let (bytes, count) = tailBytes(w0, w1)
        return body(bytes, count)
    }
}

/// Go's strhash of the live string with words (w0, w1), outlined and
/// read-only (true: it only reads the bytes), so callers keep their keys
/// borrowed around it. A free function (a static one gets a thunk for its
/// unused metatype). The form checks are here, not inline in every lookup.
@usableFromInline @inline(never) @_effects(readonly)
func _stringWordsHash(_ w0: UInt64, _ w1: UInt64, _ seed: UInt64) -> UInt64 {
    _stringWordsHashBody(w0, w1, seed)
}

/// The body of `_stringWordsHash`, for outlined callers that hash as part
/// of a larger read-only step (HashMap's String lookups).
@inline(__always)
func _stringWordsHashBody(_ w0: UInt64, _ w1: UInt64, _ seed: UInt64) -> UInt64 {
    if StringWords.hasTailBytes(w0, w1) {
        let (bytes, count) = StringWords.tailBytes(w0, w1)
        return MapHash.memhash(bytes, count: count, seed: seed)
    }
    return _otherStringWordsHash(w0, w1, seed)
}

/// Small strings (bytes in the words) and the forms StringWords does not
/// read (through the standard library).
@inline(never) @_effects(readonly)
func _otherStringWordsHash(_ w0: UInt64, _ w1: UInt64, _ seed: UInt64) -> UInt64 {
    if StringWords.hasContiguousBytes((w0, w1)) {
        return StringWords.withBytes(w0, w1) { p, n in MapHash.memhash(p, count: n, seed: seed) }
    }
    return _withStringOfWords(w0, w1) { String._strhash($0, seed: seed) }
}

/// Byte equality of two live strings given by their words, outlined and
/// read-only.
@usableFromInline @inline(never) @_effects(readonly)
func _stringWordsEqual(_ a0: UInt64, _ a1: UInt64, _ b0: UInt64, _ b1: UInt64) -> Bool {
    if StringWords.hasContiguousBytes((a0, a1)) && StringWords.hasContiguousBytes((b0, b1)) {
        return StringWords.withBytes(a0, a1) { pa, na in
            StringWords.withBytes(b0, b1) { pb, nb in
                na == nb && (na == 0 || memcmp(pa!, pb!, na) == 0)
            }
        }
    }
    return _withStringOfWords(a0, a1) { a in _withStringOfWords(b0, b1) { b in String._bytesEqual(a, b) } }
}

/// Calls `body` with a copy of the live string whose words are (w0, w1):
/// the words are viewed as a String in memory and copied out, a retain
/// that the copy's release balances; the caller's string keeps the
/// storage alive meanwhile.
func _withStringOfWords<R>(_ w0: UInt64, _ w1: UInt64, _ body: (String) -> R) -> R {
    var words = (w0, w1)
    return withUnsafePointer(to: &words) { p in
        p.withMemoryRebound(to: String.self, capacity: 1) { body($0.pointee) }
    }
}
