// The waiter treap of runtime/sema.go: `semaRoot.queue`, `dequeue`,
// `rotateLeft`, `rotateRight`, and an invariant check. See Sema.swift for
// the design. Everything here must be called with the root lock held.

import Synchronization

extension UnsafeAtomic32 {
    @inline(__always) @usableFromInline
    func add(_ d: UInt32) {
        a.pointee.wrappingAdd(d, ordering: .sequentiallyConsistent)
    }

    @inline(__always) @usableFromInline
    func subtract(_ d: UInt32) {
        a.pointee.wrappingSubtract(d, ordering: .sequentiallyConsistent)
    }
}

extension SemaRoot {
    /// Treap root. Root lock held.
    @inline(__always) var treap: UnsafeMutablePointer<SemaSudog>? {
        get { p.pointee.treap }
        nonmutating set { p.pointee.treap = newValue }
    }

    /// `semaRoot.queue`: add `s` to the waiters on `addr`, at the tail, or
    /// at the head (taking over the treap node) when `lifo`.
    /// Root lock held.
    func queue(_ addr: UnsafeMutablePointer<UInt32>, _ s: UnsafeMutablePointer<SemaSudog>, lifo: Bool) {
        let elem = UnsafeMutableRawPointer(addr)
        s.pointee.elem = elem
        s.pointee.next = nil
        s.pointee.prev = nil

        // Walk down the BST by address; `slot` is where the search ended.
        var last: UnsafeMutablePointer<SemaSudog>? = nil
        var slotOwner: UnsafeMutablePointer<SemaSudog>? = nil   // nil: the root's treap field
        var slotIsPrev = false
        var t = treap
        while let node = t {
            if node.pointee.elem == elem {
                // Already have addr in list.
                if lifo {
                    // Substitute s in t's place in treap.
                    setSlot(slotOwner, isPrev: slotIsPrev, to: s)
                    s.pointee.ticket = node.pointee.ticket
                    s.pointee.parent = node.pointee.parent
                    s.pointee.prev = node.pointee.prev
                    s.pointee.next = node.pointee.next
                    if let sp = s.pointee.prev { sp.pointee.parent = s }
                    if let sn = s.pointee.next { sn.pointee.parent = s }
                    // Add t first in s's wait list.
                    s.pointee.waitlink = node
                    s.pointee.waittail = node.pointee.waittail
                    if s.pointee.waittail == nil { s.pointee.waittail = node }
                    node.pointee.parent = nil
                    node.pointee.prev = nil
                    node.pointee.next = nil
                    node.pointee.waittail = nil
                } else {
                    // Add s to end of t's wait list.
                    if let tail = node.pointee.waittail {
                        tail.pointee.waitlink = s
                    } else {
                        node.pointee.waitlink = s
                    }
                    node.pointee.waittail = s
                    s.pointee.waitlink = nil
                }
                return
            }
            last = node
            slotOwner = node
            if UInt(bitPattern: elem) < UInt(bitPattern: node.pointee.elem) {
                slotIsPrev = true
                t = node.pointee.prev
            } else {
                slotIsPrev = false
                t = node.pointee.next
            }
        }

        // Add s as new leaf in tree of unique addrs. The balanced tree is a
        // treap using ticket as the random heap priority.
        s.pointee.ticket = fastrand(s) | 1
        s.pointee.parent = last
        s.pointee.waitlink = nil
        s.pointee.waittail = nil
        setSlot(slotOwner, isPrev: slotIsPrev, to: s)

        // Rotate up into tree according to ticket (priority).
        while let parent = s.pointee.parent, parent.pointee.ticket > s.pointee.ticket {
            if parent.pointee.prev == s {
                rotateRight(parent)
            } else {
                if parent.pointee.next != s { goFatal("semaRoot queue") }
                rotateLeft(parent)
            }
        }
    }

    /// `semaRoot.dequeue`: remove and return the first waiter on `addr`,
    /// or nil. The returned sudog has ticket 0 and no links.
    /// Root lock held.
    func dequeue(_ addr: UnsafeMutablePointer<UInt32>) -> UnsafeMutablePointer<SemaSudog>? {
        let elem = UnsafeMutableRawPointer(addr)
        var slotOwner: UnsafeMutablePointer<SemaSudog>? = nil
        var slotIsPrev = false
        var found = treap
        while let s = found {
            if s.pointee.elem == elem { break }
            slotOwner = s
            if UInt(bitPattern: elem) < UInt(bitPattern: s.pointee.elem) {
                slotIsPrev = true
                found = s.pointee.prev
            } else {
                slotIsPrev = false
                found = s.pointee.next
            }
        }
        guard let s = found else { return nil }

        if let t = s.pointee.waitlink {
            // Substitute t, also waiting on addr, for s in root tree of
            // unique addrs.
            setSlot(slotOwner, isPrev: slotIsPrev, to: t)
            t.pointee.ticket = s.pointee.ticket
            t.pointee.parent = s.pointee.parent
            t.pointee.prev = s.pointee.prev
            if let tp = t.pointee.prev { tp.pointee.parent = t }
            t.pointee.next = s.pointee.next
            if let tn = t.pointee.next { tn.pointee.parent = t }
            if t.pointee.waitlink != nil {
                t.pointee.waittail = s.pointee.waittail
            } else {
                t.pointee.waittail = nil
            }
            s.pointee.waitlink = nil
            s.pointee.waittail = nil
        } else {
            // Rotate s down to be leaf of tree for removal, respecting
            // priorities.
            while s.pointee.next != nil || s.pointee.prev != nil {
                if let sp = s.pointee.prev,
                   s.pointee.next == nil || sp.pointee.ticket < s.pointee.next!.pointee.ticket {
                    rotateRight(s)
                } else {
                    rotateLeft(s)
                }
            }
            // Remove s, now a leaf.
            if let parent = s.pointee.parent {
                if parent.pointee.prev == s {
                    parent.pointee.prev = nil
                } else {
                    parent.pointee.next = nil
                }
            } else {
                treap = nil
            }
        }
        s.pointee.parent = nil
        s.pointee.elem = nil
        s.pointee.next = nil
        s.pointee.prev = nil
        s.pointee.ticket = 0
        return s
    }

    /// Stores `s` in the child slot the search stopped at: the treap root
    /// when `owner` is nil, else `owner.prev` or `owner.next`.
    @inline(__always)
    private func setSlot(_ owner: UnsafeMutablePointer<SemaSudog>?, isPrev: Bool,
                         to s: UnsafeMutablePointer<SemaSudog>?) {
        if let o = owner {
            if isPrev { o.pointee.prev = s } else { o.pointee.next = s }
        } else {
            treap = s
        }
    }

    /// `rotateLeft`: x's right child y takes x's place; x becomes y's left.
    func rotateLeft(_ x: UnsafeMutablePointer<SemaSudog>) {
        // p -> (x a (y b c))
        let p = x.pointee.parent
        let y = x.pointee.next!
        let b = y.pointee.prev
        y.pointee.prev = x
        x.pointee.parent = y
        x.pointee.next = b
        if let b { b.pointee.parent = x }
        y.pointee.parent = p
        if let p {
            if p.pointee.prev == x {
                p.pointee.prev = y
            } else {
                if p.pointee.next != x { goFatal("semaRoot rotateLeft") }
                p.pointee.next = y
            }
        } else {
            treap = y
        }
    }

    /// `rotateRight`: y's left child x takes y's place; y becomes x's right.
    func rotateRight(_ y: UnsafeMutablePointer<SemaSudog>) {
        // p -> (y (x a b) c)
        let p = y.pointee.parent
        let x = y.pointee.prev!
        let b = x.pointee.next
        x.pointee.next = y
        y.pointee.parent = x
        y.pointee.prev = b
        if let b { b.pointee.parent = y }
        x.pointee.parent = p
        if let p {
            if p.pointee.prev == y {
                p.pointee.prev = x
            } else {
                if p.pointee.next != y { goFatal("semaRoot rotateRight") }
                p.pointee.next = x
            }
        } else {
            treap = x
        }
    }

    /// Number of waiters queued on this root, after checking the treap and
    /// list invariants listed in Sema.swift. Root lock held.
    func checkInvariantsLocked(rootIndex: Int) -> Int {
        var queued = 0
        func visit(_ node: UnsafeMutablePointer<SemaSudog>?, parent: UnsafeMutablePointer<SemaSudog>?,
                   low: UInt, high: UInt) {
            guard let n = node else { return }
            let key = UInt(bitPattern: n.pointee.elem)
            precondition(n.pointee.elem != nil, "treap node without elem")
            precondition(key >= low && key < high, "treap not ordered by address")
            precondition(n.pointee.parent == parent, "treap parent link broken")
            if let parent { precondition(parent.pointee.ticket <= n.pointee.ticket, "treap not heap-ordered") }
            precondition((key >> 3) % UInt(semTabSize) == UInt(rootIndex), "waiter in wrong root")
            // The wait list.
            queued += 1
            var last = n
            var w = n.pointee.waitlink
            while let x = w {
                precondition(x.pointee.elem == n.pointee.elem, "waiter on another address")
                queued += 1
                last = x
                w = x.pointee.waitlink
            }
            precondition(n.pointee.waittail == (last == n ? nil : last), "waittail is not the last waiter")
            visit(n.pointee.prev, parent: n, low: low, high: key)
            visit(n.pointee.next, parent: n, low: key &+ 1, high: high)
        }
        visit(treap, parent: nil, low: 0, high: UInt.max)
        precondition(Int(nwait.load()) >= queued, "nwait below the number of queued waiters")
        return queued
    }
}

extension SemaTable {
    /// Checks every root's invariants (taking each root lock in turn) and
    /// returns the total number of queued waiters.
    @discardableResult
    static func checkInvariants() -> Int {
        var total = 0
        for i in 0..<semTabSize {
            let root = SemaRoot((base + i * semaRootStride).assumingMemoryBound(to: SemaRootStorage.self))
            root.lock.lock()
            total += root.checkInvariantsLocked(rootIndex: i)
            root.lock.unlock()
        }
        return total
    }
}

/// Number of threads queued on the semaphore at `addr` (takes the root
/// lock). For tests that must know a waiter is really queued.
func semaQueuedWaiters(_ addr: UnsafeMutablePointer<UInt32>) -> Int {
    let root = SemaTable.root(for: addr)
    let elem = UnsafeMutableRawPointer(addr)
    root.lock.lock()
    defer { root.lock.unlock() }
    var t = root.treap
    while let node = t {
        if node.pointee.elem == elem {
            var n = 0
            var w: UnsafeMutablePointer<SemaSudog>? = node
            while let x = w { n += 1; w = x.pointee.waitlink }
            return n
        }
        t = UInt(bitPattern: elem) < UInt(bitPattern: node.pointee.elem) ? node.pointee.prev : node.pointee.next
    }
    return 0
}
