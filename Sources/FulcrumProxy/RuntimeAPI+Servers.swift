import FulcrumCore
import NIOCore

/// Servers' checks, addresses and limits from the runtime API: what HAProxy 2.6 offers
/// under `enable|disable health|agent`, `set server`, `set maxconn server` and `show
/// servers state`, answered in its words.
extension RuntimeAPI {
    static let serverCommands: [Command] = [
        Command(words: ["disable", "health"], arguments: "<backend>/<server>", level: .admin, help: "stop a server's health checks (it counts as UP)",
                answer: { api, args, loop in api.switchChecks(args, health: true, enabled: false, on: loop) }),
        Command(words: ["enable", "health"], arguments: "<backend>/<server>", level: .admin, help: "resume a server's health checks",
                answer: { api, args, loop in api.switchChecks(args, health: true, enabled: true, on: loop) }),
        Command(words: ["disable", "agent"], arguments: "<backend>/<server>", level: .admin, help: "stop a server's agent checks",
                answer: { api, args, loop in api.switchChecks(args, health: false, enabled: false, on: loop) }),
        Command(words: ["enable", "agent"], arguments: "<backend>/<server>", level: .admin, help: "resume a server's agent checks",
                answer: { api, args, loop in api.switchChecks(args, health: false, enabled: true, on: loop) }),
        Command(words: ["set", "maxconn", "server"], arguments: "<backend>/<server> <maxconn>", level: .admin, help: "change a server's maxconn", run: { api, args in
            api.withServer(args) { pool, index in
                guard args.count > 1 else { return "Require <maxconn>.\n" }
                guard let limit = Int(args[1]), limit >= 0 else { return "maxconn string empty or preceded by garbage\n" }
                pool.setMaxconn(index, limit)
                return ""
            }
        }),
    ]

    /// `enable|disable health|agent <b>/<s>`: the checker carries it out; the answer
    /// comes once it has.
    func switchChecks(_ args: [String], health: Bool, enabled: Bool, on loop: EventLoop) -> Reply {
        var order: EventLoopFuture<Void>?
        let text = withServer(args) { pool, index in
            let entry = pool.addresses.entry(index)
            guard health ? entry.check != nil : entry.agent != nil else {
                guard enabled else { return "" }
                return health ? "Health check was not configured on this server, cannot enable.\n"
                              : "Agent was not configured on this server, cannot enable.\n"
            }
            order = pool.order(index, health ? .health(enabled: enabled) : .agent(enabled: enabled))
            return ""
        }
        guard let order else { return .text(text) }
        return .later(order.map { "" })
    }

    /// `set server <b>/<s> addr|health|agent|check-port ...` (`state` and `weight`
    /// are handled with the table entry).
    func setServer(_ pool: BackendPool, _ index: Int, _ args: [String], on loop: EventLoop) -> Reply {
        let setting = args.first ?? "", value = args.count > 1 ? args[1] : ""
        let entry = pool.addresses.entry(index)
        let health = pool.healthRecord(index)
        switch setting {
        case "addr":
            return .text(setAddress(pool, index, Array(args.dropFirst())))
        case "health":
            guard let forced = CheckOrder.ForcedHealth(rawValue: value) else {
                return .text("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n")
            }
            if let order = pool.order(index, .forceHealth(forced)) { return .later(order.map { "" }) }
            forceUnchecked(pool, index, forced)
            return .text("")
        case "agent":
            guard entry.agent != nil, !health.agentDisabled else { return .text("agent checks are not enabled on this server.\n") }
            guard value == "up" || value == "down" else { return .text("'set server <srv> agent' expects 'up' or 'down'.\n") }
            guard let order = pool.order(index, .forceAgent(up: value == "up")) else { return .text("") }
            return .later(order.map { "" })
        case "check-port":
            guard entry.check != nil, !health.checksDisabled else { return .text("health checks are not enabled on this server\n") }
            guard args.count > 1 else { return .text("set server <b>/<s> check-port requires a port.\n") }
            guard let port = Int(value) else { return .text("provided port is not an integer\n") }
            guard (1...65535).contains(port) else { return .text("provided port is invalid\n") }
            pool.addresses.setCheckPort(index, port)
            return .text("")
        default:
            return .text("usage: set server <backend>/<server> addr | agent | check-port | health | state | weight\n")
        }
    }

    /// `set server <b>/<s> addr <ip> [port <port>]`: the next connections and checks go
    /// there; idle connections to the old address are dropped.
    func setAddress(_ pool: BackendPool, _ index: Int, _ args: [String]) -> String {
        guard let ip = args.first else { return "set server <b>/<s> addr requires an address and optionally a port.\n" }
        let suffix = " by 'stats socket command'\n"
        let current = pool.addresses.target(index).address
        guard var address = try? SocketAddress(ipAddress: ip, port: current.port ?? 0), current.ipAddress != nil else {
            return "Invalid addr '\(ip)'" + suffix
        }
        var parts = [current.ipAddress == address.ipAddress ? "no need to change the addr" : "IP changed from '\(current.ipAddress ?? "")' to '\(ip)'"]
        var mapped = pool.addresses.target(index).portFromClient
        if args.count >= 3 && args[1] == "port" {
            if let port = Int(args[2]), (1...65535).contains(port) {
                parts.append(port == current.port && !mapped ? "no need to change the port" : "port changed from '\(current.port ?? 0)' to '\(port)'")
                address.port = port
                mapped = false
            } else {
                parts.append("problem converting port '\(args[2])' to an int")
            }
        }
        pool.addresses.setAddress(index, address, portFromClient: mapped)
        pool.idle.drop(server: index)
        return parts.joined(separator: ", ") + suffix
    }

    /// `set server health` on a server without checks: the backend alone is told, and
    /// the change logged as HAProxy logs it.
    func forceUnchecked(_ pool: BackendPool, _ index: Int, _ forced: CheckOrder.ForcedHealth) {
        let before = pool.status(index)
        let config = pool.serverConfigs[index]
        let stoppingCounts = pool.setStopping(index, forced == .stopping)
        let counts = pool.setOperational(index, up: forced != .down)
        pool.updateHealthRecord(index) { $0.health = forced == .down ? 0 : config.options.rise }
        let cause = HealthChecker.fromCLI
        var line: (Int, String)?
        if forced == .down && before.up {
            line = (1, HealthTransitionMessage.down(proxy: pool.name, server: config.name, backup: config.options.backup, result: nil, cause: cause, counts: counts))
        } else if forced != .down && !before.up {
            line = (5, HealthTransitionMessage.up(proxy: pool.name, server: config.name, backup: config.options.backup, result: nil, cause: cause, counts: counts))
        } else if forced == .stopping && !before.stopping {
            line = (5, HealthTransitionMessage.stopping(proxy: pool.name, server: config.name, backup: config.options.backup, cause: cause, counts: stoppingCounts))
        }
        if let (level, text) = line {
            log(.warning, text)
            pool.eventLog?.log(level: level, Array(text.utf8))
        }
    }

    /// HAProxy's `show servers state` layout (version 1): the version line, the field
    /// names, one line per server with its operational and administrative state, its
    /// checks' state and its address as they are now. Fields Fulcrum does not have
    /// (forced ids, FQDN, SRV records, TLS) are 0 or `-`.
    func serversState(_ backend: String?) -> String {
        if let backend, pools[backend] == nil { return "Can't find backend.\n" }
        var out = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
        let now = WallClock.seconds()
        for proxy in stats.proxies {
            guard let pool = proxy.backend, backend == nil || backend == proxy.name else { continue }
            for (k, server) in pool.serverConfigs.enumerated() {
                let s = pool.status(k), h = pool.healthRecord(k), e = pool.addresses.entry(k)
                // op_state: 0 stopped, 2 running, 3 stopping; admin_state: 0x01 forced maint, 0x08 forced drain.
                let op = !s.up || s.maint ? 0 : s.stopping ? 3 : 2
                let admin = (s.maint ? 1 : 0) | (s.drain ? 8 : 0)
                // check_state bits: 0x02 configured, 0x04 enabled, 0x10 agent.
                let checkState = e.check == nil ? 0 : 0x02 | (h.checksDisabled ? 0 : 0x04)
                let agentState = e.agent == nil ? 0 : 0x12 | (h.agentDisabled ? 0 : 0x04)
                let status = e.check == nil ? 1 : h.lastCheck.map { Self.statusCode($0.status) } ?? 1
                let result = e.check == nil ? 0 : h.lastCheck.map { $0.status.passed ? 3 : 2 } ?? 0
                let health = e.check == nil ? (s.up ? server.options.rise : 0) : h.health
                let address = e.target.address
                let checkPort = e.check != nil && e.checkPortSet ? e.check?.port ?? 0 : 0
                let checkAddress = e.checkFollowsAddress ? "-" : e.check?.ipAddress ?? "-"
                let agentAddress = e.agentFollowsAddress ? "-" : e.agent?.ipAddress ?? "-"
                out += "\(proxy.id) \(proxy.name) \(pool.serverIDs[k]) \(server.name) \(address.ipAddress ?? "-") \(op) \(admin) \(s.userWeight) "
                    + "\(server.options.weight) \(now - h.lastChange) \(status) \(result) \(health) \(checkState) \(agentState) 0 0 - "
                    + "\(e.target.portFromClient ? 0 : address.port ?? 0) - 0 \(checkPort) \(checkAddress) \(agentAddress) \(e.agent?.port ?? 0)\n"
            }
        }
        return out
    }

    /// HAProxy's numbers for check statuses (`srv_check_status`).
    static func statusCode(_ status: CheckStatus) -> Int {
        switch status {
        case .socketError: return 5
        case .l4ok: return 6
        case .l4timeout: return 7
        case .l4connectionProblem: return 8
        case .l6ok: return 9
        case .l6timeout: return 10
        case .l6invalidResponse: return 11
        case .l7timeout: return 12
        case .l7invalidResponse: return 13
        case .l7ok: return 15
        case .l7okConditional: return 16
        case .l7wrongStatus: return 17
        }
    }
}
