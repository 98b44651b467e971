import NIOConcurrencyHelpers
import NIOCore

/// Where each server of a backend is reached, and where its checks and agent go: set
/// from the configuration, changed by the runtime API (`set server addr`, `check-port`).
/// Read once per connection to a server and once per check (one lock each), so a
/// change applies to the next connection and the next check.
final class ServerAddresses: Sendable {
    struct Entry: Sendable {
        var target: ServerTarget
        /// Where the health check connects (nil: the server has no health check).
        var check: SocketAddress?
        /// The check goes to the server's address (no `addr`), on the server's port (no
        /// `port`/`check-port`): a new server address or port moves it along.
        var checkFollowsAddress = true
        var checkPortSet = false
        var agent: SocketAddress?
        var agentFollowsAddress = true
    }

    private let entries: NIOLockedValueBox<[Entry]>

    init(_ targets: [ServerTarget]) {
        entries = NIOLockedValueBox(targets.map { Entry(target: $0) })
    }

    func target(_ server: Int) -> ServerTarget { entries.withLockedValue { $0[server].target } }
    func entry(_ server: Int) -> Entry { entries.withLockedValue { $0[server] } }
    func check(_ server: Int) -> SocketAddress? { entries.withLockedValue { $0[server].check } }
    func agent(_ server: Int) -> SocketAddress? { entries.withLockedValue { $0[server].agent } }

    /// Where the checks start out, from the configuration.
    func setChecks(_ server: Int, check: SocketAddress?, followsAddress: Bool, portSet: Bool, agent: SocketAddress?, agentFollowsAddress: Bool) {
        entries.withLockedValue {
            $0[server].check = check
            $0[server].checkFollowsAddress = followsAddress
            $0[server].checkPortSet = portSet
            $0[server].agent = agent
            $0[server].agentFollowsAddress = agentFollowsAddress
        }
    }

    /// `set server addr`: the server's new address (and port, when given); checks and
    /// agent that followed the old one follow the new one.
    func setAddress(_ server: Int, _ address: SocketAddress, portFromClient: Bool) {
        entries.withLockedValue { all in
            var e = all[server]
            let oldPort = e.target.address.port
            e.target.address = address
            e.target.portFromClient = portFromClient
            if var check = e.check, e.checkFollowsAddress {
                let port = e.checkPortSet ? check.port : address.port ?? oldPort
                check = address
                check.port = port ?? 0
                e.check = check
            }
            if var agent = e.agent, e.agentFollowsAddress {
                let port = agent.port ?? 0
                agent = address
                agent.port = port
                e.agent = agent
            }
            all[server] = e
        }
    }

    /// `set server check-port`.
    func setCheckPort(_ server: Int, _ port: Int) {
        entries.withLockedValue {
            $0[server].check?.port = port
            $0[server].checkPortSet = true
        }
    }
}
