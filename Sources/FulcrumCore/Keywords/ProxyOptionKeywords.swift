/// `option NAME [ARGS]` and `no option NAME`, as keyword table entries.
enum ProxyOptionKeywords {
    typealias Spec = KeywordSpec<ProxyConfig>
    static let d: ProxyCapabilities = .defaults, f: ProxyCapabilities = .frontend, b: ProxyCapabilities = .backend

    static func flag(_ name: String, _ caps: ProxyCapabilities, _ keyPath: WritableKeyPath<ProxyOptions, Bool> & Sendable) -> Spec {
        Spec("option \(name)", caps, usage: "[no] option \(name)", status: ["tcp-check", "dontlognull", "log-separate-errors", "tcplog", "log-health-checks", "splice-auto"].contains(name) ? .active : .parsed) { p, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 0)
            p.options[keyPath: keyPath] = !ctx.negated
            if healthCheckOptions.contains(name) { chooseHealthCheck(&p, name, negated: ctx.negated) }
        }
    }

    /// Options that Fulcrum recognises and records, for the features that will act on them.
    /// The options something acts on today.
    static let activeOthers: Set<String> = ["ssl-hello-chk", "smtpchk", "mysql-check", "pgsql-check", "redis-check", "allbackups", "persist",
                                                 "splice-request", "splice-response", "tcp-smart-accept", "tcp-smart-connect"]

    static func other(_ name: String, _ caps: ProxyCapabilities, args: String = "") -> Spec {
        Spec("option \(name)", caps, usage: "[no] option \(name)\(args.isEmpty ? "" : " " + args)", status: activeOthers.contains(name) ? .active : .parsed) { p, ctx throws(ConfigError) in
            if args.isEmpty { try ctx.requireNoArguments(after: 0) }
            p.options.others[name] = !ctx.negated
            if !args.isEmpty { p.pending["option \(name)"] = ctx.args }
            if healthCheckOptions.contains(name) { chooseHealthCheck(&p, name, negated: ctx.negated) }
        }
    }

    /// The options that pick how servers are checked; as in HAProxy, the last one
    /// written wins.
    static let healthCheckOptions: Set<String> = ["httpchk", "tcp-check", "ssl-hello-chk", "smtpchk", "mysql-check", "pgsql-check",
                                                  "redis-check", "ldap-check", "spop-check", "external-check"]

    static func chooseHealthCheck(_ p: inout ProxyConfig, _ name: String, negated: Bool) {
        if negated {
            if p.pending["health-check"] == [name] { p.pending["health-check"] = nil }
        } else {
            p.pending["health-check"] = [name]
        }
    }

    static func connectionMode(_ mode: HTTPConnectionMode) -> Spec {
        Spec("option \(mode.rawValue)", [d, f, b], usage: "[no] option \(mode.rawValue)", status: .active) { p, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 0)
            p.options.httpConnectionMode = ctx.negated ? .keepAlive : mode
        }
    }

    static let specs: [Spec] = [
        Spec("option httplog", [d, f], usage: "option httplog [clf]", status: .active) { p, ctx throws(ConfigError) in
            if let arg = ctx.optionalArgument(0), arg != "clf" {
                throw ConfigError("'option httplog' only supports the 'clf' argument (got '\(arg)').")
            }
            p.options.httpLog = !ctx.negated
            p.options.httpLogCLF = ctx.optionalArgument(0) == "clf"
            if !ctx.negated { p.options.tcpLog = false }
        },
        Spec("option tcplog", [d, f], usage: "[no] option tcplog", status: .active) { p, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 0)
            p.options.tcpLog = !ctx.negated
            if !ctx.negated { p.options.httpLog = false }
        },
        flag("dontlognull", [d, f], \.dontLogNull),
        other("httpslog", [d, f]),
        flag("log-separate-errors", [d, f], \.logSeparateErrors),
        flag("log-health-checks", [d, b], \.logHealthChecks),
        flag("tcp-check", [d, b], \.tcpCheck),
        Spec("option redispatch", [d, b], usage: "[no] option redispatch [<interval>]", status: .active) { p, ctx throws(ConfigError) in
            if let interval = ctx.optionalArgument(0) {
                guard Int(interval) != nil else { throw ConfigError("'option redispatch' expects an optional integer interval (got '\(interval)').") }
                p.pending["option redispatch"] = [interval]
            }
            try ctx.requireNoArguments(after: 1)
            p.options.redispatch = !ctx.negated
        },
        flag("abortonclose", [d, b], \.abortOnClose),
        flag("splice-auto", [d, f, b], \.spliceAuto),
        flag("http-buffer-request", [d, f, b], \.httpBufferRequest),
        connectionMode(.keepAlive), connectionMode(.serverClose), connectionMode(.close),
        Spec("option forwardfor", [d, f, b], usage: "option forwardfor [except <network>] [header <name>] [if-none]", status: .active) { p, ctx throws(ConfigError) in
            if ctx.negated { p.options.forwardFor = nil; return }
            var ff = ForwardForOption()
            var i = 0
            while i < ctx.args.count {
                switch ctx.args[i] {
                case "except": ff.except = try ctx.argument(i + 1, "<network>"); i += 2
                case "header":
                    let name = try ctx.argument(i + 1, "<name>")
                    guard HTTPToken.isValidHeaderName(name) else { throw ConfigError("'option forwardfor': invalid header name '\(name)'.") }
                    ff.header = name; i += 2
                case "if-none": ff.ifNone = true; i += 1
                default:
                    throw ConfigError("'option forwardfor' only supports optional values: 'header', 'if-none' and 'except' (got '\(ctx.args[i])').")
                }
            }
            p.options.forwardFor = ff
        },
        Spec("option httpchk", [d, b], usage: "option httpchk [<method>] [<uri>] [<version>]", status: .active) { p, ctx throws(ConfigError) in
            chooseHealthCheck(&p, "httpchk", negated: ctx.negated)
            if ctx.negated { p.options.httpCheck = nil; return }
            var chk = HTTPCheckOption()
            switch ctx.args.count {
            case 0: break
            case 1: chk.uri = ctx.args[0]
            case 2: chk.method = ctx.args[0]; chk.uri = ctx.args[1]
            default:
                chk.method = ctx.args[0]; chk.uri = ctx.args[1]; chk.version = ctx.args[2...].joined(separator: " ")
            }
            p.options.httpCheck = chk
        },
        other("ssl-hello-chk", [d, b]), other("smtpchk", [d, b], args: "[<hello> <domain>]"),
        other("mysql-check", [d, b], args: "[user <username> [post-41]]"), other("pgsql-check", [d, b], args: "user <username>"),
        other("redis-check", [d, b]), other("ldap-check", [d, b]), other("spop-check", [d, b]), other("external-check", [d, b]),
        other("tcpka", [d, f, b]), other("clitcpka", [d, f]), other("srvtcpka", [d, b]), other("allbackups", [d, b]),
        other("persist", [d, b]), other("prefer-last-server", [d, b]), other("http-pretend-keepalive", [d, f, b]),
        other("http-no-delay", [d, f, b]), other("http-ignore-probes", [d, f]), other("http-keep-alive-legacy", [d, f, b]),
        other("accept-invalid-http-request", [d, f]), other("accept-invalid-http-response", [d, b]),
        other("originalto", [d, f, b], args: "[except <network>] [header <name>]"), other("socket-stats", [d, f]),
        other("independent-streams", [d, f, b]), other("nolinger", [d, f, b]), other("checkcache", [d, b]),
        other("transparent", [d, b]), other("dontlog-normal", [d, f]), other("logasap", [d, f]),
        other("idle-close-on-response", [d, f]), other("disable-h2-upgrade", [d, f]), other("h1-case-adjust-bogus-client", [d, f]),
        other("h1-case-adjust-bogus-server", [d, b]), other("http-restrict-req-hdr-names", [d, f, b], args: "preserve|delete|reject"),
        other("splice-request", [d, f, b]), other("splice-response", [d, f, b]), other("contstats", [d, f]),
        other("http-use-proxy-header", [d, f]), other("log-health-checks-legacy", [d, b]), other("tcp-smart-accept", [d, f]),
        other("tcp-smart-connect", [d, b]), other("http-drop-request-trailers", [d, b]), other("http-drop-response-trailers", [d, f]),
    ]
}
