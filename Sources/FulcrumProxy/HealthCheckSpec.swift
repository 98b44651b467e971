import FulcrumCore
import NIOCore

/// Everything needed to start checking one server, resolved when the configuration is
/// loaded so that a bad check address or rule stops the start, not a later check.
struct HealthCheckSpec: Sendable {
    let pool: BackendPool
    let server: Int
    let plan: HealthCheckPlan?
    let address: SocketAddress
    let agent: HealthChecker.Agent?
    let timing: HealthChecker.Timing
    let initial: HealthCheckStateMachine.InitialState

    /// One spec per server with `check` in `backend`. A server without a port to
    /// check is left unchecked with a warning, as HAProxy does.
    static func specs(for backend: ProxyConfig, pool: BackendPool, global: GlobalSettings, warn: (String) -> Void) throws -> [HealthCheckSpec] {
        let checked = pool.serverConfigs.indices.filter { pool.serverConfigs[$0].options.check || pool.serverConfigs[$0].options.agentCheck }
        guard !checked.isEmpty else { return [] }
        let backendPlan: HealthCheckPlan
        do {
            backendPlan = try HealthCheckPlan.make(for: backend)
        } catch {
            throw ProxyStartError("backend '\(backend.name)': \(error)")
        }
        func amount(_ d: DurationValue) -> TimeAmount { .milliseconds(Int64(d.milliseconds)) }
        var specs: [HealthCheckSpec] = []
        for index in checked {
            let config = pool.serverConfigs[index]
            let options = config.options
            let target = pool.servers[index]
            var plan: HealthCheckPlan? = options.check ? backendPlan : nil
            let port = backendPlan.port ?? options.checkPort ?? (target.portFromClient ? nil : target.address.port) ?? 0
            if plan != nil && port <= 0 {
                warn("config : \(pool.kindLabel) '\(pool.name)' : server '\(config.name)' has neither service port nor check port. Check has been disabled.")
                plan = nil
            }
            var agent: HealthChecker.Agent? = nil
            if options.agentCheck {
                if let agentPort = options.agentPort {
                    var agentAddress = target.address
                    if let host = options.others["agent-addr"] {
                        do {
                            agentAddress = try SocketAddress.makeAddressResolvingHost(host, port: agentPort)
                        } catch {
                            throw ProxyStartError("server '\(config.name)': cannot resolve agent address '\(host)'")
                        }
                    }
                    agentAddress.port = agentPort
                    agent = HealthChecker.Agent(address: agentAddress, inter: options.agentInter.map(amount) ?? .seconds(2), send: options.agentSend)
                } else {
                    warn("config : \(pool.kindLabel) '\(pool.name)' : server '\(config.name)': 'agent-check' needs 'agent-port'. Agent check has been disabled.")
                }
            }
            guard plan != nil || agent != nil else { continue }
            var address = target.address
            if let host = options.checkAddress {
                do {
                    address = try SocketAddress.makeAddressResolvingHost(host, port: port)
                } catch {
                    throw ProxyStartError("server '\(config.name)': cannot resolve check address '\(host)'")
                }
            }
            if port > 0 { address.port = port }
            pool.addresses.setChecks(index, check: plan == nil ? nil : address, followsAddress: options.checkAddress == nil,
                                     portSet: backendPlan.port != nil || options.checkPort != nil,
                                     agent: agent?.address, agentFollowsAddress: options.others["agent-addr"] == nil)
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
            specs.append(HealthCheckSpec(pool: pool, server: index, plan: plan, address: address, agent: agent, timing: timing, initial: initial))
        }
        return specs
    }
}
