import NIOConcurrencyHelpers

/// Every backend and frontend of the running configuration by name, and the proxies'
/// ids, for the fetches that read another proxy's state (`be_conn(name)`,
/// `srv_is_up(b/s)`, `fe_sess_rate(name)`, `be_id`...). Filled once the runtime has
/// built them all; read under a lock, only by those fetches.
final class PoolDirectory: Sendable {
    struct Frontend: Sendable {
        let connections: ConnectionCounter
        let counters: StatCounters
    }

    private struct Contents {
        var pools: [String: BackendPool] = [:]
        var frontends: [String: Frontend] = [:]
        var ids: [String: Int] = [:]
    }

    private let contents = NIOLockedValueBox(Contents())

    func set(_ all: [String: BackendPool]) { contents.withLockedValue { $0.pools = all } }

    func set(frontends: [String: Frontend], ids: [String: Int]) {
        contents.withLockedValue {
            $0.frontends = frontends
            $0.ids = ids
        }
    }

    subscript(name: String) -> BackendPool? { contents.withLockedValue { $0.pools[name] } }

    func frontend(_ name: String) -> Frontend? { contents.withLockedValue { $0.frontends[name] } }

    func id(_ name: String) -> Int? { contents.withLockedValue { $0.ids[name] } }
}
