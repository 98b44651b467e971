#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore

/// Everything the statistics read, in configuration order: each proxy's frontend
/// counters and backend pool, and the process-wide figures. One registry serves the
/// runtime API, the stats page and the Prometheus exporter; reading it takes each
/// backend's lock once and otherwise loads relaxed atomics.
final class StatsRegistry: Sendable {
    struct Proxy: Sendable {
        let name: String
        /// HAProxy's proxy id (`iid`): the position in the configuration, from 1.
        let id: Int
        let frontend: FrontendStats?
        let backend: BackendPool?
    }

    let proxies: [Proxy]
    let processConnections: ConnectionCounter
    let startedAt: Int
    let threads: Int
    /// The process's `maxconn` (`set maxconn global` changes it; unlimited when unset).
    let processLimit: ConnectionLimit
    var maxconn: Int { processLimit.isSet ? processLimit.limit : 0 }
    /// What `stats show-node` and the `node` info line print.
    let node: String
    /// Log lines no target could take (`DroppedLogs`).
    let droppedLogs: @Sendable () -> Int

    init(proxies: [Proxy], processConnections: ConnectionCounter, startedAt: Int, threads: Int, processLimit: ConnectionLimit, node: String,
         droppedLogs: @escaping @Sendable () -> Int) {
        self.droppedLogs = droppedLogs
        StatCounters.clockSeconds.store(WallClock.seconds(), ordering: .relaxed)
        self.proxies = proxies
        self.processConnections = processConnections
        self.startedAt = startedAt
        self.threads = threads
        self.processLimit = processLimit
        self.node = node
    }

    /// The rates of every counter, once a second.
    func tick() {
        StatCounters.clockSeconds.store(WallClock.seconds(), ordering: .relaxed)
        for proxy in proxies {
            proxy.frontend?.counters.tick()
            if let pool = proxy.backend {
                pool.counters.tick()
                for c in pool.serverCounters { c.tick() }
            }
        }
    }

    func proxy(named name: String) -> Proxy? { proxies.first { $0.name == name } }

    // MARK: - rows

    func snapshot() -> StatsSnapshot {
        let now = WallClock.seconds()
        var rows: [StatsSnapshot.Row] = []
        for proxy in proxies {
            if let frontend = proxy.frontend { rows.append(frontendRow(proxy, frontend)) }
            if let pool = proxy.backend { rows += backendRows(proxy, pool, now: now) }
        }
        return StatsSnapshot(rows: rows)
    }

    static func common(_ row: inout StatsSnapshot.Row, _ c: StatCounters, http: Bool) {
        row["stot"] = .int(c.sessions.load(ordering: .relaxed))
        row["bin"] = .int(c.bytesIn.load(ordering: .relaxed))
        row["bout"] = .int(c.bytesOut.load(ordering: .relaxed))
        row["pid"] = .int(1)
        row["rate"] = .int(c.sessionRate.load(ordering: .relaxed))
        row["rate_max"] = .int(c.sessionRateMax.load(ordering: .relaxed))
        if http {
            let counts = c.responseCounts
            for (k, name) in ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].enumerated() { row[name] = .int(counts[k]) }
        }
    }

    func frontendRow(_ proxy: Proxy, _ f: FrontendStats) -> StatsSnapshot.Row {
        var row = StatsSnapshot.Row(kind: .frontend, proxyID: proxy.id, serverID: 0, proxy: proxy.name, server: "FRONTEND")
        let c = f.counters
        row["pxname"] = .text(proxy.name)
        row["svname"] = .text("FRONTEND")
        row["scur"] = .int(f.connections.value)
        row["smax"] = .int(f.connections.peak)
        let slim = f.limit.isSet ? f.limit.limit : f.maxconn
        if slim > 0 { row["slim"] = .int(slim) }
        Self.common(&row, c, http: f.mode == .http)
        row["dreq"] = .int(c.deniedRequests.load(ordering: .relaxed))
        row["dresp"] = .int(c.deniedResponses.load(ordering: .relaxed))
        row["ereq"] = .int(c.requestErrors.load(ordering: .relaxed))
        row["status"] = .text(f.control.state.statusText)
        row["iid"] = .int(proxy.id)
        row["sid"] = .int(0)
        row["type"] = .int(0)
        row["rate_lim"] = .int(0)
        if f.mode == .http {
            row["req_rate"] = .int(c.requestRate.load(ordering: .relaxed))
            row["req_rate_max"] = .int(c.requestRateMax.load(ordering: .relaxed))
            row["req_tot"] = .int(c.requests.load(ordering: .relaxed))
            for name in ["comp_in", "comp_out", "comp_byp", "comp_rsp", "intercepted", "cache_lookups", "cache_hits", "wrew"] { row[name] = .int(0) }
        }
        row["mode"] = .text(f.mode.rawValue)
        // A frontend's sessions are its accepted connections: one counter serves both.
        row["conn_rate"] = .int(c.sessionRate.load(ordering: .relaxed))
        row["conn_rate_max"] = .int(c.sessionRateMax.load(ordering: .relaxed))
        row["conn_tot"] = .int(c.sessions.load(ordering: .relaxed))
        row["dcon"] = .int(c.deniedConnections.load(ordering: .relaxed))
        row["dses"] = .int(0)
        row["eint"] = .int(0)
        return row
    }

    func backendRows(_ proxy: Proxy, _ pool: BackendPool, now: Int) -> [StatsSnapshot.Row] {
        let view = pool.statsView()
        var rows: [StatsSnapshot.Row] = []
        var active = 0, backup = 0, weight = 0, sessions = 0, peak = 0, activeWeights = 0
        var anyChecked = false
        let http = pool.mode == .http
        for (k, server) in pool.serverConfigs.enumerated() {
            let s = view.servers[k], c = pool.serverCounters[k], h = pool.healthRecord(k)
            let checked = server.options.check && !h.checksDisabled
            let usable = s.up && !s.maint
            if usable && s.weight > 0 {
                if server.options.backup { backup += 1 } else { active += 1 }
                weight += s.weight
            }
            sessions += s.sessions
            peak = max(peak, view.peakServed[k])
            var row = StatsSnapshot.Row(kind: .server, proxyID: proxy.id, serverID: pool.serverIDs[k], proxy: proxy.name, server: server.name)
            row["pxname"] = .text(proxy.name)
            row["svname"] = .text(server.name)
            row["qcur"] = .int(0)
            row["qmax"] = .int(0)
            row["scur"] = .int(s.sessions)
            row["smax"] = .int(view.peakServed[k])
            if s.maxconn > 0 { row["slim"] = .int(s.maxconn) }
            Self.common(&row, c, http: http)
            row["dresp"] = .int(0)
            row["econ"] = .int(c.connectErrors.load(ordering: .relaxed))
            row["eresp"] = .int(0)
            row["wretr"] = .int(c.retries.load(ordering: .relaxed))
            row["wredis"] = .int(0)
            row["status"] = .text(Self.serverStatus(s, h, rise: server.options.rise, fall: server.options.fall, checked: checked,
                                                    agent: server.options.agentCheck && !h.agentDisabled))
            row["weight"] = .int(s.weight)
            row["act"] = .int(server.options.backup ? 0 : 1)
            row["bck"] = .int(server.options.backup ? 1 : 0)
            if checked {
                row["chkfail"] = .int(h.failedChecks)
                row["chkdown"] = .int(h.downTransitions)
                row["downtime"] = .int(h.downtime(now: now))
            }
            row["lastchg"] = .int(now - h.lastChange)
            row["iid"] = .int(proxy.id)
            row["sid"] = .int(pool.serverIDs[k])
            row["lbtot"] = .int(c.picked.load(ordering: .relaxed))
            row["type"] = .int(2)
            if checked, let check = h.lastCheck {
                row["check_status"] = .text(check.status.rawValue)
                if let code = check.code { row["check_code"] = .int(code) }
                row["check_duration"] = .int(check.durationMilliseconds)
                row["last_chk"] = .text(check.info ?? "")
                row["check_desc"] = .text(check.status.reason)
            }
            if checked {
                row["check_rise"] = .int(server.options.rise)
                row["check_fall"] = .int(server.options.fall)
                row["check_health"] = .int(h.health)
            }
            row["cli_abrt"] = .int(0)
            row["srv_abrt"] = .int(0)
            Self.times(&row, c, http: http)
            let last = c.lastPick.load(ordering: .relaxed)
            row["lastsess"] = .int(last == 0 ? -1 : max(0, now - last))
            let address = pool.addresses.target(k).address
            row["addr"] = .text("\(address.ipAddress ?? "-"):\(address.port ?? 0)")
            if let cookie = server.options.cookie { row["cookie"] = .text(cookie) }
            row["mode"] = .text(pool.mode.rawValue)
            row["uweight"] = .int(server.options.weight)
            row["idle_conn_cur"] = .int(0)
            if http { row["req_tot"] = .int(c.sessions.load(ordering: .relaxed)) }
            if !server.options.backup { activeWeights += server.options.weight }
            if checked { anyChecked = true }
            rows.append(row)
        }
        let c = pool.counters
        var row = StatsSnapshot.Row(kind: .backend, proxyID: proxy.id, serverID: 0, proxy: proxy.name, server: "BACKEND")
        row["pxname"] = .text(proxy.name)
        row["svname"] = .text("BACKEND")
        row["qcur"] = .int(view.queue)
        row["qmax"] = .int(view.peakQueue)
        row["scur"] = .int(sessions)
        row["smax"] = .int(peak)
        Self.common(&row, c, http: http)
        row["dreq"] = .int(0)
        row["dresp"] = .int(0)
        row["econ"] = .int(c.connectErrors.load(ordering: .relaxed))
        row["eresp"] = .int(0)
        row["wretr"] = .int(c.retries.load(ordering: .relaxed))
        row["wredis"] = .int(0)
        row["status"] = .text(active + backup > 0 ? "UP" : "DOWN")
        row["weight"] = .int(weight)
        row["act"] = .int(active)
        row["bck"] = .int(backup)
        let lastChange = pool.serverConfigs.indices.map { pool.healthRecord($0).lastChange }.max() ?? startedAt
        row["lastchg"] = .int(now - lastChange)
        row["iid"] = .int(proxy.id)
        row["sid"] = .int(0)
        row["lbtot"] = .int(c.picked.load(ordering: .relaxed))
        row["type"] = .int(1)
        if http { row["req_tot"] = .int(c.sessions.load(ordering: .relaxed)) }
        row["cli_abrt"] = .int(0)
        row["srv_abrt"] = .int(0)
        row["mode"] = .text(pool.mode.rawValue)
        row["algo"] = .text(pool.algorithm)
        Self.times(&row, c, http: http)
        let last = pool.serverCounters.map { $0.lastPick.load(ordering: .relaxed) }.max() ?? 0
        row["lastsess"] = .int(last == 0 ? -1 : max(0, now - last))
        row["uweight"] = .int(activeWeights)
        if anyChecked { row["chkdown"] = .int(pool.backendDownTransitions.load(ordering: .relaxed)) }
        rows.append(row)
        return rows
    }

    /// `qtime`, `ctime`, `rtime` (HTTP only), `ttime` and their maxima.
    static func times(_ row: inout StatsSnapshot.Row, _ c: StatCounters, http: Bool) {
        let average = c.averageTimes, maximum = c.maximumTimes
        for (k, name) in ["qtime", "ctime", "rtime", "ttime"].enumerated() where http || name != "rtime" {
            row[name] = .int(average[k])
            row[name + "_max"] = .int(maximum[k])
        }
    }

    /// HAProxy's words: `UP`, `DOWN`, `MAINT`, `DRAIN`, `no check`, and while the checks
    /// are changing their mind `UP 1/3` (going down) or `DOWN 1/2` (going up).
    static func serverStatus(_ s: BackendPool.ServerStatus, _ h: ServerHealthRecord, rise: Int, fall: Int, checked: Bool, agent: Bool) -> String {
        if s.maint { return "MAINT" }
        if !checked && !agent { return !s.up ? "DOWN" : s.stopping ? "NOLB" : s.drain ? "DRAIN" : "no check" }
        if s.up {
            if s.stopping { return "NOLB" }
            if s.drain || s.weight == 0 { return "DRAIN" }
            if checked && h.health < rise + fall - 1 { return "UP \(h.health - rise + 1)/\(fall)" }
            return "UP"
        }
        if checked && h.health > 0 && h.health < rise { return "DOWN \(h.health)/\(rise)" }
        return "DOWN"
    }

    // MARK: - process

    /// `show info`'s lines, positions kept as HAProxy numbers them.
    func info() -> [(position: Int, field: StatField, value: StatsSnapshot.Value)] {
        let now = WallClock.seconds()
        let uptime = now - startedAt
        var totalOut = 0, cumulativeConnections = 0
        for proxy in proxies {
            if let f = proxy.frontend {
                totalOut += f.counters.bytesOut.load(ordering: .relaxed)
                cumulativeConnections += f.counters.sessions.load(ordering: .relaxed)
            }
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let values: [String: StatsSnapshot.Value] = [
            "Name": .text("Fulcrum"), "Version": .text(FulcrumVersion.version), "Release_date": .text(""),
            "Nbthread": .int(threads), "Nbproc": .int(1), "Process_num": .int(1), "Pid": .int(Int(getpid())),
            "Uptime": .text("\(uptime / 86400)d \(uptime % 86400 / 3600)h\(Self.two(uptime % 3600 / 60))m\(Self.two(uptime % 60))s"),
            "Uptime_sec": .int(uptime), "Ulimit-n": .int(Int(limit.rlim_cur)), "Maxsock": .int(Int(limit.rlim_cur)),
            "Maxconn": .int(maxconn), "Hard_maxconn": .int(processLimit.initial == Int.max ? 0 : processLimit.initial),
            "CurrConns": .int(processConnections.value), "CumConns": .int(cumulativeConnections),
            "CumReq": .int(HTTPClientSession.requestCounter.load(ordering: .relaxed)),
            "node": .text(node), "Stopping": .int(0), "Jobs": .int(processConnections.value),
            "Listeners": .int(proxies.reduce(0) { $0 + ($1.frontend?.listeners ?? 0) }),
            "DroppedLogs": .int(droppedLogs()), "TotalBytesOut": .int(totalOut), "Start_time_sec": .int(startedAt),
            "Build info": .text(FulcrumVersion.version), "Tainted": .text("0x0"),
            "ParkedConns": .int(ParkedHTTPClient.count),
        ]
        return StatField.info.map { (position, field) in
            (position, field, values[field.name] ?? (field.type == "str" ? .text("") : .int(0)))
        }
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }

    func infoText(format: String?) -> String {
        let lines = info()
        switch format {
        case "typed":
            return lines.map { "\($0.position).\($0.field.name).1:\($0.field.tags):\($0.field.type):\($0.value.csv)\n" }.joined()
        case "json":
            return "[" + lines.map {
                "{\"field\":{\"pos\":\($0.position),\"name\":\"\($0.field.name)\"},\"processNum\":1,\"tags\":\($0.field.jsonTags),"
                    + "\"value\":{\"type\":\"\($0.field.type)\",\"value\":\(StatsSnapshot.jsonValue($0.value))}}"
            }.joined(separator: ",") + "]\n"
        default:
            return lines.map { "\($0.field.name): \($0.value.csv)\n" }.joined()
        }
    }
}
