/// Keywords of the `global` section.
public enum GlobalKeywords {
    typealias Spec = KeywordSpec<GlobalSettings>

    static func flag(_ name: String, _ set: @escaping @Sendable (inout GlobalSettings) -> Void, status: KeywordStatus = .parsed) -> Spec {
        Spec(name, .global, status: status) { g, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 0)
            set(&g)
        }
    }

    static func string(_ name: String, _ placeholder: String, status: KeywordStatus = .parsed, _ set: @escaping @Sendable (inout GlobalSettings, String) -> Void) -> Spec {
        Spec(name, .global, usage: "\(name) \(placeholder)", status: status) { g, ctx throws(ConfigError) in
            let value = try ctx.argument(0, placeholder)
            try ctx.requireNoArguments(after: 1)
            set(&g, value)
        }
    }

    /// Accepted and recorded: a tuning knob whose default behaviour Fulcrum already has.
    static func pending(_ name: String, _ usage: String, minArgs: Int = 1) -> Spec {
        Spec(name, .global, usage: usage.isEmpty ? name : "\(name) \(usage)") { g, ctx throws(ConfigError) in
            if ctx.args.count < minArgs { _ = try ctx.argument(minArgs - 1, usage) }
            g.pending[name] = ctx.args
        }
    }

    static func notYet(_ name: String, _ usage: String = "...") -> Spec {
        Spec(name, .global, usage: "\(name) \(usage)", status: .notYet) { _, ctx throws(ConfigError) in
            throw ConfigError("'\(ctx.keyword)' is not supported yet by Fulcrum.", hint: "remove it; the README's keyword table lists what is supported")
        }
    }

    public static let table = KeywordTable<GlobalSettings>([
        flag("daemon", { $0.daemon = true }, status: .active),
        Spec("master-worker", .global, usage: "master-worker [no-exit-on-failure]") { g, ctx throws(ConfigError) in
            if let arg = ctx.optionalArgument(0), arg != "no-exit-on-failure" {
                throw ConfigError("'master-worker' only supports 'no-exit-on-failure' (got '\(arg)').")
            }
            try ctx.requireNoArguments(after: 1)
            g.masterWorker = true
        },
        flag("quiet", { $0.quiet = true }),
        flag("noepoll", { _ in }), flag("nopoll", { _ in }), flag("nosplice", { $0.noSplice = true }, status: .active), flag("noreuseport", { $0.noReusePort = true }, status: .active),
        flag("strict-limits", { $0.strictLimits = true }),
        flag("insecure-fork-wanted", { _ in }), flag("set-dumpable", { _ in }),
        flag("expose-experimental-directives", { _ in }),
        string("chroot", "<dir>", status: .active) { $0.chroot = $1 },
        string("pidfile", "<file>", status: .active) { $0.pidfile = $1 },
        string("node", "<name>") { $0.nodeName = $1 },
        Spec("description", .global, usage: "description <text>") { g, ctx throws(ConfigError) in
            _ = try ctx.argument(0, "<text>")
            g.description = ctx.args.joined(separator: " ")
        },
        Spec("user", .global, usage: "user <user name>", status: .active) { g, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<user name>")
            try ctx.requireNoArguments(after: 1)
            guard let uid = ctx.environment.userID(name) else {
                throw ConfigError("cannot find user id for '\(name)'.", hint: "create the account, or use 'uid NUMBER'")
            }
            g.user = name
            g.uid = uid
        },
        Spec("group", .global, usage: "group <group name>", status: .active) { g, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<group name>")
            try ctx.requireNoArguments(after: 1)
            guard let gid = ctx.environment.groupID(name) else {
                throw ConfigError("cannot find group id for '\(name)'.", hint: "create the group, or use 'gid NUMBER'")
            }
            g.group = name
            g.gid = gid
        },
        Spec("uid", .global, usage: "uid <number>", status: .active) { g, ctx throws(ConfigError) in
            g.uid = UInt32(try ctx.integer(0, "<number>", in: 0...Int(Int32.max)))
        },
        Spec("gid", .global, usage: "gid <number>", status: .active) { g, ctx throws(ConfigError) in
            g.gid = UInt32(try ctx.integer(0, "<number>", in: 0...Int(Int32.max)))
        },
        Spec("nbthread", .global, usage: "nbthread <number>", status: .active) { g, ctx throws(ConfigError) in
            g.nbthread = try ctx.integer(0, "<number>", in: 1...64)
            try ctx.requireNoArguments(after: 1)
        },
        Spec("maxconn", .global, usage: "maxconn <number> (no limit when unset; HAProxy derives one from ulimit -n)", status: .active) { g, ctx throws(ConfigError) in
            g.maxconn = try ctx.integer(0, "<number>", in: 1...Int(Int32.max))
            try ctx.requireNoArguments(after: 1)
        },
        Spec("log", .global, usage: "log <target> [len <n>] [format <fmt>] [sample <r>:<s>] <facility> [<level> [<minlevel>]] (UDP, unix datagram, stdout/stderr, ring@<ring>)", status: .active) { g, ctx throws(ConfigError) in
            if ctx.args.first == "global" { throw ConfigError("'log global' is only permitted in a proxy section.") }
            g.logTargets.append(try LogTargetParser.parse(ctx))
        },
        string("log-tag", "<string>", status: .active) { $0.logTag = $1 },
        Spec("log-send-hostname", .global, usage: "log-send-hostname [<string>]", status: .active) { g, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 1)
            g.logSendHostname = ctx.optionalArgument(0) ?? ""
        },
        Spec("stats socket", .global, usage: "stats socket <address> [mode <m>] [level user|operator|admin] [user <u>] [group <g>] [expose-fd listeners] (expose-fd is not acted on yet)", status: .active) { g, ctx throws(ConfigError) in
            g.statsSockets.append(try StatsSocketParser.parse(ctx))
        },
        Spec("stats timeout", .global, usage: "stats timeout <time>", status: .active) { g, ctx throws(ConfigError) in
            g.statsTimeout = try ctx.duration(0)
            try ctx.requireNoArguments(after: 1)
        },
        Spec("stats maxconn", .global, usage: "stats maxconn <number>") { g, ctx throws(ConfigError) in
            g.statsMaxconn = try ctx.integer(0, "<number>", in: 1...Int(Int32.max))
        },
        string("ca-base", "<dir>") { $0.caBase = $1 },
        string("crt-base", "<dir>") { $0.crtBase = $1 },
        string("ssl-default-bind-ciphers", "<ciphers>") { $0.sslDefaultBindCiphers = $1 },
        string("ssl-default-bind-ciphersuites", "<ciphersuites>") { $0.sslDefaultBindCiphersuites = $1 },
        Spec("ssl-default-bind-options", .global, usage: "ssl-default-bind-options <options>...") { g, ctx throws(ConfigError) in
            g.sslDefaultBindOptions = try SSLOptions.validate(ctx)
        },
        string("ssl-default-server-ciphers", "<ciphers>") { $0.sslDefaultServerCiphers = $1 },
        string("ssl-default-server-ciphersuites", "<ciphersuites>") { $0.sslDefaultServerCiphersuites = $1 },
        Spec("ssl-default-server-options", .global, usage: "ssl-default-server-options <options>...") { g, ctx throws(ConfigError) in
            g.sslDefaultServerOptions = try SSLOptions.validate(ctx)
        },
        string("ssl-dh-param-file", "<file>") { $0.sslDHParamFile = $1 },
        pending("ssl-server-verify", "none|required"),
        Spec("tune.ssl.default-dh-param", .global, usage: "tune.ssl.default-dh-param <bits>") { g, ctx throws(ConfigError) in
            g.tuneSSLDefaultDHParam = try ctx.integer(0, "<bits>", in: 1024...16384)
        },
        Spec("tune.bufsize", .global, usage: "tune.bufsize <size>") { g, ctx throws(ConfigError) in
            let v = try SizeValue.parse(ctx.argument(0, "<size>"), keyword: ctx.keyword)
            guard v >= 1024, v <= 1 << 30 else { throw ConfigError("'tune.bufsize' must be between 1024 and 1073741824 (was \(v)).") }
            g.tuneBufsize = v
        },
        Spec("tune.maxaccept", .global, usage: "tune.maxaccept <number> (-1: no limit, 0: the default, 4)", status: .active) { g, ctx throws(ConfigError) in
            let v = try ctx.integer(0, "<number>", in: -1...Int(Int32.max))
            g.tuneMaxaccept = v == 0 ? nil : v
        },
        Spec("tune.pipesize", .global, usage: "tune.pipesize <size>", status: .active) { g, ctx throws(ConfigError) in
            let v = try SizeValue.parse(ctx.argument(0, "<size>"), keyword: ctx.keyword)
            guard v >= 4096, v <= 1 << 30 else { throw ConfigError("'tune.pipesize' must be between 4096 and 1073741824 (was \(v)).") }
            g.tunePipesize = Int(v)
        },
        // Fulcrum's own keyword: HAProxy keeps every idle connection's state as it is.
        Spec("tune.park-idle-clients", .global, usage: "tune.park-idle-clients <time>|off (Fulcrum's own; default 100ms)", status: .active) { g, ctx throws(ConfigError) in
            if try ctx.argument(0, "<time>|off") == "off" {
                g.parkIdleClients = nil
            } else {
                g.parkIdleClients = try ctx.duration(0)
            }
            try ctx.requireNoArguments(after: 1)
        },
        Spec("maxpipes", .global, usage: "maxpipes <number>", status: .active) { g, ctx throws(ConfigError) in
            g.maxPipes = try ctx.integer(0, "<number>", in: 0...10_000_000)
        },
        Spec("tune.maxrewrite", .global, usage: "tune.maxrewrite <size>") { g, ctx throws(ConfigError) in
            g.tuneMaxrewrite = try SizeValue.parse(ctx.argument(0, "<size>"), keyword: ctx.keyword)
        },
        pending("tune.http.maxhdr", "<number>"), pending("tune.maxpollevents", "<number>"),
        pending("tune.ssl.cachesize", "<number>"), pending("tune.ssl.lifetime", "<time>"), pending("tune.ssl.maxrecord", "<size>"),
        pending("tune.idletimer", "<time>"), pending("tune.rcvbuf.client", "<size>"), pending("tune.rcvbuf.server", "<size>"),
        pending("tune.sndbuf.client", "<size>"), pending("tune.sndbuf.server", "<size>"), pending("tune.h2.max-concurrent-streams", "<number>"),
        Spec("hard-stop-after", .global, usage: "hard-stop-after <time>", status: .active) { g, ctx throws(ConfigError) in
            g.hardStopAfter = try ctx.duration(0)
        },
        Spec("spread-checks", .global, usage: "spread-checks <0..50 percent>", status: .active) { g, ctx throws(ConfigError) in
            g.spreadChecks = try ctx.integer(0, "<percent>", in: 0...50)
        },
        pending("maxconnrate", "<number>"), pending("maxsessrate", "<number>"), pending("maxsslconn", "<number>"),
        pending("maxsslrate", "<number>"), pending("ulimit-n", "<number>"),
        pending("cpu-map", "<thread-set> <cpu-set>", minArgs: 2), pending("localpeer", "<name>"),
        pending("server-state-file", "<file>"), pending("server-state-base", "<dir>"),
        pending("unix-bind", "[prefix <p>] [mode <m>] [user <u>] [group <g>]"), pending("busy-polling", "", minArgs: 0),
        pending("tune.http.logurilen", "<number>"), pending("tune.http.cookielen", "<number>"), pending("tune.comp.maxlevel", "<number>"),
        pending("tune.h2.initial-window-size", "<number>"), pending("tune.h2.header-table-size", "<number>"),
        pending("tune.vars.global-max-size", "<size>"), pending("tune.vars.proc-max-size", "<size>"),
        pending("tune.vars.reqres-max-size", "<size>"), pending("tune.vars.sess-max-size", "<size>"), pending("tune.vars.txn-max-size", "<size>"),
        pending("tune.ssl.capture-buffer-size", "<number>"), pending("tune.ssl.capture-cipherlist-size", "<number>"),
        pending("pp2-never-send-local", "", minArgs: 0), pending("mworker-max-reloads", "<number>"), pending("nogetaddrinfo", "", minArgs: 0),
        pending("grace", "<time>"), pending("issuers-chain-path", "<dir>"), pending("insecure-setuid-wanted", "", minArgs: 0),
        pending("zero-warning", "", minArgs: 0), pending("maxcomprate", "<number>"), pending("maxzlibmem", "<number>"),
        pending("httpclient.resolvers.prefer", "ipv4|ipv6"), pending("httpclient.ssl.verify", "none|required"),
        notYet("h1-case-adjust-file", "<file>"), notYet("set-var", "<var-name> <expr>"),
        notYet("lua-load", "<file>"), notYet("lua-prepend-path", "<path>"), notYet("setenv", "<name> <value>"),
        notYet("presetenv", "<name> <value>"), notYet("resetenv", "[<name>...]"), notYet("unsetenv", "<name>..."),
        notYet("external-check"), notYet("h1-case-adjust", "<from> <to>"), notYet("51degrees-data-file"),
        notYet("wurfl-data-file"), notYet("deviceatlas-json-file"), notYet("ssl-engine"), notYet("ssl-mode-async", ""),
        notYet("thread-groups", "<number>"), notYet("numa-cpu-mapping", ""),
    ])
}
