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
    /// Map and ACL pattern files, for `show map`, `add acl`, ...
    let patterns: PatternFiles
    let tables: [String: StickTable]
    let frontends: [FrontendStats]
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
        Command(words: ["show", "stat"], arguments: "", level: .user, help: "report counters for each proxy and server (CSV)", run: { api, _ in api.stat() }),
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
        Command(words: ["show", "events"], arguments: "[<sink>] [-w] [-n]", level: .user, help: "show event sink state", run: { _, args in LogRing.showEvents(args) }),
        Command(words: ["show", "table"], arguments: "[<table>]", level: .operator, help: "list the stick tables, or the entries of one", run: { api, args in
            let now = SampleContext.monotonicMilliseconds()
            guard let name = args.first else {
                return api.tables.keys.sorted().map { api.tables[$0]!.summary(now: now) + "\n" }.joined()
            }
            guard let table = api.tables[name] else { return "Unknown table\n" }
            if args.count > 1 { return "Filters ('data.<type> <op> <value>', 'key <key>') are not implemented yet.\n" }
            return ([table.summary(now: now)] + table.dump(now: now)).map { $0 + "\n" }.joined()
        }),
        Command(words: ["clear", "table"], arguments: "<table> [key <key>]", level: .operator, help: "remove the entries of a stick table, or one of them", run: { api, args in
            guard let name = args.first, let table = api.tables[name] else { return "Unknown table\n" }
            if args.count > 1 && !(args.count == 3 && args[1] == "key") {
                return "Expects 'clear table <table> [key <key>]' (data filters are not implemented yet).\n"
            }
            if args.count == 3 {
                let text = args[2]
                let value: SampleValue = IPNetwork.parse(text).map { .address($0) } ?? Int64(text).map { .integer($0) } ?? .string(Array(text.utf8))
                guard let key = table.key(value) else { return "Invalid key\n" }
                table.clear(key: key)
            } else {
                table.clear()
            }
            return ""
        }),
    ] + patternCommands(maps: true) + patternCommands(maps: false)

    /// `show|get|add|set|del|clear map` and their `acl` counterparts.
    static func patternCommands(maps: Bool) -> [Command] {
        let kind = maps ? "map" : "acl"
        var commands = [
            Command(words: ["show", kind], arguments: "[<\(kind)>]", level: .operator, help: maps ? "list the maps, or the entries of one" : "list the ACL pattern files, or the patterns of one", run: { api, args in
                api.showPatterns(args.first, maps: maps)
            }),
            Command(words: ["get", kind], arguments: "<\(kind)> <value>", level: .operator, help: "report the entry a value matches", run: { api, args in
                api.getPattern(args, maps: maps)
            }),
            Command(words: ["add", kind], arguments: maps ? "<map> <key> <value>" : "<acl> <pattern>", level: .admin, help: "add an entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: maps ? 3 : 2) { list, a throws(ConfigError) in
                    try list.add(key: a[1], value: maps ? a[2...].joined(separator: " ") : nil)
                    return true
                }
            }),
            Command(words: ["del", kind], arguments: "<\(kind)> <key>|#<ref>", level: .admin, help: "remove an entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: 2, missing: "Key not found.\n") { list, a throws(ConfigError) in list.delete(key: a[1]) }
            }),
            Command(words: ["clear", kind], arguments: "<\(kind)>", level: .admin, help: "remove every entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: 1) { list, _ throws(ConfigError) in list.clear(); return true }
            }),
        ]
        if maps {
            commands.append(Command(words: ["set", "map"], arguments: "<map> <key>|#<ref> <value>", level: .admin, help: "change an entry's value", run: { api, args in
                api.editPatterns(args, maps: true, needs: 3, missing: "entry not found.\n") { list, a throws(ConfigError) in
                    try list.set(key: a[1], value: a[2...].joined(separator: " "))
                }
            }))
        }
        return commands
    }

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

    func showPatterns(_ name: String?, maps: Bool) -> String {
        guard let name else {
            var out = "# id (file) description\n"
            for (id, file) in patterns.files(maps: maps) {
                let count = patterns.lists(named: file, maps: maps).first?.entries.count ?? 0
                out += "\(id) (\(file)) pattern loaded from file '\(file)' used by \(maps ? "map" : "acl"). curr_ver=0 next_ver=0 entry_cnt=\(count)\n"
            }
            return out
        }
        guard let list = patterns.lists(named: name, maps: maps).first else {
            return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n"
        }
        return list.entries.map { e in
            "\(PatternList.reference(e.id)) \(e.key)" + (e.value.map { " " + String(decoding: $0.bytes, as: UTF8.self) } ?? "") + "\n"
        }.joined()
    }

    func getPattern(_ args: [String], maps: Bool) -> String {
        guard args.count >= 2 else { return "'get \(maps ? "map" : "acl")' expects the file and a value.\n" }
        guard let list = patterns.lists(named: args[0], maps: maps).first else {
            return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n"
        }
        let value = args[1...].joined(separator: " ")
        let sample: SampleValue = .string(Array(value.utf8))
        let head = "type=\(list.method.rawValue), case=\(list.ignoreCase ? "insensitive" : "sensitive")"
        guard let e = list.match(sample) else { return head + (maps ? ", found=no\n" : ", match=no\n") }
        if maps {
            return head + ", found=yes, idx=tree, key=\"\(e.key)\", value=\"\(e.value.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "")\", type=\"\(list.valueType?.rawValue ?? "str")\"\n"
        }
        return head + ", match=yes, idx=tree, pattern=\"\(e.key)\"\n"
    }

    /// Applies `change` to every list loaded from the named file (a file read with two
    /// match methods is two lists, changed together).
    func editPatterns(_ args: [String], maps: Bool, needs: Int, missing: String = "",
                      _ change: (PatternList, [String]) throws(ConfigError) -> Bool) -> String {
        guard args.count >= needs else { return "Missing arguments (expects \(needs)).\n" }
        let lists = patterns.lists(named: args[0], maps: maps)
        guard !lists.isEmpty else { return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n" }
        var any = false
        for list in lists {
            do throws(ConfigError) {
                if try change(list, args) { any = true }
            } catch {
                return error.message + "\n"
            }
        }
        return any ? "" : missing
    }

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

    /// HAProxy 2.6's `show stat` columns, in its order, so CSV readers find every
    /// field where they expect it (those Fulcrum does not track are empty).
    static let statHeader = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,"
    static let statFields: [String] = Array(statHeader.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init).dropLast())

    func statRow(_ values: [String: String]) -> String {
        Self.statFields.map { values[$0] ?? "" }.joined(separator: ",") + ",\n"
    }

    func responses(_ c: StatCounters, into v: inout [String: String]) {
        let counts = c.responseCounts
        for (k, name) in ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].enumerated() { v[name] = String(counts[k]) }
    }

    func stat() -> String {
        var out = Self.statHeader + "\n"
        let pid = String(getpid())
        var printed = Set<String>()
        var proxyID = 0
        func backendRows(_ pool: BackendPool, _ id: Int) {
            var active = 0, backup = 0, weight = 0, sessions = 0
            for (k, server) in pool.serverConfigs.enumerated() {
                let s = pool.status(k), c = pool.serverCounters[k]
                let usable = s.up && !s.maint
                if usable && s.weight > 0 { if server.options.backup { backup += 1 } else { active += 1 }; weight += s.weight }
                sessions += s.sessions
                var v: [String: String] = ["pxname": pool.name, "svname": server.name, "qcur": "0", "qmax": "0", "scur": String(s.sessions),
                    "smax": String(s.sessions), "slim": server.options.maxconn.map(String.init) ?? "", "stot": String(c.sessions.load(ordering: .relaxed)),
                    "bin": String(c.bytesIn.load(ordering: .relaxed)), "bout": String(c.bytesOut.load(ordering: .relaxed)), "dresp": "0",
                    "econ": String(c.connectErrors.load(ordering: .relaxed)), "eresp": "0", "wretr": String(c.retries.load(ordering: .relaxed)),
                    "wredis": "0", "weight": String(s.weight), "act": server.options.backup ? "0" : "1", "bck": server.options.backup ? "1" : "0",
                    "pid": pid, "iid": String(id), "sid": String(k + 1), "lbtot": String(c.picked.load(ordering: .relaxed)), "type": "2",
                    "addr": "\(pool.servers[k].address.ipAddress ?? "-"):\(pool.servers[k].address.port ?? 0)", "mode": pool.mode.rawValue,
                    "uweight": String(server.options.weight)]
                v["status"] = s.maint ? "MAINT" : !server.options.check && !server.options.agentCheck ? "no check" : !s.up ? "DOWN" : s.weight == 0 ? "DRAIN" : "UP"
                if server.options.check { v["check_rise"] = String(server.options.rise); v["check_fall"] = String(server.options.fall) }
                responses(c, into: &v)
                out += statRow(v)
            }
            let c = pool.counters
            let queue = pool.logCounts(server: nil).queue
            var v: [String: String] = ["pxname": pool.name, "svname": "BACKEND", "qcur": String(queue), "qmax": String(queue), "scur": String(sessions),
                "smax": String(sessions), "stot": String(c.sessions.load(ordering: .relaxed)), "bin": String(c.bytesIn.load(ordering: .relaxed)),
                "bout": String(c.bytesOut.load(ordering: .relaxed)), "dreq": "0", "dresp": "0", "econ": String(c.connectErrors.load(ordering: .relaxed)),
                "eresp": "0", "wretr": String(c.retries.load(ordering: .relaxed)), "wredis": "0", "status": active + backup > 0 ? "UP" : "DOWN",
                "weight": String(weight), "act": String(active), "bck": String(backup), "pid": pid, "iid": String(id), "sid": "0",
                "lbtot": String(c.picked.load(ordering: .relaxed)), "type": "1", "mode": pool.mode.rawValue, "algo": pool.algorithm]
            responses(c, into: &v)
            out += statRow(v)
            printed.insert(pool.name)
        }
        for frontend in frontends {
            proxyID += 1
            let c = frontend.counters
            var v: [String: String] = ["pxname": frontend.name, "svname": "FRONTEND", "scur": String(frontend.connections.value),
                "smax": String(frontend.connections.value), "slim": frontend.maxconn > 0 ? String(frontend.maxconn) : "",
                "stot": String(c.sessions.load(ordering: .relaxed)), "bin": String(c.bytesIn.load(ordering: .relaxed)),
                "bout": String(c.bytesOut.load(ordering: .relaxed)), "dreq": String(c.deniedRequests.load(ordering: .relaxed)), "dresp": String(c.deniedResponses.load(ordering: .relaxed)), "ereq": String(c.requestErrors.load(ordering: .relaxed)), "dcon": String(c.deniedConnections.load(ordering: .relaxed)),
                "status": "OPEN", "pid": pid, "iid": String(proxyID), "sid": "0", "type": "0", "mode": frontend.mode.rawValue,
                "req_tot": frontend.mode == .http ? String(c.requests.load(ordering: .relaxed)) : ""]
            if frontend.mode == .http { responses(c, into: &v) }
            out += statRow(v)
            if frontend.backend.name == frontend.name, !printed.contains(frontend.name) { backendRows(frontend.backend, proxyID) }
        }
        for name in pools.keys.sorted() where !printed.contains(name) {
            proxyID += 1
            backendRows(pools[name]!, proxyID)
        }
        return out
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
