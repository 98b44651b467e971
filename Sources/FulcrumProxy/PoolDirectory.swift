import NIOConcurrencyHelpers

/// Every backend of the running configuration by name, for the fetches that read
/// another backend's counts (`be_conn(name)`, `srv_is_up(b/s)`). Filled once the
/// runtime has built them all; read under a lock, only by those fetches.
final class PoolDirectory: Sendable {
    private let pools = NIOLockedValueBox<[String: BackendPool]>([:])

    func set(_ all: [String: BackendPool]) { pools.withLockedValue { $0 = all } }

    subscript(name: String) -> BackendPool? { pools.withLockedValue { $0[name] } }
}
