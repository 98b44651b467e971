#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// The commands of the stats socket, as one table: each has its words, the level it
/// needs (`user` < `operator` < `admin`, as HAProxy's `level`) and its help line, so
/// `help`, parsing and the docs cannot drift apart. Commands run on the socket's event
/// loop and only touch the backends through their locks.
struct RuntimeAPI: Sendable {
    enum Level: Int, Comparable, Sendable {
        case user, `operator`, admin
        init(_ name: String) { self = name == "admin" ? .admin : name == "user" ? .user : .operator }
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    struct Command: Sendable {
        let words: [String]
        let arguments: String
        let level: Level
        let help: String
        let run: @Sendable (RuntimeAPI, [String]) -> String
    }

    let pools: [String: BackendPool]
    let processConnections: ConnectionCounter
    let startedAt: Int
    let threads: Int
    let log: ProxyRuntime.Log

    static let table: [Command] = [
        Command(words: ["help"], arguments: "", level: .user, help: "list the commands", run: { _, _ in helpText(.admin) }),
        Command(words: ["prompt"], arguments: "", level: .user, help: "interactive mode: commands until 'quit'", run: { _, _ in "" }),
        Command(words: ["quit"], arguments: "", level: .user, help: "close the connection (interactive mode)", run: { _, _ in "" }),
        Command(words: ["show", "info"], arguments: "", level: .user, help: "report information about the running process", run: { api, _ in api.info() }),
        Command(words: ["show", "backend"], arguments: "", level: .user, help: "list the backends", run: { api, _ in
            "# name\n" + api.pools.keys.sorted().map { $0 + "\n" }.joined()
        }),
        Command(words: ["show", "servers", "state"], arguments: "[<backend>]", level: .user, help: "dump the servers' state", run: { api, args in api.serversState(args.first) }),
        Command(words: ["get", "weight"], arguments: "<backend>/<server>", level: .user, help: "report a server's current and initial weight", run: { api, args in
            api.withServer(args) { pool, index in
                "\(pool.status(index).weight) (initial \(pool.serverConfigs[index].options.weight))\n"
            }
        }),
        Command(words: ["set", "weight"], arguments: "<backend>/<server> <weight>[%]", level: .admin, help: "change a server's weight", run: { api, args in
            api.withServer(args) { pool, index in api.setWeight(pool, index, args.dropFirst().first) }
        }),
        Command(words: ["set", "server"], arguments: "<backend>/<server> state ready|drain|maint | weight <weight>[%]", level: .admin,
                help: "change a server's administrative state or weight", run: { api, args in
            api.withServer(args) { pool, index in
                switch (args.count > 1 ? args[1] : "", args.count > 2 ? args[2] : "") {
                case ("state", "ready"): return api.setState(pool, index, maint: false, drain: false)
                case ("state", "drain"): return api.setState(pool, index, maint: false, drain: true)
                case ("state", "maint"): return api.setState(pool, index, maint: true, drain: false)
                case ("weight", let value): return api.setWeight(pool, index, value)
                default: return "'set server <srv>' only supports 'state' (ready, drain, maint) and 'weight'.\n"
                }
            }
        }),
        Command(words: ["disable", "server"], arguments: "<backend>/<server>", level: .admin, help: "put a server in maintenance", run: { api, args in
            api.withServer(args) { pool, index in api.setState(pool, index, maint: true, drain: pool.status(index).drain) }
        }),
        Command(words: ["enable", "server"], arguments: "<backend>/<server>", level: .admin, help: "take a server out of maintenance", run: { api, args in
            api.withServer(args) { pool, index in api.setState(pool, index, maint: false, drain: pool.status(index).drain) }
        }),
        Command(words: ["shutdown", "sessions", "server"], arguments: "<backend>/<server>", level: .admin, help: "cut the sessions on a server", run: { api, args in
            api.withServer(args) { pool, index in
                pool.shutdownSessions([index])
                return ""
            }
        }),
    ]

    static func helpText(_ level: Level) -> String {
        var out = "The following commands are valid at this level:\n"
        for command in table where command.level <= level {
            let usage = (command.words + (command.arguments.isEmpty ? [] : [command.arguments])).joined(separator: " ")
            out += "  " + usage + String(repeating: " ", count: max(0, 48 - usage.count)) + " : " + command.help + "\n"
        }
        return out
    }

    /// Runs one command; nil for `quit`, which ends the conversation.
    func run(_ words: [String], level: Level) -> String? {
        guard let command = Self.table.filter({ Array(words.prefix($0.words.count)) == $0.words }).max(by: { $0.words.count < $1.words.count }) else {
            return "Unknown command: '\(words.joined(separator: " "))'\n" + Self.helpText(level)
        }
        if command.words == ["quit"] { return nil }
        guard level >= command.level else { return "Permission denied\n" }
        return command.run(self, Array(words.dropFirst(command.words.count)))
    }

    // MARK: - commands

    func withServer(_ args: [String], _ body: (BackendPool, Int) -> String) -> String {
        guard let path = args.first.flatMap(RuntimeCommandLine.serverPath) else { return "Require 'backend/server'.\n" }
        guard let pool = pools[path.backend] else { return "No such backend.\n" }
        guard let index = pool.serverConfigs.firstIndex(where: { $0.name == path.server }) else { return "No such server.\n" }
        return body(pool, index)
    }

    func setWeight(_ pool: BackendPool, _ index: Int, _ value: String?) -> String {
        guard let value, !value.isEmpty else { return "Require <weight> or <weight%>.\n" }
        let initial = pool.serverConfigs[index].options.weight
        let weight: Int?
        if value.hasSuffix("%") {
            weight = Int(value.dropLast()).map { initial * min($0, 25_600) / 100 }
        } else {
            weight = Int(value)
        }
        guard let weight, weight >= 0, weight <= 256 else { return "Weight must be between 0 and 256.\n" }
        pool.setWeight(index, weight)
        return ""
    }

    func setState(_ pool: BackendPool, _ index: Int, maint: Bool, drain: Bool) -> String {
        let before = pool.status(index)
        let counts = pool.setAdministrative(index, maint: maint, drain: drain)
        let name = "\(pool.name)/\(pool.serverConfigs[index].name)"
        var lines: [(Int, String)] = []
        if maint && !before.maint {
            lines.append((1, "Server \(name) is going DOWN for maintenance. \(counts.activeUsable) active and \(counts.backupUsable) backup servers left. \(counts.sessionsOnServer) sessions active, 0 requeued, 0 remaining in queue."))
        } else if !maint && before.maint {
            lines.append((5, "Server \(name) is UP/READY (leaving forced maintenance)."))
        }
        if drain && !before.drain {
            lines.append((5, "Server \(name) enters drain state. \(counts.activeUsable) active and \(counts.backupUsable) backup servers online. 0 sessions requeued, \(counts.queued) total in queue."))
        } else if !drain && before.drain && !maint {
            lines.append((5, "Server \(name) is UP/READY (leaving forced drain)."))
        }
        for (level, line) in lines {
            log(.warning, line)
            pool.eventLog?.log(level: level, Array(line.utf8))
        }
        return ""
    }

    func info() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let uptime = Int(now.tv_sec) - startedAt
        let fields: [(String, String)] = [
            ("Name", "Fulcrum"), ("Version", FulcrumVersion.version),
            ("Nbthread", String(threads)), ("Nbproc", "1"), ("Process_num", "1"), ("Pid", String(getpid())),
            ("Uptime", "\(uptime / 86400)d \(uptime % 86400 / 3600)h\(uptime % 3600 / 60)m\(uptime % 60)s"), ("Uptime_sec", String(uptime)),
            ("CurrConns", String(processConnections.value)), ("CumReq", String(HTTPClientSession.requestCounter.load(ordering: .relaxed))),
        ]
        return fields.map { "\($0.0): \($0.1)\n" }.joined()
    }

    /// HAProxy's `show servers state` layout: a version line, the field names, one line
    /// per server (fields Fulcrum does not track are 0 or `-`).
    func serversState(_ backend: String?) -> String {
        if let backend, pools[backend] == nil { return "Can't find backend.\n" }
        var out = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
        for (beID, name) in pools.keys.sorted().enumerated() where backend == nil || backend == name {
            let pool = pools[name]!
            for (k, server) in pool.serverConfigs.enumerated() {
                let s = pool.status(k)
                let address = pool.servers[k].address
                // op_state: 0 stopped, 2 running; admin_state: bit 0x01 forced maint, 0x08 forced drain.
                let op = s.up ? 2 : 0
                let admin = (s.maint ? 1 : 0) | (s.drain ? 8 : 0)
                out += "\(beID + 1) \(name) \(k + 1) \(server.name) \(address.ipAddress ?? "-") \(op) \(admin) \(s.weight) \(server.options.weight) 0 0 0 0 0 0 0 0 - \(address.port ?? 0) - 0 0 - - 0\n"
            }
        }
        return out
    }
}
