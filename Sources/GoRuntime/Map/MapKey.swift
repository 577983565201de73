// Keys the map can hold: types hashed as bytes, compared as bytes, the way
// the Go compiler picks a key's hasher and equality (cmd/compile's
// genhash/geneq; runtime/alg.go memhash64, strhash).
//
// The key's `mapKeyKind` chooses the code path, as Go's compiler chooses
// between mapaccess1_fast64, mapaccess1_faststr and the generic mapaccess1:
//   .word64  an 8-byte trivial key compared as a 64-bit word; lookups skip
//            the tophash comparison and compare keys directly
//            (runtime/map_fast64.go).
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
// String's hash and byte compare are outlined and declared
// `@_effects(readonly)` (true: they only read the strings' bytes): a call
// the optimizer cannot see into would otherwise make it retain and release
// the caller's key around every lookup.

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
        _strhash(key, seed: seed)
    }

    /// The hash proper, outlined and read-only (see the file header).
    @usableFromInline @inline(never) @_effects(readonly)
    static func _strhash(_ key: String, seed: UInt64) -> UInt64 {
        _withUTF8(key) { MapHash.memhash($0.baseAddress, count: $0.count, seed: seed) }
    }

    /// Byte equality (Go's string ==). Fast path, like Go's `k.str ==
    /// key.str`: the same two String words (same storage object, or the
    /// same small-string bytes) are equal without touching the bytes or
    /// retaining anything. Otherwise lengths, then memcmp (outlined).
    @inlinable @inline(__always)
    public static func mapKeysEqual(_ a: String, _ b: String) -> Bool {
        let x = unsafeBitCast(a, to: (UInt64, UInt64).self)
        let y = unsafeBitCast(b, to: (UInt64, UInt64).self)
        if x == y { return true }
        return _bytesEqual(a, b)
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
