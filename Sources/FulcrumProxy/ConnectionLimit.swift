import NIOConcurrencyHelpers

/// A `maxconn` shared by listeners on several event loops: the process (global), a
/// frontend, or one `bind` line. Listeners that find it full stop accepting and are
/// called back when a connection it counts closes.
final class ConnectionLimit: Sendable {
    let limit: Int
    private let state = NIOLockedValueBox<(count: Int, waiting: [@Sendable () -> Void])>((0, []))

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { state.withLockedValue { $0.count } }

    func tryAcquire() -> Bool {
        state.withLockedValue { state in
            guard state.count < limit else { return false }
            state.count += 1
            return true
        }
    }

    func release() {
        let wake: [@Sendable () -> Void] = state.withLockedValue { state in
            state.count -= 1
            let all = state.waiting
            state.waiting = []
            return all
        }
        for callback in wake { callback() }
    }

    /// Calls `callback` once a slot frees; false (and no call) if one is free now.
    func notifyWhenFree(_ callback: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { state in
            guard state.count >= limit else { return false }
            state.waiting.append(callback)
            return true
        }
    }
}
