import NIOConcurrencyHelpers
import Synchronization

/// A `maxconn` shared by listeners on several event loops: the process (global), a
/// frontend, or one `bind` line. Listeners that find it full stop accepting and are
/// called back when a connection it counts closes, or when the runtime API raises it.
///
/// Taking and giving back a slot are atomic operations; the lock is only taken when a
/// listener waits for room, so a limit that is never reached (the default `Int.max`,
/// kept so that `set maxconn` can lower it later) costs two atomic adds per connection.
final class ConnectionLimit: Sendable {
    private let current = Synchronization.Atomic<Int>(0)
    private let maximum: Synchronization.Atomic<Int>
    /// The limit the configuration set (`set maxconn global 0` returns to it).
    let initial: Int
    private let waiting = NIOLockedValueBox<[@Sendable () -> Void]>([])
    private let hasWaiters = Synchronization.Atomic<Bool>(false)

    init(limit: Int) {
        maximum = Synchronization.Atomic(limit)
        initial = limit
    }

    var limit: Int { maximum.load(ordering: .relaxed) }
    var count: Int { current.load(ordering: .relaxed) }
    /// Whether a limit was set at all (by the configuration or the runtime API).
    var isSet: Bool { limit != Int.max }

    func tryAcquire() -> Bool {
        var seen = current.load(ordering: .relaxed)
        while seen < maximum.load(ordering: .relaxed) {
            let (exchanged, original) = current.compareExchange(expected: seen, desired: seen + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            seen = original
        }
        return false
    }

    func release() {
        // Sequentially consistent with `notifyWhenFree`: either this release sees the
        // waiter's flag, or the waiter sees this release's count.
        current.subtract(1, ordering: .sequentiallyConsistent)
        if hasWaiters.load(ordering: .sequentiallyConsistent) { wake() }
    }

    /// `set maxconn`: a raised limit lets the waiting listeners accept at once.
    func setLimit(_ limit: Int) {
        maximum.store(limit, ordering: .sequentiallyConsistent)
        wake()
    }

    private func wake() {
        let callbacks: [@Sendable () -> Void] = waiting.withLockedValue { all in
            hasWaiters.store(false, ordering: .sequentiallyConsistent)
            defer { all = [] }
            return all
        }
        for callback in callbacks { callback() }
    }

    /// Calls `callback` once a slot may be free; false (and no call) if one is free now.
    func notifyWhenFree(_ callback: @escaping @Sendable () -> Void) -> Bool {
        waiting.withLockedValue { all in
            hasWaiters.store(true, ordering: .sequentiallyConsistent)
            guard current.load(ordering: .sequentiallyConsistent) >= maximum.load(ordering: .sequentiallyConsistent) else {
                if all.isEmpty { hasWaiters.store(false, ordering: .sequentiallyConsistent) }
                return false
            }
            all.append(callback)
            return true
        }
    }
}
