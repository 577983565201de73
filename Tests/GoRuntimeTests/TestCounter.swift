// A counter threads can bump and read without a data race, for tests that
// must not take the lock they are testing. In a file of its own: importing
// Synchronization beside GoRuntime makes `Mutex` ambiguous.

import Synchronization

final class TestCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.add(1, ordering: .sequentiallyConsistent) }

    var value: Int { count.load(ordering: .sequentiallyConsistent) }
}
