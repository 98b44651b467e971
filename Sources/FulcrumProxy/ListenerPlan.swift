import FulcrumCore
import NIOCore

/// One socket to listen on and what to do with the connections it accepts.
struct ListenerPlan: Sendable {
    enum Endpoint: Sendable {
        case inet(SocketAddress)
        case unix(String)
        case inheritedFD(Int32)
    }

    let frontend: String
    let endpoint: Endpoint
    let description: String
    let backlog: Int32
    let clientTimeout: TimeAmount?
    /// `timeout client-fin`.
    let clientFinTimeout: TimeAmount?
    let backend: BackendPool
    /// Set for an HTTP-mode frontend.
    let http: HTTPProxyPolicy?
    /// The `maxconn`s this listener counts against: its bind line's, its frontend's and
    /// the process's, those that are set.
    let limits: [ConnectionLimit]
    /// The frontend's access log (TCP mode; HTTP mode has it in its policy) and its
    /// connection counter.
    let accessLog: AccessLog?
    let frontendConnections: ConnectionCounter
    let frontendCounters: StatCounters
    /// The bind line's socket options (interface, transparent, v4v6, v6only, unix mode...).
    let options: BindOptions
    /// Set for a TCP-mode frontend when the configuration splices anywhere.
    var splicing: TCPSplicing? = nil
    /// `option tcp-smart-accept` (on by default in HTTP mode, as in HAProxy): the
    /// listening socket has TCP_QUICKACK off, so a request's ACK travels with the
    /// response instead of in a packet of its own.
    var smartAccept = false

    /// Every address and port of a `bind` line: port ranges give one socket per port.
    static func plans(for bind: BindConfig, frontend: String, clientTimeout: TimeAmount?, clientFinTimeout: TimeAmount?, backend: BackendPool, http: HTTPProxyPolicy?,
                      defaultBacklog: Int32, limits outer: [ConnectionLimit], accessLog: AccessLog?, counter: ConnectionCounter,
                      counters: StatCounters) throws -> [ListenerPlan] {
        // Half-running these would be worse than refusing: plain text where TLS was
        // configured, or a PROXY header taken for request bytes.
        if bind.options.ssl || !bind.options.certificates.isEmpty {
            throw ProxyStartError("frontend '\(frontend)': 'ssl'/'crt' on a bind line is not implemented yet (TLS termination is later work)")
        }
        if bind.options.acceptProxy {
            throw ProxyStartError("frontend '\(frontend)': 'accept-proxy' is not implemented yet")
        }
        var out: [ListenerPlan] = []
        let backlog = Int32(bind.options.backlog ?? Int(defaultBacklog))
        let limits = (bind.options.maxconn.map { [ConnectionLimit(limit: $0)] } ?? []) + outer
        for spec in bind.addresses {
            switch spec.kind {
            case .inet(let host, let family):
                let any = family == .ipv6 ? "::" : "0.0.0.0"
                let name = host.isEmpty || host == "*" ? any : host
                for port in spec.ports ?? 0...0 {
                    let address = try SocketAddress.makeAddressResolvingHost(name, port: port)
                    out.append(ListenerPlan(frontend: frontend, endpoint: .inet(address), description: name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)", backlog: backlog,
                                            clientTimeout: clientTimeout, clientFinTimeout: clientFinTimeout, backend: backend, http: http, limits: limits, accessLog: accessLog, frontendConnections: counter, frontendCounters: counters, options: bind.options))
                }
            case .unix(let path):
                out.append(ListenerPlan(frontend: frontend, endpoint: .unix(path), description: path, backlog: backlog, clientTimeout: clientTimeout, clientFinTimeout: clientFinTimeout, backend: backend, http: http, limits: limits, accessLog: accessLog, frontendConnections: counter, frontendCounters: counters, options: bind.options))
            case .inheritedFD(let fd):
                out.append(ListenerPlan(frontend: frontend, endpoint: .inheritedFD(fd), description: "fd@\(fd)", backlog: backlog, clientTimeout: clientTimeout, clientFinTimeout: clientFinTimeout, backend: backend, http: http, limits: limits, accessLog: accessLog, frontendConnections: counter, frontendCounters: counters, options: bind.options))
            case .abstractNamespace, .socketPair:
                throw ProxyStartError("frontend '\(frontend)': binding '\(spec)' is not supported yet")
            }
        }
        return out
    }
}
