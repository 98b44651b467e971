import NIOCore
import Testing
@testable import FulcrumEventLoop

/// The loop's timer heap on its own: earliest first, ties in arming order, timers moved
/// and taken out in place, and every timer knowing where it sits.
@Suite struct TimerHeapTests {
    static func at(_ nanoseconds: UInt64) -> NIODeadline { .uptimeNanoseconds(nanoseconds) }

    /// Takes out every timer, earliest first; at most as many as were armed, so that a
    /// heap that keeps giving the same timer fails instead of hanging.
    static func drain(_ heap: inout TimerHeap) -> [LoopTimer] {
        var fired: [LoopTimer] = []
        for _ in 0..<heap.count {
            guard let timer = heap.popExpired(now: .distantFuture) else { break }
            fired.append(timer)
        }
        return fired
    }

    /// The first broken promise of the heap, if any: each timer's recorded place is its
    /// place, and no child precedes its parent.
    static func problem(_ heap: TimerHeap) -> String? {
        for (index, timer) in heap.timers.enumerated() {
            if timer.heapIndex != index { return "timer at \(index) thinks it is at \(timer.heapIndex)" }
            if index > 0 {
                let parent = heap.timers[(index - 1) / 2]
                let ordered = parent.deadline < timer.deadline
                    || (parent.deadline == timer.deadline && parent.sequence < timer.sequence)
                if !ordered { return "heap order broken at \(index)" }
            }
        }
        if heap.count != heap.timers.count { return "count \(heap.count) for \(heap.timers.count) timers" }
        if heap.earliest !== heap.timers.first { return "earliest is not the root" }
        return nil
    }

    @Test func manyRandomDeadlinesComeOutInOrder() {
        var random = SplitMix64(seed: 1)
        var heap = TimerHeap()
        var deadlines: [UInt64] = []
        for _ in 0..<1000 {
            let deadline = UInt64.random(in: 1...1_000_000, using: &random)
            deadlines.append(deadline)
            heap.arm(LoopTimer {}, at: Self.at(deadline))
        }
        #expect(heap.count == 1000)
        #expect(Self.problem(heap) == nil)
        let fired = Self.drain(&heap)
        #expect(fired.map(\.deadline.uptimeNanoseconds) == deadlines.sorted())
        #expect(heap.isEmpty)
        #expect(heap.earliest == nil)
        #expect(fired.allSatisfy { !$0.isArmed && $0.heapIndex == -1 })
    }

    @Test func equalDeadlinesComeOutInArmingOrder() {
        var random = SplitMix64(seed: 2)
        var heap = TimerHeap()
        var armed: [ObjectIdentifier] = []
        // Interleaved with other deadlines, so that the ties meet across the heap.
        for k in 0..<300 {
            let timer = LoopTimer {}
            if k % 3 == 0 {
                heap.arm(timer, at: Self.at(500))
                armed.append(ObjectIdentifier(timer))
            } else {
                heap.arm(timer, at: Self.at(UInt64.random(in: 1...1000, using: &random)))
            }
        }
        let ties = Self.drain(&heap).filter { $0.deadline == Self.at(500) }.map(ObjectIdentifier.init)
        #expect(ties.count >= armed.count)
        // Timers drawn at 500 by chance were armed among them; keep only the chosen ones,
        // by their place in the arming order.
        let place = Dictionary(uniqueKeysWithValues: armed.enumerated().map { ($0.element, $0.offset) })
        #expect(ties.compactMap { place[$0] } == Array(0..<armed.count))
    }

    @Test func popExpiredTakesOnlyWhatIsDue() {
        var heap = TimerHeap()
        let first = LoopTimer {}, second = LoopTimer {}, third = LoopTimer {}
        heap.arm(third, at: Self.at(30))
        heap.arm(first, at: Self.at(10))
        heap.arm(second, at: Self.at(20))
        #expect(heap.popExpired(now: Self.at(9)) == nil)
        #expect(heap.popExpired(now: Self.at(15)) === first)
        #expect(heap.popExpired(now: Self.at(15)) == nil)
        #expect(heap.popExpired(now: Self.at(20)) === second, "a deadline equal to now is due")
        #expect(heap.count == 1)
        #expect(heap.earliest === third)
        #expect(!first.isArmed && !second.isArmed && third.isArmed)
    }

    @Test func armingAnArmedTimerMovesIt() {
        var heap = TimerHeap()
        let a = LoopTimer {}, b = LoopTimer {}, c = LoopTimer {}, d = LoopTimer {}
        heap.arm(a, at: Self.at(10))
        heap.arm(b, at: Self.at(20))
        heap.arm(c, at: Self.at(30))
        heap.arm(d, at: Self.at(40))

        heap.arm(d, at: Self.at(5))
        #expect(heap.count == 4, "moved, not added twice")
        #expect(heap.earliest === d)
        #expect(d.deadline == Self.at(5))
        #expect(Self.problem(heap) == nil)

        heap.arm(d, at: Self.at(50))
        heap.arm(a, at: Self.at(35))
        #expect(heap.count == 4)
        #expect(heap.earliest === b)
        #expect(Self.problem(heap) == nil)

        // Moved onto an equal deadline, a timer goes after those armed there before it.
        heap.arm(b, at: Self.at(30))
        #expect(Self.problem(heap) == nil)
        #expect(Self.drain(&heap).map(ObjectIdentifier.init) == [c, b, a, d].map(ObjectIdentifier.init))
    }

    @Test func cancellingTakesOutFirstMiddleLastAndIgnoresTheUnarmed() {
        var heap = TimerHeap()
        let timers = (1...9).map { _ in LoopTimer {} }
        for (k, timer) in timers.enumerated() { heap.arm(timer, at: Self.at(UInt64(k + 1) * 10)) }

        let first = heap.timers[0]
        heap.cancel(first)
        #expect(!first.isArmed && first.heapIndex == -1)
        #expect(Self.problem(heap) == nil)

        let last = heap.timers[heap.timers.count - 1]
        heap.cancel(last)
        #expect(!last.isArmed)
        #expect(Self.problem(heap) == nil)

        let middle = heap.timers[heap.timers.count / 2]
        heap.cancel(middle)
        #expect(!middle.isArmed)
        #expect(Self.problem(heap) == nil)
        #expect(heap.count == 6)

        // Not armed, or armed once and cancelled already: nothing changes.
        heap.cancel(LoopTimer {})
        heap.cancel(middle)
        #expect(heap.count == 6)
        #expect(Self.problem(heap) == nil)

        let removed = Set([first, last, middle].map(ObjectIdentifier.init))
        let expected = timers.map(ObjectIdentifier.init).filter { !removed.contains($0) }
        #expect(Self.drain(&heap).map(ObjectIdentifier.init) == expected)

        // A cancelled timer can be armed again.
        heap.arm(middle, at: Self.at(1))
        #expect(middle.isArmed)
        #expect(heap.earliest === middle)
    }

    @Test func cancellingTheOnlyTimerEmptiesTheHeap() {
        var heap = TimerHeap()
        let timer = LoopTimer {}
        heap.arm(timer, at: Self.at(1))
        heap.cancel(timer)
        #expect(heap.isEmpty)
        #expect(!timer.isArmed)
        #expect(heap.popExpired(now: .distantFuture) == nil)
    }

    /// Random arms, moves, cancels and pops against a plain model: after every step the
    /// places are right, and in the end the timers come out in the model's order.
    @Test func bookkeepingHoldsThroughRandomOperations() {
        var random = SplitMix64(seed: 3)
        var heap = TimerHeap()
        let timers = (0..<64).map { _ in LoopTimer {} }
        // The model: each armed timer's deadline and arming order.
        var model: [ObjectIdentifier: (deadline: UInt64, order: Int)] = [:]
        var order = 0
        var now: UInt64 = 0
        for step in 0..<3000 {
            let timer = timers[Int.random(in: 0..<timers.count, using: &random)]
            let id = ObjectIdentifier(timer)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                // Few distinct deadlines, so that ties are common.
                let deadline = now + UInt64.random(in: 0...40, using: &random)
                heap.arm(timer, at: Self.at(deadline))
                order += 1
                model[id] = (deadline, order)
            case 5..<8:
                heap.cancel(timer)
                model[id] = nil
            default:
                now += UInt64.random(in: 0...5, using: &random)
                let due = model.filter { $0.value.deadline <= now }
                    .sorted { ($0.value.deadline, $0.value.order) < ($1.value.deadline, $1.value.order) }
                for entry in due {
                    let popped = heap.popExpired(now: Self.at(now))
                    #expect(popped.map(ObjectIdentifier.init) == entry.key)
                    model[entry.key] = nil
                }
                #expect(heap.popExpired(now: Self.at(now)) == nil)
            }
            if let problem = Self.problem(heap) {
                Issue.record("step \(step): \(problem)")
                return
            }
            let wrong = timers.filter { $0.isArmed != (model[ObjectIdentifier($0)] != nil) }
            if heap.count != model.count || !wrong.isEmpty {
                Issue.record("step \(step): \(heap.count) armed for \(model.count) in the model, \(wrong.count) timers wrong")
                return
            }
        }
        let expected = model.sorted { ($0.value.deadline, $0.value.order) < ($1.value.deadline, $1.value.order) }.map(\.key)
        #expect(Self.drain(&heap).map(ObjectIdentifier.init) == expected)
    }
}
