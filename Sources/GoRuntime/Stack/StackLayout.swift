// Stack layout parameters, mirroring the constant block at the top of Go
// 1.19's runtime/stack.go (and the two stack constants of runtime/malloc.go)
// for linux/amd64, plus the two constants of Go 1.2's segmented stacks
// (runtime/stack.h of that release) that the segmented model needs.
//
// Every goroutine function starts with a prologue that compares its stack
// pointer with `g.stackguard0`, a pointer `stackGuard` bytes above the low
// end of the stack. Tiny frames (at most `stackSmall` bytes) compare SP
// itself and may therefore end up to `stackSmall` bytes below the guard;
// medium frames compare SP - (frame - stackSmall); frames of `stackBig` bytes
// or more also guard against the subtraction wrapping. What lies below the
// guard (`stackLimit` bytes after the `stackSmall` protrusion) is reserved for
// chains of NOSPLIT functions: in this model nothing ever runs there, and
// `GoroutineStack.checkInvariants()` verifies that SP never enters it further
// than a tiny frame may.

/// The constants of Go's stack layout (runtime/stack.go, runtime/malloc.go),
/// Linux on a 64-bit machine.
public enum StackLayout {
    /// `goarch.PtrSize`: a stack slot, a pointer, a return address.
    public static let ptrSize = 8

    /// `_StackSystem`: extra bytes below the guard for the OS (Windows, Plan 9,
    /// iOS); 0 on Linux.
    public static let stackSystem = 0

    /// `_StackMin`: the smallest stack Go code runs on, and the size every
    /// new goroutine's stack starts at (Go 1.19's adaptive start is off by
    /// default).
    public static let stackMin = 2048

    /// `_FixedStack`: `stackMin + stackSystem` rounded up to a power of two;
    /// the size of the smallest stack order.
    public static let fixedStack: Int = {
        var n = stackMin + stackSystem - 1
        n |= n >> 1; n |= n >> 2; n |= n >> 4; n |= n >> 8; n |= n >> 16
        return n + 1
    }()

    /// `_StackBig`: frames at least this big use the wrap-safe prologue.
    @inlinable public static var stackBig: Int { 4096 }

    /// `sys.StackGuardMultiplier`: 1 on Linux (2 under -race in Go 1.19's
    /// builds without optimisation, 2 on AIX).
    public static let stackGuardMultiplier = 1

    /// `_StackGuard`: the guard sits this many bytes above the stack's low
    /// end.
    public static let stackGuard = 928 * stackGuardMultiplier + stackSystem

    /// `_StackSmall`: after a passed check SP may be this far below the guard
    /// (tiny frames compare SP itself, saving an instruction).
    @inlinable public static var stackSmall: Int { 128 }

    /// `_StackLimit`: bytes a chain of NOSPLIT functions may use below the
    /// guard. Shrinking counts it as used.
    public static let stackLimit = stackGuard - stackSystem - stackSmall

    /// `_NumStackOrders`: stacks of `fixedStack << order`, order < 4 (2, 4, 8,
    /// 16 KiB), come from per-order pools and the per-thread cache; bigger
    /// ones are allocated whole from the heap.
    public static let numStackOrders = 4

    /// `_StackCacheSize`: the span size carved into small stacks, and the most
    /// bytes a per-thread cache holds per order before it releases half.
    public static let stackCacheSize = 32 * 1024

    /// `_PageShift` / `_PageSize`: the heap's page (8 KiB).
    public static let pageShift = 13
    public static let pageSize = 1 << pageShift

    /// `maxstacksize` as `runtime.main` sets it on 64-bit machines: one
    /// (decimal) gigabyte. Sizes are powers of two, so the largest stack that
    /// fits is 512 MiB; the next doubling throws "stack overflow".
    public static let defaultMaxStackSize = 1_000_000_000

    // MARK: Go 1.2 segmented stacks (runtime/stack.h and stack.c of Go 1.2)

    /// `StackExtra` (Go 1.2): room a new segment gets beyond the frame that
    /// overflowed, for the functions it calls and the segment's `Stktop`.
    public static let segmentExtra = 2048

    /// `StackMin` of Go 1.2: the smallest segment it allocated (and the size
    /// of the per-M cache's fixed-size segments). Segments here start from
    /// a 2 KiB first stack like contiguous ones, but every linked segment
    /// is at least this big.
    public static let segmentMin = 8192

    /// Size of the `Stktop` record at the top of every segment but the
    /// first: Go 1.2's twelve words on amd64 and one of the model's own
    /// (see GoroutineStack+Segmented.swift).
    public static let stktopSize = 13 * ptrSize
}
