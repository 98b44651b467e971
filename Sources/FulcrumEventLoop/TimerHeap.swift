import NIOCore

/// The armed timers of one loop, earliest first: a binary heap whose entries know their
/// place, so that moving or removing one costs O(log n) and no search.
struct TimerHeap {
    private(set) var timers: [LoopTimer] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { timers.isEmpty }
    var count: Int { timers.count }
    var earliest: LoopTimer? { timers.first }

    /// Arms `timer` for `deadline`, or moves it there when it is armed already.
    mutating func arm(_ timer: LoopTimer, at deadline: NIODeadline) {
        nextSequence &+= 1
        if timer.heapIndex >= 0 {
            let earlier = deadline < timer.deadline
            timer.deadline = deadline
            timer.sequence = nextSequence
            if earlier { siftUp(timer.heapIndex) } else { siftDown(timer.heapIndex) }
            return
        }
        timer.deadline = deadline
        timer.sequence = nextSequence
        timer.heapIndex = timers.count
        timers.append(timer)
        siftUp(timers.count - 1)
    }

    /// Takes `timer` out; nothing when it is not armed.
    mutating func cancel(_ timer: LoopTimer) {
        let index = timer.heapIndex
        guard index >= 0 else { return }
        timer.heapIndex = -1
        let last = timers.removeLast()
        guard index < timers.count else { return }
        timers[index] = last
        last.heapIndex = index
        siftUp(index)
        siftDown(last.heapIndex)
    }

    /// Takes out and returns the earliest timer when its deadline is at or before `now`.
    mutating func popExpired(now: NIODeadline) -> LoopTimer? {
        guard let first = timers.first, first.deadline <= now else { return nil }
        cancel(first)
        return first
    }

    private func precedes(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    private mutating func siftUp(_ start: Int) {
        var index = start
        let timer = timers[index]
        while index > 0 {
            let parent = (index - 1) / 2
            guard precedes(timer, timers[parent]) else { break }
            timers[index] = timers[parent]
            timers[index].heapIndex = index
            index = parent
        }
        timers[index] = timer
        timer.heapIndex = index
    }

    private mutating func siftDown(_ start: Int) {
        var index = start
        let timer = timers[index]
        let count = timers.count
        while true {
            let left = 2 * index + 1
            guard left < count else { break }
            var child = left
            if left + 1 < count && precedes(timers[left + 1], timers[left]) { child = left + 1 }
            guard precedes(timers[child], timer) else { break }
            timers[index] = timers[child]
            timers[index].heapIndex = index
            index = child
        }
        timers[index] = timer
        timer.heapIndex = index
    }
}
