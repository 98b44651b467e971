import FulcrumCore
import NIOCore

/// Everything needed to start checking one server, resolved when the configuration is
/// loaded so that a bad check address or rule stops the start, not a later check.
struct HealthCheckSpec: Sendable {
    let pool: BackendPool
    let server: Int
    let plan: HealthCheckPlan
    let address: SocketAddress
    let timing: HealthChecker.Timing
    let initial: HealthCheckStateMachine.InitialState

    /// One spec per server with `check` in `backend`. A server without a port to
    /// check is left unchecked with a warning, as HAProxy does.
    static func specs(for backend: ProxyConfig, pool: BackendPool, global: GlobalSettings, warn: (String) -> Void) throws -> [HealthCheckSpec] {
        let checked = pool.serverConfigs.indices.filter { pool.serverConfigs[$0].options.check }
        guard !checked.isEmpty else { return [] }
        let plan: HealthCheckPlan
        do {
            plan = try HealthCheckPlan.make(for: backend)
        } catch {
            throw ProxyStartError("backend '\(backend.name)': \(error)")
        }
        func amount(_ d: DurationValue) -> TimeAmount { .milliseconds(Int64(d.milliseconds)) }
        var specs: [HealthCheckSpec] = []
        for index in checked {
            let config = pool.serverConfigs[index]
            let options = config.options
            let target = pool.servers[index]
            let port = plan.port ?? options.checkPort ?? (target.portFromClient ? nil : target.address.port)
            guard let port, port > 0 else {
                warn("config : \(pool.kindLabel) '\(pool.name)' : server '\(config.name)' has neither service port nor check port. Check has been disabled.")
                continue
            }
            var address = target.address
            if let host = options.checkAddress {
                do {
                    address = try SocketAddress.makeAddressResolvingHost(host, port: port)
                } catch {
                    throw ProxyStartError("server '\(config.name)': cannot resolve check address '\(host)'")
                }
            }
            address.port = port
            let inter = amount(options.inter)
            let connect = backend.timeouts.connect.map(amount)
            let check = backend.timeouts.check.map(amount)
            // HAProxy: without `timeout check`, `inter` bounds the whole check; with
            // it, the connect gets min(timeout connect, inter) and the answer `timeout check`.
            let connectTimeout = check == nil ? inter : min(connect ?? inter, inter)
            let timing = HealthChecker.Timing(inter: inter, fastinter: options.fastinter.map(amount) ?? inter,
                                              downinter: options.downinter.map(amount) ?? inter, connectTimeout: connectTimeout,
                                              readTimeout: check, spreadPercent: global.spreadChecks ?? 0)
            let initial = options.initState.flatMap(HealthCheckStateMachine.InitialState.init(rawValue:)) ?? .up
            specs.append(HealthCheckSpec(pool: pool, server: index, plan: plan, address: address, timing: timing, initial: initial))
        }
        return specs
    }
}
