/// One column of `show stat` (or line of `show info`): its name, HAProxy's three tag
/// letters (origin, nature, scope) and its value type, so the CSV, `typed` and `json`
/// outputs, the stats page and the Prometheus exporter all read one table and keep
/// HAProxy's column order, which CSV readers rely on.
struct StatField: Sendable {
    let name: String
    let tags: String
    let type: String

    /// The names `json` output spells the tag letters with.
    static let origins: [Character: String] = ["K": "Key", "C": "Config", "M": "Metric", "S": "Status", "P": "Product"]
    static let natures: [Character: String] = [
        "A": "Age", "a": "Avg", "C": "Counter", "D": "Duration", "G": "Gauge", "L": "Limit", "M": "Max", "N": "Name",
        "O": "Output", "R": "Rate", "T": "Time",
    ]
    static let scopes: [Character: String] = ["C": "Cluster", "P": "Process", "S": "Service", "s": "System"]

    /// BACKEND rows tag a few columns otherwise than servers do.
    static let backendTags: [String: String] = ["act": "MGP", "bck": "MGP", "rate": "MGP", "rate_max": "MGP"]

    func tags(for kind: StatsSnapshot.Kind) -> String {
        kind == .backend ? Self.backendTags[name] ?? tags : tags
    }

    var jsonTags: String { Self.json(tags) }

    static func json(_ tags: String) -> String {
        let t = Array(tags)
        guard t.count == 3 else { return "{}" }
        return "{\"origin\":\"\(Self.origins[t[0]] ?? "")\",\"nature\":\"\(Self.natures[t[1]] ?? "")\",\"scope\":\"\(Self.scopes[t[2]] ?? "")\"}"
    }

    /// HAProxy 2.6's 128 `show stat` columns, in order.
    static let columns: [StatField] = [
        ("pxname", "KNS", "str"), ("svname", "KNS", "str"), ("qcur", "MGP", "u32"), ("qmax", "MMP", "u32"), ("scur", "MGP", "u32"),
        ("smax", "MMP", "u32"), ("slim", "CLP", "u32"), ("stot", "MCP", "u64"), ("bin", "MCP", "u64"), ("bout", "MCP", "u64"), ("dreq", "MCP", "u64"),
        ("dresp", "MCP", "u64"), ("ereq", "MCP", "u64"), ("econ", "MCP", "u64"), ("eresp", "MCP", "u64"), ("wretr", "MCP", "u64"),
        ("wredis", "MCP", "u64"), ("status", "SGP", "str"), ("weight", "MaP", "u32"), ("act", "SGP", "u32"), ("bck", "SGP", "u32"),
        ("chkfail", "MCP", "u64"), ("chkdown", "MCP", "u64"), ("lastchg", "MAP", "u32"), ("downtime", "MCP", "u32"), ("qlimit", "CLP", "u32"),
        ("pid", "KGP", "u32"), ("iid", "KGS", "u32"), ("sid", "KGS", "u32"), ("throttle", "MaP", "u32"), ("lbtot", "MCP", "u64"),
        ("tracked", "CGS", "str"), ("type", "CGS", "u32"), ("rate", "MRP", "u32"), ("rate_lim", "CLP", "u32"), ("rate_max", "MMP", "u32"),
        ("check_status", "MOP", "str"), ("check_code", "MOP", "u32"), ("check_duration", "MDP", "u64"), ("hrsp_1xx", "MCP", "u64"),
        ("hrsp_2xx", "MCP", "u64"), ("hrsp_3xx", "MCP", "u64"), ("hrsp_4xx", "MCP", "u64"), ("hrsp_5xx", "MCP", "u64"), ("hrsp_other", "MCP", "u64"),
        ("hanafail", "MCP", "u64"), ("req_rate", "MRP", "u32"), ("req_rate_max", "MMP", "u32"), ("req_tot", "MCP", "u64"), ("cli_abrt", "MCP", "u64"),
        ("srv_abrt", "MCP", "u64"), ("comp_in", "MCP", "u64"), ("comp_out", "MCP", "u64"), ("comp_byp", "MCP", "u64"), ("comp_rsp", "MCP", "u64"),
        ("lastsess", "MAP", "s32"), ("last_chk", "MOP", "str"), ("last_agt", "MOP", "str"), ("qtime", "MaP", "u32"), ("ctime", "MaP", "u32"),
        ("rtime", "MaP", "u32"), ("ttime", "MaP", "u32"), ("agent_status", "MOP", "str"), ("agent_code", "MOP", "u32"),
        ("agent_duration", "MDP", "u64"), ("check_desc", "MOP", "str"), ("agent_desc", "MOP", "str"), ("check_rise", "CGS", "u32"),
        ("check_fall", "CGS", "u32"), ("check_health", "CGS", "u32"), ("agent_rise", "CGS", "u32"), ("agent_fall", "CGS", "u32"),
        ("agent_health", "CGS", "u32"), ("addr", "CGS", "str"), ("cookie", "CGS", "str"), ("mode", "CGS", "str"), ("algo", "CGS", "str"),
        ("conn_rate", "MRP", "u32"), ("conn_rate_max", "MMP", "u32"), ("conn_tot", "MCP", "u64"), ("intercepted", "MCP", "u64"),
        ("dcon", "MCP", "u64"), ("dses", "MCP", "u64"), ("wrew", "MCP", "u64"), ("connect", "MCP", "u64"), ("reuse", "MCP", "u64"),
        ("cache_lookups", "MCP", "u64"), ("cache_hits", "MCP", "u64"), ("srv_icur", "MGP", "u32"), ("src_ilim", "MMP", "u32"),
        ("qtime_max", "MMP", "u32"), ("ctime_max", "MMP", "u32"), ("rtime_max", "MMP", "u32"), ("ttime_max", "MMP", "u32"), ("eint", "MCP", "u64"),
        ("idle_conn_cur", "MGP", "u32"), ("safe_conn_cur", "MGP", "u32"), ("used_conn_cur", "MGP", "u32"), ("need_conn_est", "MGP", "u32"),
        ("uweight", "MaP", "u32"), ("agg_server_status", "MGP", "u32"), ("agg_server_check_status", "MGP", "u32"), ("agg_check_status", "MGP", "u32"),
        ("-", "", ""), ("ssl_sess", "MCP", "u64"), ("ssl_reused_sess", "MCP", "u64"), ("ssl_failed_handshake", "MCP", "u64"),
        ("h2_headers_rcvd", "MCP", "u64"), ("h2_data_rcvd", "MCP", "u64"), ("h2_settings_rcvd", "MCP", "u64"), ("h2_rst_stream_rcvd", "MCP", "u64"),
        ("h2_goaway_rcvd", "MCP", "u64"), ("h2_detected_conn_protocol_errors", "MCP", "u64"), ("h2_detected_strm_protocol_errors", "MCP", "u64"),
        ("h2_rst_stream_resp", "MCP", "u64"), ("h2_goaway_resp", "MCP", "u64"), ("h2_open_connections", "MGP", "u64"),
        ("h2_backend_open_streams", "MGP", "u64"), ("h2_total_connections", "MCP", "u64"), ("h2_backend_total_streams", "MCP", "u64"),
        ("h1_open_connections", "MGP", "u64"), ("h1_open_streams", "MGP", "u64"), ("h1_total_connections", "MCP", "u64"),
        ("h1_total_streams", "MCP", "u64"), ("h1_bytes_in", "MCP", "u64"), ("h1_bytes_out", "MCP", "u64"), ("h1_spliced_bytes_in", "MCP", "u64"),
        ("h1_spliced_bytes_out", "MCP", "u64"),
    ].map { StatField(name: $0.0, tags: $0.1, type: $0.2) }

    static let columnIndex: [String: Int] = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })

    /// `show info`'s lines, in HAProxy 2.6's order (positions 45, 46 and 51 are unused),
    /// then Fulcrum's own.
    static let info: [(position: Int, field: StatField)] = [
        (0, "Name", "POS", "str"), (1, "Version", "POS", "str"), (2, "Release_date", "POS", "str"), (3, "Nbthread", "CGS", "u32"),
        (4, "Nbproc", "CGS", "u32"), (5, "Process_num", "KGP", "u32"), (6, "Pid", "SGP", "u32"), (7, "Uptime", "MDP", "str"),
        (8, "Uptime_sec", "MDP", "u32"), (9, "Memmax_MB", "CLP", "u32"), (10, "PoolAlloc_MB", "MGP", "u32"), (11, "PoolUsed_MB", "MGP", "u32"),
        (12, "PoolFailed", "MCP", "u32"), (13, "Ulimit-n", "CLP", "u32"), (14, "Maxsock", "CLP", "u32"), (15, "Maxconn", "CLP", "u32"),
        (16, "Hard_maxconn", "CLP", "u32"), (17, "CurrConns", "MGP", "u32"), (18, "CumConns", "MCP", "u32"), (19, "CumReq", "MCP", "u32"),
        (20, "MaxSslConns", "MMP", "u32"), (21, "CurrSslConns", "MGP", "u32"), (22, "CumSslConns", "MCP", "u32"), (23, "Maxpipes", "CLP", "u32"),
        (24, "PipesUsed", "MGP", "u32"), (25, "PipesFree", "MGP", "u32"), (26, "ConnRate", "MRP", "u32"), (27, "ConnRateLimit", "CLP", "u32"),
        (28, "MaxConnRate", "MMP", "u32"), (29, "SessRate", "MRP", "u32"), (30, "SessRateLimit", "CLP", "u32"), (31, "MaxSessRate", "MRP", "u32"),
        (32, "SslRate", "MRP", "u32"), (33, "SslRateLimit", "CLP", "u32"), (34, "MaxSslRate", "MMP", "u32"), (35, "SslFrontendKeyRate", "MGP", "u32"),
        (36, "SslFrontendMaxKeyRate", "MMP", "u32"), (37, "SslFrontendSessionReuse_pct", "MGP", "u32"), (38, "SslBackendKeyRate", "MRP", "u32"),
        (39, "SslBackendMaxKeyRate", "MMP", "u32"), (40, "SslCacheLookups", "MCP", "u32"), (41, "SslCacheMisses", "MCP", "u32"),
        (42, "CompressBpsIn", "MRP", "u32"), (43, "CompressBpsOut", "MRP", "u32"), (44, "CompressBpsRateLim", "CLP", "u32"),
        (47, "Tasks", "MGP", "u32"), (48, "Run_queue", "MGP", "u32"), (49, "Idle_pct", "MaP", "u32"), (50, "node", "COS", "str"),
        (52, "Stopping", "MGP", "u32"), (53, "Jobs", "MGP", "u32"), (54, "Unstoppable Jobs", "MGP", "u32"), (55, "Listeners", "MGP", "u32"),
        (56, "ActivePeers", "MGP", "u32"), (57, "ConnectedPeers", "MGP", "u32"), (58, "DroppedLogs", "MGP", "u32"), (59, "BusyPolling", "MGP", "u32"),
        (60, "FailedResolutions", "MGP", "u32"), (61, "TotalBytesOut", "MGP", "u64"), (62, "TotalSplicdedBytesOut", "MGP", "u64"),
        (63, "BytesOutRate", "MRP", "u64"), (64, "DebugCommandsIssued", "MGP", "u32"), (65, "CumRecvLogs", "MCP", "u32"),
        (66, "Build info", "POS", "str"), (67, "Memmax_bytes", "CLP", "u32"), (68, "PoolAlloc_bytes", "MGP", "u64"),
        (69, "PoolUsed_bytes", "MGP", "u64"), (70, "Start_time_sec", "MDP", "u32"), (71, "Tainted", "SGP", "str"),
        // Fulcrum's own, after HAProxy's: client connections parked between requests.
        (72, "ParkedConns", "MGP", "u32"),
    ].map { ($0.0, StatField(name: $0.1, tags: $0.2, type: $0.3)) }
}
