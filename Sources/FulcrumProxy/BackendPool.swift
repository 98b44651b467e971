import FulcrumCore
import NIOConcurrencyHelpers
import NIOCore

/// A backend as the data plane uses it: its servers' addresses, its balancer (one lock
/// taken per connection, never per byte) and the timeouts and retry settings that
/// govern connections to it.
final class BackendPool: Sendable {
    let name: String
    let servers: [ServerTarget]
    let connectTimeout: TimeAmount
    let serverTimeout: TimeAmount?
    let retries: Int
    let redispatch: Bool
    private let balancer: NIOLockedValueBox<RoundRobinBalancer>
    /// Server connections kept for reuse in HTTP mode, per event loop.
    let idle: IdleServerConnections

    init(_ backend: ProxyConfig, loops: [EventLoop]) throws {
        name = backend.name
        let active = backend.servers.filter { !$0.options.disabled }
        servers = try active.map(ServerTarget.init)
        switch backend.balance {
        case .roundRobin, .staticRoundRobin:
            break
        default:
            throw ProxyStartError("backend '\(backend.name)': 'balance \(backend.balance)' is not implemented yet (roundrobin and static-rr are)")
        }
        balancer = NIOLockedValueBox(RoundRobinBalancer(
            servers: active.map { ($0.options.weight, $0.options.backup) },
            useAllBackups: backend.options.others["allbackups"] == true))
        connectTimeout = .milliseconds(Int64(backend.timeouts.connect?.milliseconds ?? 5000))
        let idleTimeout = backend.timeouts.tunnel ?? backend.timeouts.server
        serverTimeout = idleTimeout.map { .milliseconds(Int64($0.milliseconds)) }
        retries = backend.retries
        redispatch = backend.options.redispatch
        idle = IdleServerConnections(loops: loops, servers: servers.count)
    }

    func pick(excluding excluded: Set<Int>) -> Int? {
        balancer.withLockedValue { $0.pick(excluding: excluded) }
    }
}
