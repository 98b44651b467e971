/// Sample fetch names to fetches, with the match method an ACL uses by default. The
/// ACL spellings with a method suffix (`path_beg`, `hdr_sub(host)`, ...) resolve to the
/// plain fetch and that method.
enum SampleFetchParser {
    /// Fetches whose ACL forms take a `_beg`, `_end`, ... suffix.
    static let suffixable: Set<String> = ["path", "url", "base", "hdr", "cook", "urlp", "url_param", "shdr", "scook", "req.hdr", "res.hdr", "req.cook", "res.cook", "query", "pathq"]
    static let suffixes: [String: MatchMethod] = [
        "beg": .beg, "end": .end, "sub": .sub, "reg": .reg, "dir": .dir, "dom": .dom, "len": .len, "str": .str,
    ]

    /// The fetch `name(args)` stands for, and its default match method.
    static func parse(_ name: String, _ args: [String]) throws(ConfigError) -> (SampleFetch, MatchMethod) {
        if let underscore = name.lastIndex(of: "_") {
            let base = String(name[..<underscore])
            let suffix = String(name[name.index(after: underscore)...])
            if suffixable.contains(base), let method = suffixes[suffix] {
                return (try plain(base, args, name).0, method)
            }
        }
        return try plain(name, args, name)
    }

    private static func plain(_ name: String, _ args: [String], _ written: String) throws(ConfigError) -> (SampleFetch, MatchMethod) {
        func none() throws(ConfigError) {
            if !args.isEmpty { throw ConfigError("fetch method '\(written)' : no argument supported, but got '\(args.joined(separator: ","))'.") }
        }
        func required(_ what: String) throws(ConfigError) -> String {
            guard let first = args.first, !first.isEmpty else {
                throw ConfigError("fetch method '\(written)' : missing \(what) argument.", hint: "write '\(written)(\(what))'")
            }
            if args.count > 1 { throw ConfigError("fetch method '\(written)' : too many arguments (expects \(what)).") }
            return first
        }
        func occurrence(_ k: Int) throws(ConfigError) -> Int {
            guard k < args.count else { return 0 }
            if args.count > k + 1 { throw ConfigError("fetch method '\(written)' : too many arguments.") }
            guard let n = Int(args[k]), n != 0, abs(n) < 1_000_000 else {
                throw ConfigError("fetch method '\(written)' : occurrence '\(args[k])' is not a non-zero integer.")
            }
            return n
        }
        switch name {
        case "src": try none(); return (.source, .ip)
        case "src_port": try none(); return (.sourcePort, .int)
        case "dst": try none(); return (.destination, .ip)
        case "dst_port": try none(); return (.destinationPort, .int)
        case "so_name": try none(); return (.listenerName, .str)
        case "fe_name": try none(); return (.frontendName, .str)
        case "be_name": try none(); return (.backendName, .str)
        case "srv_name": try none(); return (.serverName, .str)
        case "nbsrv":
            if args.count > 1 { throw ConfigError("fetch method 'nbsrv' : too many arguments.") }
            return (.usableServers(backend: args.first), .int)
        case "method": try none(); return (.method, .str)
        case "path": try none(); return (.path, .str)
        case "pathq": try none(); return (.pathWithQuery, .str)
        case "url": try none(); return (.url, .str)
        case "query": try none(); return (.query, .str)
        case "base": try none(); return (.base, .str)
        case "req.ver", "req_ver": try none(); return (.version, .str)
        case "url_param", "urlp": return (.urlParameter(try required("<name>")), .str)
        case "hdr", "req.hdr":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: true, response: false), .str)
        case "req.fhdr":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: false, response: false), .str)
        case "res.hdr", "shdr":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: true, response: true), .str)
        case "res.fhdr":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: false, response: true), .str)
        case "hdr_cnt", "req.hdr_cnt": return (.headerCount(name: args.first, split: true, response: false), .int)
        case "req.fhdr_cnt": return (.headerCount(name: args.first, split: false, response: false), .int)
        case "res.hdr_cnt", "shdr_cnt": return (.headerCount(name: args.first, split: true, response: true), .int)
        case "hdr_val", "req.hdr_val":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: true, response: false), .int)
        case "hdr_ip", "req.hdr_ip":
            return (.header(name: try headerName(args, written), occurrence: try occurrence(1), split: true, response: false), .ip)
        case "cook", "req.cook": return (.cookie(name: try required("<name>"), response: false), .str)
        case "res.cook", "scook": return (.cookie(name: try required("<name>"), response: true), .str)
        case "cook_cnt", "req.cook_cnt": return (.cookieCount(name: args.first ?? "", response: false), .int)
        case "cook_val", "req.cook_val": return (.cookie(name: try required("<name>"), response: false), .int)
        case "status": try none(); return (.status, .int)
        case "req.len", "req_len": try none(); return (.requestLength, .int)
        case "req.body": try none(); return (.requestBody, .bin)
        case "req.body_len", "req.body_size": try none(); return (.requestBodyLength, .int)
        case "req.body_param": return (.requestBodyParameter(try required("<name>")), .str)
        case "env": return (.environment(try required("<name>")), .str)
        case "rand":
            if args.count > 1 { throw ConfigError("fetch method 'rand' : too many arguments.") }
            guard let text = args.first else { return (.random(range: nil), .int) }
            guard let n = Int64(text), n > 0 else { throw ConfigError("fetch method 'rand' : '\(text)' is not a positive integer.") }
            return (.random(range: n), .int)
        case "date":
            guard let text = args.first else { return (.date(offset: 0), .int) }
            guard let n = Int64(text), abs(n) < 1 << 40 else { throw ConfigError("fetch method 'date' : offset '\(text)' is not an integer.") }
            return (.date(offset: n), .int)
        case "var": return (.variable(try VariableName.parse(try required("<var-name>"))), .str)
        case "str": return (.constant(.string(Array((args.first ?? "").utf8))), .str)
        case "int":
            guard let text = args.first, let n = Int64(text) else { throw ConfigError("fetch method 'int' expects an integer argument.") }
            return (.constant(.integer(n)), .int)
        case "bool":
            guard let text = args.first, let n = Int64(text) else { throw ConfigError("fetch method 'bool' expects an integer argument.") }
            return (.constant(.boolean(n != 0)), .bool)
        case "always_true": try none(); return (.constant(.boolean(true)), .bool)
        case "always_false": try none(); return (.constant(.boolean(false)), .bool)
        case "unique-id": try none(); return (.uniqueID, .str)
        case "req.proto_http", "req_proto_http": try none(); return (.constant(.boolean(true)), .bool)
        case "http_auth": return (.httpAuth(try required("<userlist>")), .bool)
        case "http_auth_group": return (.httpAuthGroup(try required("<userlist>")), .str)
        case "be_conn", "queue", "connslots", "fe_conn", "srv_conn", "srv_is_up":
            if args.count > 1 { throw ConfigError("fetch method '\(written)' : too many arguments.") }
            let kinds: [String: ProxyCount] = [
                "be_conn": .backendConnections, "queue": .backendQueue, "connslots": .connectionSlots, "fe_conn": .frontendConnections,
                "srv_conn": .serverConnections, "srv_is_up": .serverIsUp,
            ]
            if (name == "srv_conn" || name == "srv_is_up"), let arg = args.first, !arg.contains("/") {
                throw ConfigError("fetch method '\(written)' expects <backend>/<server>.")
            }
            return (.proxyCount(kinds[name]!, args.first), name == "srv_is_up" ? .bool : .int)
        case "fe_id", "be_id", "srv_id":
            try none()
            let kinds: [String: ProxyCount] = ["fe_id": .frontendID, "be_id": .backendID, "srv_id": .serverID]
            return (.proxyCount(kinds[name]!, nil), .int)
        case "fe_sess_rate", "be_sess_rate":
            if args.count > 1 { throw ConfigError("fetch method '\(written)' : too many arguments.") }
            return (.proxyCount(name == "fe_sess_rate" ? .frontendSessionRate : .backendSessionRate, args.first), .int)
        case "http_first_req": try none(); return (.firstRequest, .bool)
        case "ssl_fc": try none(); return (.tlsFrontend, .bool)
        case "req.ssl_sni", "req_ssl_sni": try none(); return (.tlsServerName, .str)
        case "req.ssl_hello_type", "req_ssl_hello_type": try none(); return (.tlsHelloType, .int)
        case "req.ssl_ver", "req_ssl_ver": try none(); return (.tlsVersion, .int)
        case "res.payload":
            guard args.count == 2, let offset = Int(args[0]), let length = Int(args[1]), (0..<(1 << 30)).contains(offset), (0..<(1 << 30)).contains(length) else {
                throw ConfigError("fetch method '\(written)' expects <offset>,<length> (non-negative integers; length 0: to the end).")
            }
            return (.responsePayload(offset: offset, length: length), .bin)
        case "res.len":
            try none()
            return (.responseLength, .int)
        case "req.payload", "payload":
            guard args.count == 2, let offset = Int(args[0]), let length = Int(args[1]), (0..<(1 << 30)).contains(offset), (0..<(1 << 30)).contains(length) else {
                throw ConfigError("fetch method '\(written)' expects <offset>,<length> (non-negative integers; length 0: to the end).")
            }
            return (.payload(offset: offset, length: length), .bin)
        case "req.payload_lv", "payload_lv":
            guard args.count == 2 || args.count == 3 else {
                throw ConfigError("fetch method '\(written)' expects <offset1>,<length>[,<offset2>].")
            }
            guard let lengthOffset = Int(args[0]), lengthOffset >= 0, lengthOffset < 1 << 30 else {
                throw ConfigError("fetch method '\(written)' : payload offset1 must be a non-negative integer (got '\(args[0])').")
            }
            guard let lengthSize = Int(args[1]), lengthSize > 0, lengthSize <= 1 << 30 else {
                throw ConfigError("fetch method '\(written)' : payload length must be > 0 (got '\(args[1])').")
            }
            guard args.count == 3 else { return (.payloadLengthValue(lengthOffset: lengthOffset, lengthSize: lengthSize, dataOffset: nil, relative: false), .bin) }
            var relative = args[2].hasPrefix("+") || args[2].hasPrefix("-")
            guard var offset = Int(args[2]), abs(offset) < 1 << 30 else {
                throw ConfigError("fetch method '\(written)' : payload offset2 is not a number (got '\(args[2])').")
            }
            if !relative {
                // HAProxy 2.6 reads an unsigned offset2 halved, and an odd one as relative
                // (offset2 4 starts at byte 2, 5 two bytes after the length): configurations
                // tuned against it keep working.
                relative = offset & 1 == 1
                offset >>= 1
            }
            if relative && lengthOffset + lengthSize + offset < 0 {
                throw ConfigError("fetch method '\(written)' : payload offset2 too negative (the block would start before the buffer).")
            }
            return (.payloadLengthValue(lengthOffset: lengthOffset, lengthSize: lengthSize, dataOffset: offset, relative: relative), .bin)
        case "req.rdp_cookie", "rdp_cookie":
            if args.count > 1 { throw ConfigError("fetch method '\(written)' : too many arguments (expects [<name>]).") }
            return (.rdpCookie(args.first.flatMap { $0.isEmpty ? nil : $0 }), .str)
        case "req.rdp_cookie_cnt", "rdp_cookie_cnt":
            if args.count > 1 { throw ConfigError("fetch method '\(written)' : too many arguments (expects [<name>]).") }
            return (.rdpCookieCount(args.first.flatMap { $0.isEmpty ? nil : $0 }), .int)
        case "ssl_fc_sni", "ssl_fc_protocol", "ssl_fc_cipher", "ssl_c_used", "ssl_fc_alpn":
            return (.noValue, .str)
        default:
            if let counter = try stickCounter(name, args, written) { return (counter, .int) }
            if unimplemented.contains(name) {
                throw ConfigError("fetch method '\(written)' is not implemented yet.",
                                  hint: "see the sample fetches Fulcrum supports in docs/acl.md")
            }
            throw ConfigError("unknown fetch method '\(written)'\(Suggestion.didYouMean(name, in: known)).")
        }
    }

    /// The stick table data `sc_*`, `scN_*` and `src_*` read, by fetch suffix.
    static let counterNames: [String: String] = [
        "conn_cnt": "conn_cnt", "conn_cur": "conn_cur", "conn_rate": "conn_rate", "sess_cnt": "sess_cnt", "sess_rate": "sess_rate",
        "http_req_cnt": "http_req_cnt", "http_req_rate": "http_req_rate", "http_err_cnt": "http_err_cnt",
        "http_err_rate": "http_err_rate", "bytes_in_rate": "bytes_in_rate", "bytes_out_rate": "bytes_out_rate",
        "kbytes_in": "bytes_in_cnt", "kbytes_out": "bytes_out_cnt", "get_gpc0": "gpc0", "get_gpc1": "gpc1", "gpc0_rate": "gpc0_rate",
        "gpc1_rate": "gpc1_rate", "get_gpt0": "gpt0",
    ]

    private static func stickCounter(_ name: String, _ args: [String], _ written: String) throws(ConfigError) -> SampleFetch? {
        if name == "table_cnt" { return .tableEntries(args.first) }
        func optionalTable(_ k: Int) throws(ConfigError) -> String? {
            if args.count > k + 1 { throw ConfigError("fetch method '\(written)' : too many arguments.") }
            return k < args.count ? args[k] : nil
        }
        var slot: Int?
        var rest: Substring
        var k = 0
        if name.hasPrefix("sc_") {
            guard let first = args.first, let n = Int(first), (0...2).contains(n) else {
                throw ConfigError("fetch method '\(written)' : expects a tracking counter number 0, 1 or 2.", hint: "write '\(written)(0)'")
            }
            slot = n
            rest = name.dropFirst(3)
            k = 1
        } else if name.count > 4, name.hasPrefix("sc"), let n = Int(String(name.dropFirst(2).prefix(1))), (0...2).contains(n), name.dropFirst(3).hasPrefix("_") {
            slot = n
            rest = name.dropFirst(4)
        } else if name.hasPrefix("src_") {
            rest = name.dropFirst(4)
        } else {
            return nil
        }
        let table = try optionalTable(k)
        if rest == "inc_gpc0" || rest == "inc_gpc1" { return .incrementCounter(slot: slot, which: rest == "inc_gpc0" ? 0 : 1, table: table) }
        guard let stored = counterNames[String(rest)] else { return nil }
        if let slot { return .trackedCounter(slot: slot, name: stored, table: table) }
        return .sourceCounter(name: stored, table: table)
    }

    private static func headerName(_ args: [String], _ written: String) throws(ConfigError) -> String {
        guard let name = args.first, !name.isEmpty else {
            throw ConfigError("fetch method '\(written)' : missing header name.", hint: "write '\(written)(host)'")
        }
        return name
    }

    /// HAProxy fetches Fulcrum recognises but does not evaluate yet: refused at start
    /// with a clear message rather than reported as unknown.
    static let unimplemented: Set<String> = [
        "capture.req.hdr", "capture.res.hdr",
        "ssl_c_s_dn", "ssl_c_verify", "res.body", "avg_queue", "req.cook_names", "url_ip", "url_port", "res.ver", "lat_ns_avg", "cpu_calls",
    ]

    static let known: [String] = [
        "fe_id", "be_id", "srv_id", "fe_sess_rate", "be_sess_rate", "res.payload", "res.len",
        "src", "src_port", "dst", "dst_port", "so_name", "fe_name", "be_name", "srv_name", "nbsrv", "method", "path", "pathq",
        "url", "query", "base", "req.ver", "url_param", "urlp", "hdr", "req.hdr", "req.fhdr", "res.hdr", "res.fhdr", "shdr",
        "hdr_cnt", "req.hdr_cnt", "hdr_val", "hdr_ip", "cook", "req.cook", "res.cook", "cook_cnt", "cook_val", "status",
        "req.body", "req.len", "env", "rand", "date", "var", "str", "int", "bool", "always_true", "always_false", "unique-id",
        "ssl_fc", "ssl_fc_sni", "req.rdp_cookie", "req.rdp_cookie_cnt", "path_beg", "path_end", "path_sub", "path_reg", "path_dir", "path_dom", "path_len",
        "hdr_beg", "hdr_end", "hdr_sub", "hdr_reg", "hdr_dom", "hdr_dir", "url_beg", "url_sub", "url_reg", "base_beg",
    ]
}
