// Functions as the stack sees them: a frame size and a stack map, found by
// "PC". This stands in for what the Go runtime reads from the compiler's
// tables (runtime/symtab.go findfunc, funcspdelta; runtime/stack.go
// getStackMap and bitvector): which words of a frame hold pointers.
//
// Frame layout (amd64, as drawn in runtime/stack.go):
//
//     |    arguments     |   argSize bytes: the caller's outgoing-argument
//     |    and results   |   area, its lowest local words (Go's ABI0)
//     +------------------+ <- caller's SP before the call (frame.fp / argp)
//     |  return address  |   the caller's PC, pushed by CALL
//     +------------------+
//     |  caller's BP     |   saved frame pointer
//     +------------------+ <- frame.varp (this frame's BP)
//     |     locals       |   local word i at SP + 8*i; the stack map has
//     |                  |   one bit per local word: 1 = may point into
//     +------------------+ <- frame.sp   the stack
//
// A function's arguments and results (Go's `argsize`, the second number of
// a TEXT line's `$frame-argsize`) live in its caller's frame, where the callee
// reaches them at argp = BP + 16; on a new segment (Go 1.2) they are a copy
// made by newstack and copied back by oldstack.
//
// A "PC" here is a function's index in a process-wide, append-only table
// (Go's pclntab is likewise immutable and global). PC 0 is `goexit`, the
// return address of a goroutine's entry function; `lessstackPC` is the return
// address Go 1.2's segmented stacks planted in the first frame of every new
// segment.
//
// Invariants: entries are written once, under the table lock, before their PC
// is returned to anybody; they never change or move afterwards, so readers
// holding a PC read the entry without a lock (the PC reached them through
// whatever synchronisation handed them the `StackFunc`).


/// One function table entry (Go: `_func` + its stack map).
@usableFromInline
struct FuncRecord {
    /// Bytes of the whole frame: return address, saved BP and locals.
    var frameSize: Int
    /// Local words (frameSize / 8 - 2), also the bit count of `bitmap`.
    @usableFromInline var localWords: Int
    /// Argument and result words at argp (Go's argsize / 8).
    @usableFromInline var argWords: Int
    /// Go's `bitvector.bytedata`: bit i set = local word i holds a pointer
    /// that may point into the stack.
    var bitmap: UnsafeMutablePointer<UInt8>
    /// The set bits of `bitmap` as a list of word indices (what the
    /// prologue zeroes).
    var slots: UnsafeMutablePointer<Int>
    var slotCount: Int
}

/// The process-wide function table.
final class FuncTable: @unchecked Sendable {
    static let capacity = 1 << 16
    let entries: UnsafeMutablePointer<FuncRecord>
    private struct Key: Hashable { let name: String; let frameSize: Int; let argSize: Int; let slots: [Int] }
    private struct State { var byKey: [Key: UInt] = [:]; var names: [String] = ["goexit"] }
    private let state = RuntimeLocked(State())

    static let shared = FuncTable()

    private init() {
        entries = .allocate(capacity: FuncTable.capacity)
    }

    /// Registers a function (or finds an identical earlier registration)
    /// and returns its PC.
    func register(name: String, frameSize: Int, argSize: Int, pointerSlots: [Int]) -> UInt {
        let slots = Array(Set(pointerSlots)).sorted()
        let key = Key(name: name, frameSize: frameSize, argSize: argSize, slots: slots)
        return state.withLock { st in
            if let pc = st.byKey[key] { return pc }
            let pc = UInt(st.names.count)
            if Int(pc) >= FuncTable.capacity { goFatal("too many stack functions") }
            let words = frameSize / StackLayout.ptrSize - 2
            let bytes = max((words + 7) / 8, 1)
            let bitmap = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes)
            bitmap.initialize(repeating: 0, count: bytes)
            for s in slots { bitmap[s / 8] |= UInt8(1) << UInt8(s % 8) }
            let list = UnsafeMutablePointer<Int>.allocate(capacity: max(slots.count, 1))
            for (i, s) in slots.enumerated() { list[i] = s }
            (entries + Int(pc)).initialize(to: FuncRecord(frameSize: frameSize, localWords: words,
                                                          argWords: argSize / StackLayout.ptrSize, bitmap: bitmap,
                                                          slots: list, slotCount: slots.count))
            st.names.append(name)
            st.byKey[key] = pc
            return pc
        }
    }

    func name(_ pc: UInt) -> String {
        if pc == lessstackPC { return "lessstack" }
        return state.withLock { st in Int(pc) < st.names.count ? st.names[Int(pc)] : "?" }
    }
}

/// The return address of a goroutine's entry function: walking stops here.
@inlinable var goexitPC: UInt { 0 }
/// The return address planted in the first frame of a new segment (Go 1.2's
/// `runtime·lessstack`); returning to it pops the segment.
@inlinable var lessstackPC: UInt { ~0 }

/// A function that runs on a `GoroutineStack`: its frame size and which of
/// its local words hold pointers into the stack (its stack map).
///
/// Creating one registers it in a process-wide table, like code linked
/// into the binary: identical (name, size, map) registrations share one PC.
public struct StackFunc: @unchecked Sendable {
    /// The function's "PC": its index in the function table (>= 1).
    public let pc: UInt
    /// Bytes of the whole frame, return address and saved BP included.
    public let frameSize: Int
    /// Local words (`frameSize / 8 - 2`).
    public let localWords: Int
    /// Bytes of arguments and results, in the caller's frame at the
    /// callee's argp (Go's `argsize`). Go 1.2's newstack copied them to a
    /// new segment and oldstack copied them back.
    public let argSize: Int
    /// Go's frame size as its prologue sees it: everything but the return
    /// address (saved BP and locals).
    @usableFromInline let spDelta: UInt
    /// What the prologue subtracts from SP before comparing with the guard,
    /// chosen per function as the compiler chooses the check sequence
    /// (obj6.go stacksplit): 0 for frames up to `stackSmall` (compare SP
    /// itself), `spDelta - stackSmall` above.
    @usableFromInline let checkOffset: UInt
    /// Frames of `stackBig` bytes or more also check that the subtraction
    /// does not wrap.
    @usableFromInline let hugeFrame: Bool
    /// Local words the prologue zeroes (the pointer slots, as the compiler
    /// zeroes ambiguously live pointer locals): those below 64 as a bit
    /// mask (the compiler emits one store per slot; a mask walk is the
    /// closest data-driven equivalent), the rest as the tail of the sorted
    /// slot list, from `zeroListStart`.
    @usableFromInline let zeroMask: UInt64
    @usableFromInline let zeroSlots: UnsafeMutablePointer<Int>
    @usableFromInline let zeroListStart: Int
    @usableFromInline let zeroCount: Int

    /// - Parameters:
    ///   - frameSize: bytes of the whole frame, a multiple of 8 and at least
    ///     16 (return address and saved BP).
    ///   - pointerSlots: local word indices that hold pointers into the stack.
    ///   - argSize: bytes of arguments and results (a multiple of 8) the
    ///     function reads and writes at its argp, in its caller's frame.
    public init(name: String, frameSize: Int, pointerSlots: [Int] = [], argSize: Int = 0) {
        precondition(frameSize >= 2 * StackLayout.ptrSize && frameSize % StackLayout.ptrSize == 0,
                     "frame size must be a multiple of 8 and at least 16")
        precondition(argSize >= 0 && argSize % StackLayout.ptrSize == 0, "argument size must be a multiple of 8")
        let words = frameSize / StackLayout.ptrSize - 2
        precondition(pointerSlots.allSatisfy { $0 >= 0 && $0 < words }, "pointer slot outside the locals")
        self.frameSize = frameSize
        self.localWords = words
        self.argSize = argSize
        let spDelta = UInt(frameSize - StackLayout.ptrSize)
        self.spDelta = spDelta
        self.checkOffset = spDelta <= UInt(StackLayout.stackSmall) ? 0 : spDelta - UInt(StackLayout.stackSmall)
        self.hugeFrame = spDelta > UInt(StackLayout.stackBig)
        let pc = FuncTable.shared.register(name: name, frameSize: frameSize, argSize: argSize,
                                                   pointerSlots: pointerSlots)
        self.pc = pc
        let rec = FuncTable.shared.entries[Int(pc)]
        zeroSlots = rec.slots
        zeroCount = rec.slotCount
        var mask: UInt64 = 0
        var below64 = 0
        while below64 < rec.slotCount && rec.slots[below64] < 64 {
            mask |= 1 << UInt64(rec.slots[below64])
            below64 += 1
        }
        zeroMask = mask
        zeroListStart = below64
    }

    /// The registered name.
    public var name: String { FuncTable.shared.name(pc) }
}
