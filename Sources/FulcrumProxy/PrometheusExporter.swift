import FulcrumCore

/// `http-request use-service prometheus-exporter`: the statistics in Prometheus' text
/// format, under HAProxy's metric names and labels (`haproxy_process_*`,
/// `haproxy_frontend_*`, `haproxy_backend_*`, `haproxy_server_*`, labels `proxy`,
/// `server`, `state`, `code`), so existing dashboards and alerts keep working. The
/// values are read from the same rows as `show stat`; a scrape never takes a lock on
/// the request path.
enum PrometheusExporter {
    /// One metric: its name after the scope prefix, its type, its help line, the
    /// `show stat` column it comes from, the scopes that have it, and a divisor for
    /// columns counted in milliseconds but exported in seconds.
    struct Metric {
        let name: String
        let type: String
        let help: String
        let column: String
        let scopes: Set<StatsSnapshot.Kind>
        var divisor: Int = 1
    }

    static let fbs: Set<StatsSnapshot.Kind> = [.frontend, .backend, .server]
    static let bs: Set<StatsSnapshot.Kind> = [.backend, .server]

    static let metrics: [Metric] = [
        Metric(name: "current_queue", type: "gauge", help: "Requests waiting in the queue now.", column: "qcur", scopes: bs),
        Metric(name: "max_queue", type: "gauge", help: "Most requests ever waiting in the queue.", column: "qmax", scopes: bs),
        Metric(name: "current_sessions", type: "gauge", help: "Sessions open now.", column: "scur", scopes: fbs),
        Metric(name: "max_sessions", type: "gauge", help: "Most sessions ever open at once.", column: "smax", scopes: fbs),
        Metric(name: "limit_sessions", type: "gauge", help: "The configured session limit (maxconn).", column: "slim", scopes: fbs),
        Metric(name: "sessions_total", type: "counter", help: "Sessions since the process started.", column: "stot", scopes: fbs),
        Metric(name: "bytes_in_total", type: "counter", help: "Bytes received from clients.", column: "bin", scopes: fbs),
        Metric(name: "bytes_out_total", type: "counter", help: "Bytes sent to clients.", column: "bout", scopes: fbs),
        Metric(name: "requests_denied_total", type: "counter", help: "Requests refused by a rule.", column: "dreq", scopes: [.frontend, .backend]),
        Metric(name: "responses_denied_total", type: "counter", help: "Responses refused by a rule.", column: "dresp", scopes: fbs),
        Metric(name: "request_errors_total", type: "counter", help: "Requests refused as malformed.", column: "ereq", scopes: [.frontend]),
        Metric(name: "connection_errors_total", type: "counter", help: "Failed connections to servers.", column: "econ", scopes: bs),
        Metric(name: "response_errors_total", type: "counter", help: "Invalid or aborted server responses.", column: "eresp", scopes: bs),
        Metric(name: "retry_warnings_total", type: "counter", help: "Connection retries.", column: "wretr", scopes: bs),
        Metric(name: "redispatch_warnings_total", type: "counter", help: "Requests sent to another server after a failure.", column: "wredis", scopes: bs),
        Metric(name: "weight", type: "gauge", help: "The effective weight.", column: "weight", scopes: bs),
        Metric(name: "active_servers", type: "gauge", help: "Active servers in the rotation.", column: "act", scopes: [.backend]),
        Metric(name: "backup_servers", type: "gauge", help: "Backup servers in the rotation.", column: "bck", scopes: [.backend]),
        Metric(name: "check_failures_total", type: "counter", help: "Failed health checks.", column: "chkfail", scopes: [.server]),
        Metric(name: "check_up_down_total", type: "counter", help: "Transitions from UP to DOWN.", column: "chkdown", scopes: bs),
        Metric(name: "check_last_change_seconds", type: "gauge", help: "Seconds since the last UP/DOWN transition.", column: "lastchg", scopes: bs),
        Metric(name: "downtime_seconds_total", type: "counter", help: "Seconds spent DOWN.", column: "downtime", scopes: bs),
        Metric(name: "loadbalanced_total", type: "counter", help: "Times the balancer picked this object.", column: "lbtot", scopes: bs),
        Metric(name: "limit_session_rate", type: "gauge", help: "The configured limit of new sessions per second.", column: "rate_lim", scopes: [.frontend]),
        Metric(name: "max_session_rate", type: "gauge", help: "Most new sessions in one second.", column: "rate_max", scopes: fbs),
        Metric(name: "check_code", type: "gauge", help: "The layer 5-7 code of the last health check.", column: "check_code", scopes: [.server]),
        Metric(name: "check_duration_seconds", type: "gauge", help: "How long the last health check took.", column: "check_duration", scopes: [.server], divisor: 1000),
        Metric(name: "http_requests_rate_max", type: "gauge", help: "Most HTTP requests in one second.", column: "req_rate_max", scopes: [.frontend]),
        Metric(name: "http_requests_total", type: "counter", help: "HTTP requests received.", column: "req_tot", scopes: [.frontend, .backend]),
        Metric(name: "connections_rate_max", type: "gauge", help: "Most connections accepted in one second.", column: "conn_rate_max", scopes: [.frontend]),
        Metric(name: "connections_total", type: "counter", help: "Connections accepted.", column: "conn_tot", scopes: [.frontend]),
        Metric(name: "denied_connections_total", type: "counter", help: "Connections refused by tcp-request connection rules.", column: "dcon", scopes: [.frontend]),
        Metric(name: "client_aborts_total", type: "counter", help: "Transfers aborted by the client.", column: "cli_abrt", scopes: bs),
        Metric(name: "server_aborts_total", type: "counter", help: "Transfers aborted by the server.", column: "srv_abrt", scopes: bs),
        Metric(name: "uweight", type: "gauge", help: "The configured weight.", column: "uweight", scopes: bs),
        Metric(name: "last_session_seconds", type: "gauge", help: "Seconds since the balancer last picked this object.", column: "lastsess", scopes: bs),
        Metric(name: "queue_time_average_seconds", type: "gauge", help: "Average queue time over the last 1024 requests.", column: "qtime", scopes: bs, divisor: 1000),
        Metric(name: "connect_time_average_seconds", type: "gauge", help: "Average connect time over the last 1024 requests.", column: "ctime", scopes: bs, divisor: 1000),
        Metric(name: "response_time_average_seconds", type: "gauge", help: "Average response time over the last 1024 requests.", column: "rtime", scopes: bs, divisor: 1000),
        Metric(name: "total_time_average_seconds", type: "gauge", help: "Average total time over the last 1024 requests.", column: "ttime", scopes: bs, divisor: 1000),
        Metric(name: "max_queue_time_seconds", type: "gauge", help: "Longest queue time seen.", column: "qtime_max", scopes: bs, divisor: 1000),
        Metric(name: "max_connect_time_seconds", type: "gauge", help: "Longest connect time seen.", column: "ctime_max", scopes: bs, divisor: 1000),
        Metric(name: "max_response_time_seconds", type: "gauge", help: "Longest response time seen.", column: "rtime_max", scopes: bs, divisor: 1000),
        Metric(name: "max_total_time_seconds", type: "gauge", help: "Longest total time seen.", column: "ttime_max", scopes: bs, divisor: 1000),
    ]

    /// The states `haproxy_server_status` and `haproxy_server_check_status` list.
    static let serverStates = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"]
    static let checkStates = ["HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L7OK", "L7OKC",
                              "L7STS", "PROCERR", "PROCTOUT", "PROCOK"]

    /// The exposition for `scope` (every scope when empty); `noMaint` leaves out servers
    /// in maintenance, as HAProxy's `no-maint` parameter.
    static func render(_ stats: StatsRegistry, scopes requested: Set<String> = [], noMaint: Bool = false) -> String {
        let all = requested.isEmpty || requested.contains("*")
        var out = ""
        if all || requested.contains("global") { process(stats, into: &out) }
        var snapshot = stats.snapshot()
        if noMaint { snapshot.rows.removeAll { $0.kind == .server && $0.text("status") == "MAINT" } }
        for (kind, scope) in [(StatsSnapshot.Kind.frontend, "frontend"), (.backend, "backend"), (.server, "server")] where all || requested.contains(scope) {
            let rows = snapshot.rows.filter { $0.kind == kind }
            guard !rows.isEmpty else { continue }
            func labels(_ row: StatsSnapshot.Row) -> String {
                kind == .server ? "proxy=\"\(escape(row.proxy))\",server=\"\(escape(row.server))\"" : "proxy=\"\(escape(row.proxy))\""
            }
            // State gauges first: one line per state, 1 for the current one.
            header(&out, "haproxy_\(scope)_status", "gauge", "The current state: 1 for the state named in the label.")
            for row in rows {
                let status = row.text("status")
                let states = kind == .server ? serverStates : ["DOWN", "UP"]
                let current: String
                switch kind {
                case .frontend: current = status == "OPEN" ? "UP" : "DOWN"
                case .backend: current = status.hasPrefix("UP") ? "UP" : "DOWN"
                default: current = status.hasPrefix("UP") || status == "no check" ? "UP" : status.hasPrefix("DOWN") ? "DOWN" : status
                }
                for state in states { out += "haproxy_\(scope)_status{\(labels(row)),state=\"\(state)\"} \(state == current ? 1 : 0)\n" }
            }
            for metric in metrics where metric.scopes.contains(kind) {
                let present = rows.filter { $0[metric.column] != nil }
                guard !present.isEmpty else { continue }
                header(&out, "haproxy_\(scope)_\(metric.name)", metric.type, metric.help)
                for row in present {
                    out += "haproxy_\(scope)_\(metric.name){\(labels(row))} \(value(row.int(metric.column), metric.divisor))\n"
                }
            }
            if kind == .server {
                let checked = rows.filter { $0["check_status"] != nil }
                if !checked.isEmpty {
                    header(&out, "haproxy_server_check_status", "gauge", "The last health check's status: 1 for the status named in the label.")
                    for row in checked {
                        let current = row.text("check_status")
                        for state in checkStates { out += "haproxy_server_check_status{\(labels(row)),state=\"\(state)\"} \(state == current ? 1 : 0)\n" }
                    }
                }
            }
            let http = rows.filter { $0["hrsp_1xx"] != nil }
            if !http.isEmpty {
                header(&out, "haproxy_\(scope)_http_responses_total", "counter", "HTTP responses, by class of status code.")
                for row in http {
                    for (column, code) in [("hrsp_1xx", "1xx"), ("hrsp_2xx", "2xx"), ("hrsp_3xx", "3xx"), ("hrsp_4xx", "4xx"), ("hrsp_5xx", "5xx"), ("hrsp_other", "other")] {
                        out += "haproxy_\(scope)_http_responses_total{\(labels(row)),code=\"\(code)\"} \(row.int(column))\n"
                    }
                }
            }
        }
        return out
    }

    /// `haproxy_process_*`, from `show info`'s lines.
    static func process(_ stats: StatsRegistry, into out: inout String) {
        let info = Dictionary(stats.info().map { ($0.field.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let lines: [(String, String, String, String)] = [
            ("nbthread", "gauge", "Threads serving traffic.", "Nbthread"),
            ("nbproc", "gauge", "Processes (always 1).", "Nbproc"),
            ("relative_process_id", "gauge", "This process's number (always 1).", "Process_num"),
            ("uptime_seconds", "gauge", "Seconds since the process started.", "Uptime_sec"),
            ("max_fds", "gauge", "The file descriptor limit.", "Ulimit-n"),
            ("max_connections", "gauge", "The process's connection limit (global maxconn).", "Maxconn"),
            ("current_connections", "gauge", "Client connections open now.", "CurrConns"),
            ("connections_total", "counter", "Client connections accepted.", "CumConns"),
            ("requests_total", "counter", "HTTP requests received.", "CumReq"),
            ("listeners", "gauge", "Listening sockets.", "Listeners"),
            ("jobs", "gauge", "Connections and listeners the process is running.", "Jobs"),
            ("stopping", "gauge", "1 while the process is stopping.", "Stopping"),
            ("dropped_logs_total", "counter", "Log lines no target could take.", "DroppedLogs"),
            ("bytes_out_total", "counter", "Bytes sent to clients.", "TotalBytesOut"),
            ("start_time_seconds", "gauge", "When the process started (Unix time).", "Start_time_sec"),
        ]
        for (name, type, help, field) in lines {
            header(&out, "haproxy_process_\(name)", type, help)
            out += "haproxy_process_\(name) \(info[field]?.int ?? 0)\n"
        }
        header(&out, "haproxy_process_build_info", "gauge", "The version, as a label.")
        out += "haproxy_process_build_info{version=\"\(escape(FulcrumVersion.version))\"} 1\n"
    }

    static func header(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    static func value(_ n: Int, _ divisor: Int) -> String {
        guard divisor > 1 else { return String(n) }
        if n < 0 { return "-" + value(-n, divisor) }
        let whole = n / divisor, fraction = n % divisor
        let digits = String(fraction)
        return "\(whole)." + String(repeating: "0", count: 3 - digits.count) + digits
    }

    /// Label values escape backslash, quote and newline.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
