// The slow paths of Mutex (sync/mutex.go `lockSlow`, `unlockSlow`): spinning,
// queueing on the semaphore, starvation mode, hand-off. See Mutex.swift for
// the state word and Go's fairness essay, Spin.swift for when spinning is
// allowed, Sema.swift for queueing.

import Synchronization

extension Mutex {
    /// `lockSlow`: the CAS of the fast path failed.
    ///
    /// Every read of `state` here is a plain atomic load whose value is only
    /// used as the expected value of a later CAS (or to decide whether to
    /// spin): a stale read costs a failed CAS and a retry, never a wrong
    /// transition.
    @usableFromInline @inline(never)
    func lockSlow() {
        var waitStartTime: Int64 = 0
        var starving = false
        var awoke = false
        var iter = 0
        var spinPhase = SpinPhase()
        var spins: UInt64 = 0
        var old = state.load(ordering: .relaxed)
        while true {
            // Don't spin in starvation mode, ownership is handed off to
            // waiters so we won't be able to acquire the mutex anyway.
            if old & (mutexLocked | mutexStarving) == mutexLocked
                && canSpin(iter, spinning: spinPhase.registered) {
                spinPhase.enter()
                // Active spinning makes sense. Try to set mutexWoken flag to
                // inform unlock to not wake other blocked threads.
                if !awoke && old & mutexWoken == 0 && old >> mutexWaiterShift != 0
                    && state.compareExchange(expected: old, desired: old | mutexWoken,
                                             ordering: .sequentiallyConsistent).exchanged {
                    awoke = true
                }
                doSpin()
                spins &+= 1
                iter += 1
                old = state.load(ordering: .relaxed)
                continue
            }
            spinPhase.leave()
            var new = old
            // Don't try to acquire starving mutex, new arriving threads must
            // queue.
            if old & mutexStarving == 0 {
                new |= mutexLocked
            }
            if old & (mutexLocked | mutexStarving) != 0 {
                new &+= 1 << mutexWaiterShift
            }
            // The current thread switches mutex to starvation mode. But if
            // the mutex is currently unlocked, don't do the switch. Unlock
            // expects that starving mutex has waiters, which will not be
            // true in this case.
            if starving && old & mutexLocked != 0 {
                new |= mutexStarving
            }
            if awoke {
                // The thread has been woken from sleep, so we need to reset
                // the flag in either case.
                if new & mutexWoken == 0 {
                    goFatal("sync: inconsistent mutex state")
                }
                new &= ~mutexWoken
            }
            if state.compareExchange(expected: old, desired: new,
                                     ordering: .sequentiallyConsistent).exchanged {
                if old & (mutexLocked | mutexStarving) == 0 {
                    break // locked the mutex with CAS
                }
                if new & mutexStarving != 0 && old & mutexStarving == 0 {
                    countSyncEvent(.starvationEnter)
                }
                // If we were already waiting before, queue at the front of
                // the queue.
                let queueLifo = waitStartTime != 0
                if waitStartTime == 0 {
                    waitStartTime = Machine.nanotime()
                }
                semacquire(sema, lifo: queueLifo)
                starving = starvationModeEnabled
                    && (starving || Machine.nanotime() - waitStartTime > starvationThresholdNs)
                old = state.load(ordering: .sequentiallyConsistent)
                if old & mutexStarving != 0 {
                    // If this thread was woken and mutex is in starvation
                    // mode, ownership was handed off to us but mutex is in
                    // somewhat inconsistent state: mutexLocked is not set
                    // and we are still accounted as waiter. Fix that.
                    if old & (mutexLocked | mutexWoken) != 0 || old >> mutexWaiterShift == 0 {
                        goFatal("sync: inconsistent mutex state")
                    }
                    var delta = mutexLocked - 1 << mutexWaiterShift
                    if !starving || old >> mutexWaiterShift == 1 {
                        // Exit starvation mode. Critical to do it here and
                        // consider wait time. Starvation mode is so
                        // inefficient, that two threads can go lock-step
                        // infinitely once they switch mutex to starvation
                        // mode.
                        delta -= mutexStarving
                        countSyncEvent(.starvationExit)
                    }
                    state.wrappingAdd(delta, ordering: .sequentiallyConsistent)
                    break
                }
                awoke = true
                iter = 0
            } else {
                old = state.load(ordering: .relaxed)
            }
        }
        spinPhase.leave()
        let me = SyncThread.current
        me.count(.mutexSlowPath)
        if spins != 0 {
            me.count(.spinIterations, spins)
            me.count(.pauses, spins &* UInt64(activeSpinCount))
        }
    }

    /// `unlockSlow`: the state after dropping the lock bit was not zero.
    @usableFromInline @inline(never)
    func unlockSlow(_ newState: Int32) {
        if (newState &+ mutexLocked) & mutexLocked == 0 {
            goFatal("sync: unlock of unlocked mutex")
        }
        if newState & mutexStarving == 0 {
            var old = newState
            while true {
                // If there are no waiters or a thread has already been
                // woken or grabbed the lock, no need to wake anyone. In
                // starvation mode ownership is directly handed off from
                // unlocking thread to the next waiter. We are not part of
                // this chain, since we did not observe mutexStarving when we
                // unlocked the mutex above. So get off the way.
                if old >> mutexWaiterShift == 0 || old & (mutexLocked | mutexWoken | mutexStarving) != 0 {
                    return
                }
                // Grab the right to wake someone.
                let new = (old &- 1 << mutexWaiterShift) | mutexWoken
                if state.compareExchange(expected: old, desired: new,
                                         ordering: .sequentiallyConsistent).exchanged {
                    semrelease(sema, handoff: false)
                    return
                }
                old = state.load(ordering: .relaxed)
            }
        } else {
            // Starving mode: handoff mutex ownership to the next waiter, and
            // yield our time slice so that the next waiter can start to run
            // immediately. Note: mutexLocked is not set, the waiter will set
            // it after wakeup. But mutex is still considered locked if
            // mutexStarving is set, so new coming threads won't acquire it.
            semrelease(sema, handoff: true)
        }
    }
}
