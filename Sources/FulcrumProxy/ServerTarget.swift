import FulcrumCore
import NIOCore

/// Where to connect for one server, resolved once at start-up. A server written without
/// a port (or with `+N`/`-N`) takes the port the client connected to, as HAProxy does.
struct ServerTarget: Sendable {
    let name: String
    var address: SocketAddress
    var portFromClient: Bool
    let portOffset: Int

    init(_ server: ServerConfig) throws {
        if server.options.ssl {
            throw ProxyStartError("server '\(server.name)': 'ssl' towards servers is not implemented yet (TLS is later work)")
        }
        if server.options.sendProxy || server.options.sendProxyV2 {
            throw ProxyStartError("server '\(server.name)': 'send-proxy' is not implemented yet")
        }
        name = server.name
        switch server.address.kind {
        case .inet(let host, _):
            let port = server.address.ports?.lowerBound ?? 0
            address = try SocketAddress.makeAddressResolvingHost(host.isEmpty || host == "*" ? "127.0.0.1" : host, port: port)
            portFromClient = server.address.ports == nil || port == 0
            portOffset = server.address.portOffset ?? 0
        case .unix(let path):
            address = try SocketAddress(unixDomainSocketPath: path)
            portFromClient = false
            portOffset = 0
        default:
            throw ProxyStartError("server '\(server.name)': address '\(server.address)' cannot be connected to")
        }
    }

    func address(clientLocalPort: Int?) -> SocketAddress {
        guard portFromClient, let clientLocalPort else { return address }
        var copy = address
        copy.port = clientLocalPort + portOffset
        return copy
    }
}
