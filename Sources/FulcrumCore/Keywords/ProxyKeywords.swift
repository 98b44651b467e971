import HAProxyConfig

/// Keywords of `defaults`, `frontend`, `backend` and `listen` sections.
public enum ProxyKeywords {
    typealias Spec = KeywordSpec<ProxyConfig>
    static let d: ProxyCapabilities = .defaults, f: ProxyCapabilities = .frontend, b: ProxyCapabilities = .backend

    /// Timeouts the TCP data plane applies today.
    static let activeTimeouts: Set<String> = ["client", "server", "connect", "tunnel", "http-request", "http-keep-alive", "queue", "client-fin", "server-fin", "check"]

    static func timeout(_ name: String, _ caps: ProxyCapabilities) -> Spec {
        Spec("timeout \(name)", caps, usage: "timeout \(name) <time>", status: activeTimeouts.contains(name) ? .active : .parsed) { p, ctx throws(ConfigError) in
            p.timeouts[name] = try ctx.duration(0)
            try ctx.requireNoArguments(after: 1)
        }
    }

    static func rules(_ name: String, _ actions: Set<String>, _ caps: ProxyCapabilities, _ keyPath: WritableKeyPath<ProxyConfig, [HTTPRuleConfig]> & Sendable, runs: String? = nil) -> Spec {
        Spec(name, caps, usage: "\(name) <action> [options...] [ { if | unless } <condition> ]" + (runs.map { " (\($0) run, with conditions; the others are checked and refused at start)" } ?? ""),
             status: runs == nil ? .parsed : .active) { p, ctx throws(ConfigError) in
            let action = try ctx.argument(0, "an action")
            guard actions.contains(RuleActions.baseName(action)) else {
                throw ConfigError("'\(name)' : unknown action '\(action)'\(Suggestion.didYouMean(RuleActions.baseName(action), in: actions)).")
            }
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[1...])
            p[keyPath: keyPath].append(HTTPRuleConfig(action: action, arguments: words, condition: condition, location: ctx.location))
        }
    }

    /// `stick on|match|store-request|store-response <pattern> [table <t>] [if|unless <cond>]`.
    static func stick(_ kind: String) -> Spec {
        Spec("stick \(kind)", [d, b], usage: "stick \(kind) <pattern> [table <table>] [ { if | unless } <condition> ]", status: .active) { p, ctx throws(ConfigError) in
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[...])
            guard let pattern = words.first else { throw ConfigError("'stick \(kind)' expects a pattern (a sample expression such as 'src').") }
            var table: String?
            if words.count > 1 {
                guard words.count == 3, words[1] == "table" else { throw ConfigError("'stick \(kind)': unexpected argument '\(words[1])'.", hint: "write 'stick \(kind) <pattern> [table <name>]'") }
                table = words[2]
            }
            p.stickRules.append(StickRuleConfig(kind: kind, pattern: pattern, table: table, condition: condition, location: ctx.location))
        }
    }

    static func pending(_ name: String, _ caps: ProxyCapabilities, _ usage: String, minArgs: Int = 1, status: KeywordStatus = .parsed) -> Spec {
        Spec(name, caps, usage: usage.isEmpty ? name : "\(name) \(usage)", status: status) { p, ctx throws(ConfigError) in
            if ctx.args.count < minArgs { _ = try ctx.argument(minArgs - 1, usage) }
            p.pending[name] = ctx.args
        }
    }

    static func notYet(_ name: String, _ caps: ProxyCapabilities, _ usage: String = "...") -> Spec {
        Spec(name, caps, usage: "\(name) \(usage)", status: .notYet) { _, ctx throws(ConfigError) in
            throw ConfigError("'\(ctx.keyword)' is not supported yet by Fulcrum.", hint: "remove it; the README's keyword table lists what is supported")
        }
    }

    public static let table = KeywordTable<ProxyConfig>([
        Spec("mode", [d, f, b], usage: "mode { tcp | http }", status: .active) { p, ctx throws(ConfigError) in
            let m = try ctx.argument(0, "{ tcp | http }")
            guard let mode = ProxyMode(rawValue: m) else {
                if m == "health" { throw ConfigError("'mode health' was removed in HAProxy 2.4.", hint: "use 'monitor-uri' in an HTTP frontend") }
                throw ConfigError("unknown proxy mode '\(m)'.", hint: "mode is 'tcp' or 'http'")
            }
            try ctx.requireNoArguments(after: 1)
            p.mode = mode
            p.modeLocation = ctx.location
        },
        Spec("bind", f, usage: "bind <address>[,<address>...] [options...] (maxconn, backlog, interface, transparent, v4v6, v6only, and mode/user/group for unix sockets run; freebind is always on; ssl, crt and accept-proxy are refused at start; the others are checked)", status: .active) { p, ctx throws(ConfigError) in
            p.binds.append(try BindLineParser.parse(&ctx))
        },
        Spec("default_backend", [d, f], usage: "default_backend <backend>", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<backend>")
            try ctx.requireNoArguments(after: 1)
            p.defaultBackend = Located(name, at: ctx.location)
        },
        Spec("use_backend", f, usage: "use_backend <backend>|%[expr] [ { if | unless } <condition> ] (HTTP and TCP mode)", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<backend>")
            let (rest, condition) = try KeywordContext.splitCondition(ctx.args[1...])
            if let extra = rest.first { throw ConfigError("'use_backend' cannot handle unexpected argument '\(extra)'.", hint: "write 'use_backend NAME if CONDITION'") }
            p.useBackendRules.append(UseBackendRule(backend: name, condition: condition, location: ctx.location))
        },
        Spec("balance", [d, b], usage: "balance <algorithm> [<arguments>]", status: .active) { p, ctx throws(ConfigError) in
            p.balance = try BalanceParser.parse(ctx)
        },
        Spec("hash-type", [d, b], usage: "hash-type <method> [<function>] [<modifier>]", status: .active) { p, ctx throws(ConfigError) in
            var h = HashType()
            let m = try ctx.argument(0, "<method>")
            guard let method = HashType.Method(rawValue: m) else {
                throw ConfigError("'hash-type' expects 'map-based' or 'consistent' (got '\(m)').")
            }
            h.method = method
            if let fn = ctx.optionalArgument(1) {
                guard ["sdbm", "djb2", "wt6", "crc32", "none"].contains(fn) else {
                    throw ConfigError("'hash-type': unknown hash function '\(fn)' (expects sdbm, djb2, wt6, crc32 or none).")
                }
                h.function = fn
            } else if method == .consistent {
                // Consistent hashing without a function: sdbm with avalanche, as HAProxy.
                h.avalanche = true
            }
            if let modifier = ctx.optionalArgument(2) {
                guard modifier == "avalanche" else { throw ConfigError("'hash-type': unknown modifier '\(modifier)' (only 'avalanche').") }
                h.avalanche = true
            }
            try ctx.requireNoArguments(after: 3)
            p.hashType = h
        },
        Spec("server", b, usage: "server <name> <address>[:port] [options...] (address, weight, backup, disabled, maxconn, check, inter, fastinter, downinter, rise, fall, port, addr, init-state, slowstart, agent-check, agent-port, agent-addr, agent-inter, agent-send, cookie, observe, error-limit, on-error, on-marked-down shutdown-sessions, on-marked-up shutdown-backup-sessions run; maxqueue only bounds server-specific queues, which need persistence; ssl and send-proxy are refused at start; the others are checked)", status: .active, wrongSideIsAlert: true) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<name> and <address>")
            guard name.unicodeScalars.allSatisfy({ ConfigNames.isValid($0) }) else {
                throw ConfigError("character '\(name.unicodeScalars.first { !ConfigNames.isValid($0) }!)' is not permitted in server name '\(name)'.")
            }
            let addressText = try ctx.argument(1, "<address>")
            let label = "'server \(p.name)/\(name)'"
            let address: AddressSpec
            do throws(ConfigError) { address = try AddressSpec.parse(addressText, role: .server) } catch {
                throw ConfigError("\(label) : \(error.message)", hint: error.hint)
            }
            var options = p.defaultServer
            try ServerLineParser.parseOptions(ctx.args[2...], into: &options, serverLabel: label)
            p.servers.append(ServerConfig(name: name, address: address, options: options, location: ctx.location))
        },
        Spec("default-server", [d, b], usage: "default-server [options...]") { p, ctx throws(ConfigError) in
            try ServerLineParser.parseOptions(ctx.args[...], into: &p.defaultServer, serverLabel: "'default-server'")
        },
        timeout("client", [d, f]), timeout("server", [d, b]), timeout("connect", [d, b]), timeout("check", [d, b]),
        timeout("queue", [d, b]), timeout("http-keep-alive", [d, f, b]), timeout("http-request", [d, f, b]),
        timeout("tunnel", [d, b]), timeout("tarpit", [d, f, b]), timeout("client-fin", [d, f]), timeout("server-fin", [d, b]),
        Spec("retries", [d, b], usage: "retries <number>", status: .active) { p, ctx throws(ConfigError) in
            p.retries = try ctx.integer(0, "<number>", in: 0...Int(Int32.max))
            try ctx.requireNoArguments(after: 1)
        },
        Spec("maxconn", [d, f], usage: "maxconn <number>", status: .active) { p, ctx throws(ConfigError) in
            p.maxconn = try ctx.integer(0, "<number>", in: 0...Int(Int32.max))
            try ctx.requireNoArguments(after: 1)
        },
        Spec("fullconn", [d, b], usage: "fullconn <number>") { p, ctx throws(ConfigError) in
            p.fullconn = try ctx.integer(0, "<number>", in: 0...Int(Int32.max))
        },
        Spec("errorfile", [d, f, b], usage: "errorfile <code> <file>", status: .active) { p, ctx throws(ConfigError) in
            let codeText = try ctx.argument(0, "<code> and <file>")
            let path = try ctx.argument(1, "<file>")
            try ctx.requireNoArguments(after: 2)
            guard let code = Int(codeText), ErrorFileConfig.supportedStatuses.contains(code) else {
                throw ConfigError("errorfile : status code '\(codeText)' not handled.",
                                  hint: "supported codes: " + ErrorFileConfig.supportedStatuses.map(String.init).joined(separator: ", "))
            }
            guard let bytes = ctx.environment.readFile(path) else {
                throw ConfigError("errorfile : error opening file '\(path)'.")
            }
            p.errorFiles[code] = ErrorFileConfig(status: code, path: path, contents: bytes, location: ctx.location)
        },
        Spec("log", [d, f, b], usage: "log global | log <target> [options] <facility> [<level> [<minlevel>]]", status: .active) { p, ctx throws(ConfigError) in
            if ctx.args.first == "global" {
                try ctx.requireNoArguments(after: 1)
                p.logTargets.append(LogTarget(destination: .global, location: ctx.location))
            } else {
                p.logTargets.append(try LogTargetParser.parse(ctx))
            }
        },
        Spec("log-format", [d, f], usage: "log-format <format string> (every variable and flag renders as in HAProxy 2.6; %sslc/%sslv print - until TLS exists)", status: .active) { p, ctx throws(ConfigError) in
            let text = try ctx.singleFormatArgument()
            _ = try LogFormat(parsing: text)
            p.logFormat = Located(text, at: ctx.location)
        },
        Spec("log-tag", [d, f, b], usage: "log-tag <string>", status: .active) { p, ctx throws(ConfigError) in
            p.logTag = try ctx.argument(0, "<string>")
            try ctx.requireNoArguments(after: 1)
        },
        Spec("unique-id-format", [d, f], usage: "unique-id-format <format string>", status: .active) { p, ctx throws(ConfigError) in
            let text = try ctx.singleFormatArgument()
            _ = try LogFormat(parsing: text)
            p.uniqueIDFormat = Located(text, at: ctx.location)
        },
        Spec("unique-id-header", [d, f], usage: "unique-id-header <name>", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<name>")
            try ctx.requireNoArguments(after: 1)
            guard HTTPToken.isValidHeaderName(name) else { throw ConfigError("'unique-id-header': invalid header name '\(name)'.") }
            p.uniqueIDHeader = name
        },
        Spec("capture request header", f, usage: "capture request header <name> len <length>", status: .active) { p, ctx throws(ConfigError) in
            p.captures.append(try captureHeader(.request, ctx))
        },
        Spec("capture response header", f, usage: "capture response header <name> len <length>", status: .active) { p, ctx throws(ConfigError) in
            p.captures.append(try captureHeader(.response, ctx))
        },
        Spec("declare capture", f, usage: "declare capture request|response len <length>", status: .active) { p, ctx throws(ConfigError) in
            guard let direction = CaptureHeader.Direction(rawValue: try ctx.argument(0, "request|response")) else {
                throw ConfigError("'declare capture' expects 'request' or 'response' (got '\(ctx.args[0])').")
            }
            guard ctx.optionalArgument(1) == "len", let lenText = ctx.optionalArgument(2) else {
                throw ConfigError("'declare capture' requires a capture length ('len').", hint: "write 'declare capture \(direction.rawValue) len 32'")
            }
            guard let length = Int(lenText), length > 0, length <= 65535 else {
                throw ConfigError("'declare capture' : length must be > 0 (got '\(lenText)').")
            }
            try ctx.requireNoArguments(after: 3)
            // A slot with no header: only `capture ... id` rules fill it.
            p.captures.append(CaptureHeader(direction: direction, name: "", length: length))
        },
        Spec("capture cookie", f, usage: "capture cookie <name> len <length>", status: .active) { p, ctx throws(ConfigError) in
            guard ctx.args.count >= 3, ctx.args[1] == "len", let length = Int(ctx.args[2]), length >= 0 else {
                throw ConfigError("'capture' expects 'cookie' <cookie_name> 'len' <len>.")
            }
            if length > CaptureCookie.maximumLength {
                ctx.warn("truncating capture length to \(CaptureCookie.maximumLength) bytes for \(p.kind.rawValue) '\(p.name)'.")
            }
            // A second one replaces the first, silently, as in HAProxy.
            p.captureCookie = CaptureCookie(name: ctx.args[0], length: min(length, CaptureCookie.maximumLength))
        },
        rules("http-request", RuleActions.httpRequest, [d, f, b], \.httpRequestRules, runs: "allow, deny, redirect, return, add-header, set-header, del-header, replace-header, replace-value, set-path, set-uri, set-query, set-method, set-var, unset-var, track-sc0/1/2, sc-inc-gpc0/1, sc-set-gpt0"),
        rules("http-response", RuleActions.httpResponse, [d, f, b], \.httpResponseRules, runs: "add-header, set-header, del-header, replace-header, replace-value, set-status, set-var, unset-var, allow, deny, return, redirect"),
        rules("http-after-response", RuleActions.httpAfterResponse, [d, f, b], \.httpAfterResponseRules, runs: "add-header, set-header, del-header, replace-header, replace-value, set-status (on server responses)"),
        Spec("tcp-request", [d, f, b], usage: "tcp-request connection|content|session <action> [ { if | unless } <condition> ] | tcp-request inspect-delay <time> (accept, reject, track-sc0/1/2, sc-inc-gpc0/1, sc-set-gpt0, set-var run; content rules run on each HTTP request, and in TCP mode on the bytes inspect-delay holds; the others are refused at start)", status: .active) { p, ctx throws(ConfigError) in
            let kind = try ctx.argument(0, "connection, content, session or inspect-delay")
            guard RuleActions.tcpRequestKinds.contains(kind) else {
                throw ConfigError("'tcp-request' expects 'connection', 'content', 'session' or 'inspect-delay' (got '\(kind)').")
            }
            if kind == "inspect-delay" {
                _ = try DurationValue.parse(ctx.argument(1, "<time>"), keyword: "tcp-request inspect-delay")
                p.tcpRequestRules.append(HTTPRuleConfig(action: "inspect-delay", arguments: [ctx.args[1]], condition: nil, location: ctx.location))
                return
            }
            let action = try ctx.argument(1, "an action")
            guard RuleActions.tcpRequest.contains(RuleActions.baseName(action)) else {
                throw ConfigError("'tcp-request \(kind)' : unknown action '\(action)'\(Suggestion.didYouMean(RuleActions.baseName(action), in: RuleActions.tcpRequest)).")
            }
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[2...])
            p.tcpRequestRules.append(HTTPRuleConfig(action: "\(kind) \(action)", arguments: words, condition: condition, location: ctx.location))
        },
        Spec("tcp-response", [d, b], usage: "tcp-response content <action> [ { if | unless } <condition> ] | tcp-response inspect-delay <time>", status: .active) { p, ctx throws(ConfigError) in
            let kind = try ctx.argument(0, "content or inspect-delay")
            if kind == "inspect-delay" {
                p.tcpResponseInspectDelay = try DurationValue.parse(ctx.argument(1, "<time>"), keyword: "tcp-response inspect-delay")
                return
            }
            guard kind == "content" else { throw ConfigError("'tcp-response' expects 'content' or 'inspect-delay' (got '\(kind)').") }
            let action = try ctx.argument(1, "an action")
            guard RuleActions.tcpResponse.contains(RuleActions.baseName(action)) else {
                throw ConfigError("'tcp-response content' : unknown action '\(action)'\(Suggestion.didYouMean(action, in: RuleActions.tcpResponse)).")
            }
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[2...])
            p.tcpResponseRules.append(HTTPRuleConfig(action: action, arguments: words, condition: condition, location: ctx.location))
        },
        Spec("tcp-check", [d, b], usage: "tcp-check <action> [options...] (connect port/send-proxy as the first rule, send, send-binary, expect string|rstring|binary|rbinary [!], comment run; the others are refused at start)", status: .active) { p, ctx throws(ConfigError) in
            let action = try ctx.argument(0, "an action")
            guard RuleActions.tcpCheck.contains(RuleActions.baseName(action)) else {
                throw ConfigError("'tcp-check' : unknown action '\(action)'\(Suggestion.didYouMean(action, in: RuleActions.tcpCheck)).")
            }
            p.tcpCheckRules.append(CheckRuleConfig(action: action, arguments: Array(ctx.args.dropFirst()), location: ctx.location))
        },
        Spec("http-check", [d, b], usage: "http-check <action> [options...] (one send: meth, uri, ver, hdr, body; expect status|rstatus|string|rstring [!]; connect port; comment run; the others are refused at start)", status: .active) { p, ctx throws(ConfigError) in
            let action = try ctx.argument(0, "an action")
            guard RuleActions.httpCheck.contains(RuleActions.baseName(action)) else {
                throw ConfigError("'http-check' : unknown action '\(action)'\(Suggestion.didYouMean(action, in: RuleActions.httpCheck)).")
            }
            p.httpCheckRules.append(CheckRuleConfig(action: action, arguments: Array(ctx.args.dropFirst()), location: ctx.location))
        },
        Spec("acl", [d, f, b], usage: "acl <name> <criterion> [flags] [operator] [<value>...] (see docs/acl.md for the fetches and converters)", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<name> and <criterion>")
            guard name.unicodeScalars.allSatisfy({ ConfigNames.isValid($0) }) else {
                throw ConfigError("acl name '\(name)' contains an invalid character (permitted: letters, digits, '-', '_', '.', ':').")
            }
            let criterion = try ctx.argument(1, "a criterion")
            p.acls.append(ACLConfig(name: name, criterion: criterion, arguments: Array(ctx.args.dropFirst(2)), location: ctx.location))
        },
        Spec("stats enable", [d, f, b], usage: "stats enable", status: .active) { p, ctx throws(ConfigError) in
            try ctx.requireNoArguments(after: 0); p.stats.enabled = true
        },
        Spec("stats uri", [d, f, b], usage: "stats uri <prefix>", status: .active) { p, ctx throws(ConfigError) in
            p.stats.uri = try ctx.argument(0, "<prefix>"); p.stats.enabled = true
        },
        Spec("stats refresh", [d, f, b], usage: "stats refresh <time>", status: .active) { p, ctx throws(ConfigError) in
            p.stats.refresh = try ctx.duration(0); p.stats.enabled = true
        },
        Spec("stats realm", [d, f, b], usage: "stats realm <realm>", status: .active) { p, ctx throws(ConfigError) in
            p.stats.realm = try ctx.argument(0, "<realm>"); p.stats.enabled = true
        },
        Spec("stats auth", [d, f, b], usage: "stats auth <user>:<password>", status: .active) { p, ctx throws(ConfigError) in
            let v = try ctx.argument(0, "<user>:<password>")
            guard v.contains(":") else { throw ConfigError("'stats auth' expects <user>:<password> (got '\(v)').") }
            p.stats.auth.append(v); p.stats.enabled = true
        },
        Spec("stats admin", [d, f, b], usage: "stats admin { if | unless } <condition>", status: .active) { p, ctx throws(ConfigError) in
            let (_, condition) = try KeywordContext.splitCondition(ctx.args[...])
            guard let condition else { throw ConfigError("'stats admin' requires either 'if' or 'unless' followed by a condition.") }
            p.stats.adminCondition = condition
            p.stats.adminLocation = ctx.location
        },
        Spec("stats hide-version", [d, f, b], usage: "stats hide-version", status: .active) { p, _ throws(ConfigError) in p.stats.hideVersion = true },
        Spec("stats show-legends", [d, f, b], usage: "stats show-legends", status: .active) { p, _ throws(ConfigError) in p.stats.showLegends = true },
        Spec("stats show-node", [d, f, b], usage: "stats show-node [<name>]", status: .active) { p, ctx throws(ConfigError) in p.stats.showNode = ctx.optionalArgument(0) ?? "" },
        Spec("stats show-desc", [d, f, b], usage: "stats show-desc [<description>]", status: .active) { p, ctx throws(ConfigError) in
            p.stats.description = ctx.args.joined(separator: " ")
        },
        Spec("stats scope", [d, f, b], usage: "stats scope { <name> | \".\" }", status: .active) { p, ctx throws(ConfigError) in
            p.stats.scope.append(try ctx.argument(0, "<name>")); p.stats.enabled = true
        },
        Spec("stats http-request", [d, f, b], usage: "stats http-request { allow | deny | auth [realm <realm>] } [ { if | unless } <condition> ]", status: .active) { p, ctx throws(ConfigError) in
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[...])
            let action: StatsPageConfig.AccessRule.Action
            switch (words.first, words.count) {
            case ("allow", 1): action = .allow
            case ("deny", 1): action = .deny
            case ("auth", 1): action = .auth(realm: nil)
            case ("auth", 3) where words[1] == "realm": action = .auth(realm: words[2])
            default: throw ConfigError("'stats http-request' expects 'allow', 'deny' or 'auth [realm <realm>]' (got '\(words.joined(separator: " "))').")
            }
            p.stats.accessRules.append(StatsPageConfig.AccessRule(action: action, condition: condition, location: ctx.location))
        },
        Spec("monitor-uri", [d, f], usage: "monitor-uri <uri>", status: .active) { p, ctx throws(ConfigError) in
            p.monitorURI = try ctx.argument(0, "<uri>")
        },
        Spec("monitor fail", f, usage: "monitor fail { if | unless } <condition>", status: .active) { p, ctx throws(ConfigError) in
            let (rest, condition) = try KeywordContext.splitCondition(ctx.args[...])
            guard let condition, rest.isEmpty else { throw ConfigError("'monitor fail' requires either 'if' or 'unless' followed by a condition.") }
            p.monitorFail.append(HTTPRuleConfig(action: "monitor-fail", arguments: [], condition: condition, location: ctx.location))
        },
        Spec("cookie", [d, b], usage: "cookie <name> [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] [httponly] [secure] [domain <d>] [maxidle <t>] [maxlife <t>] [dynamic] [attr <v>] (dynamic and attr are refused at start)", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<name>")
            p.cookie = CookieConfig(name: name, options: Array(ctx.args.dropFirst()))
        },
        Spec("http-reuse", [d, b], usage: "http-reuse { never | safe | aggressive | always } (aggressive runs as always)", status: .active) { p, ctx throws(ConfigError) in
            let v = try ctx.argument(0, "never|safe|aggressive|always")
            guard ["never", "safe", "aggressive", "always"].contains(v) else {
                throw ConfigError("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always' (got '\(v)').")
            }
            p.httpReuse = v
        },
        Spec("description", [f, b], usage: "description <text>") { p, ctx throws(ConfigError) in
            p.description = ctx.args.joined(separator: " ")
        },
        Spec("disabled", [d, f, b], usage: "disabled") { p, _ throws(ConfigError) in p.disabled = true },
        Spec("enabled", [d, f, b], usage: "enabled") { p, _ throws(ConfigError) in p.disabled = false },
        pending("id", [f, b], "<number>"),
        Spec("redirect", [f, b], usage: "redirect location|prefix|scheme <target> [code <n>] [options] [ { if | unless } <condition> ] (run after the proxy's http-request rules)", status: .active) { p, ctx throws(ConfigError) in
            let (words, condition) = try KeywordContext.splitCondition(ctx.args[...])
            _ = try HTTPRedirect(parsing: words)
            p.redirectRules.append(HTTPRuleConfig(action: "redirect", arguments: words, condition: condition, location: ctx.location))
        },
        pending("source", [d, b], "<address>[:<port>] [usesrc ...]"),
        pending("dispatch", b, "<address>:<port>"),
        pending("rate-limit sessions", [d, f], "<rate>"),
        Spec("persist", [d, b], usage: "persist rdp-cookie[(<name>)] (TCP mode)", status: .active) { p, ctx throws(ConfigError) in
            let what = try ctx.argument(0, "rdp-cookie")
            try ctx.requireNoArguments(after: 1)
            if what == "rdp-cookie" {
                p.persistRDPCookie = "msts"
            } else if what.hasPrefix("rdp-cookie("), what.hasSuffix(")") {
                let name = String(what.dropFirst(11).dropLast())
                p.persistRDPCookie = name.isEmpty ? "msts" : name
            } else {
                throw ConfigError("'persist' only supports 'rdp-cookie' (got '\(what)').")
            }
        },
        pending("force-persist", [f, b], "{ if | unless } <condition>"),
        pending("ignore-persist", [f, b], "{ if | unless } <condition>"),
        Spec("use-server", b, usage: "use-server <server> [ { if | unless } <condition> ]", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<server>")
            let (rest, condition) = try KeywordContext.splitCondition(ctx.args[1...])
            if let extra = rest.first { throw ConfigError("'use-server' cannot handle unexpected argument '\(extra)'.") }
            p.useServerRules.append(UseBackendRule(backend: name, condition: condition, location: ctx.location))
        },
        Spec("http-error", [d, f, b], usage: "http-error status <code> [content-type <type>] [ default-errorfiles | errorfile <file> | errorfiles <name> | file <file> | lf-file <file> | string <str> | lf-string <fmt> ] [ hdr <name> <fmt> ]*", status: .active) { p, ctx throws(ConfigError) in
            guard ctx.args.first == "status", ctx.args.count >= 2, let code = Int(ctx.args[1]), ErrorFileConfig.supportedStatuses.contains(code) else {
                throw ConfigError("'http-error' expects 'status <code>' with one of the codes Fulcrum answers itself.",
                                  hint: "supported codes: " + ErrorFileConfig.supportedStatuses.map(String.init).joined(separator: ", "))
            }
            var reply = HTTPReply(status: code)
            var args = RuleArguments(action: "http-error", args: Array(ctx.args.dropFirst(2)))
            while let word = args.optional() {
                switch word {
                case "errorfile":
                    let path = try args.next("a file after 'errorfile'")
                    guard let bytes = ctx.environment.readFile(path) else { throw ConfigError("'http-error': error opening file '\(path)'.") }
                    p.errorFiles[code] = ErrorFileConfig(status: code, path: path, contents: bytes, location: ctx.location)
                    return
                case "default-errorfiles":
                    p.errorFiles[code] = nil
                    return
                case "errorfiles":
                    p.errorFiles[code] = nil
                    p.errorFilesImports.append(ErrorFilesImport(section: try args.next("an http-errors section after 'errorfiles'"), codes: [code],
                                                                location: ctx.location, overrides: true))
                    return
                default:
                    guard try reply.read(word, &args, keyword: "http-error", readFile: ctx.environment.readFile) else {
                        throw ConfigError("'http-error': unexpected argument '\(word)'.",
                                          hint: "content-type, string, lf-string, file, lf-file, errorfile, errorfiles, default-errorfiles and hdr are")
                    }
                }
            }
            try reply.checkContentType("http-error")
            p.errorFiles[code] = ErrorFileConfig(reply: reply, location: ctx.location)
        },
        Spec("errorfiles", [d, f, b], usage: "errorfiles <name> [<code>...] (the http-errors section's files)", status: .active) { p, ctx throws(ConfigError) in
            let name = try ctx.argument(0, "<name>")
            var codes: [Int] = []
            for text in ctx.args.dropFirst() {
                guard let code = Int(text), ErrorFileConfig.supportedStatuses.contains(code) else {
                    throw ConfigError("'errorfiles': status code '\(text)' not handled.")
                }
                codes.append(code)
            }
            p.errorFilesImports.append(ErrorFilesImport(section: name, codes: codes, location: ctx.location))
        },
        pending("errorloc", [d, f, b], "<code> <url>", minArgs: 2), pending("errorloc302", [d, f, b], "<code> <url>", minArgs: 2),
        pending("errorloc303", [d, f, b], "<code> <url>", minArgs: 2),
        pending("compression algo", [d, f, b], "<algorithm>..."), pending("compression type", [d, f, b], "<mime type>..."),
        pending("compression offload", [d, f, b], "", minArgs: 0),
        pending("email-alert mailers", [d, f, b], "<mailersect>"), pending("email-alert from", [d, f, b], "<emailaddr>"),
        pending("email-alert to", [d, f, b], "<emailaddr>"), pending("email-alert level", [d, f, b], "<level>"),
        pending("server-template", b, "<prefix> <num | range> <fqdn>[:<port>] [params*]", minArgs: 3),
        pending("load-server-state-from-file", [d, b], "global|local|none"),
        pending("max-keep-alive-queue", [d, b], "<value>"),
        pending("http-send-name-header", [d, b], "[<header name>]", minArgs: 0),
        pending("retry-on", [d, b], "<failure type>..."),
        pending("external-check command", [d, b], "<command>"), pending("external-check path", [d, b], "<path>"),
        pending("bind-process", [d, f, b], "<process-set>"),
        pending("backlog", [d, f], "<conns>"),
        pending("clitcpka-cnt", [d, f], "<count>"), pending("clitcpka-idle", [d, f], "<timeout>"), pending("clitcpka-intvl", [d, f], "<timeout>"),
        pending("srvtcpka-cnt", [d, b], "<count>"), pending("srvtcpka-idle", [d, b], "<timeout>"), pending("srvtcpka-intvl", [d, b], "<timeout>"),
        pending("log-format-sd", [d, f], "<string>"), pending("error-log-format", [d, f], "<string>"),
        pending("dynamic-cookie-key", [d, b], "<string>"), pending("hash-balance-factor", [d, b], "<factor>", status: .active),
        pending("max-session-srv-conns", [d, f], "<nb>"), pending("email-alert myhostname", [d, f, b], "<hostname>"),
        pending("transparent", [d, b], "", minArgs: 0),
        Spec("stick-table", [f, b], usage: "stick-table type {ip|ipv6|integer|string [len N]|binary [len N]} size <size> [expire <time>] [nopurge] [store <data>,...]", status: .active) { p, ctx throws(ConfigError) in
            p.stickTable = try StickTableConfig.parse(Array(ctx.args), at: ctx.location)
        },
        stick("on"), stick("match"), stick("store-request"), stick("store-response"),
        notYet("filter", [f, b], "<name> [param*]"),
        notYet("filter-sequence", [f, b]),
        notYet("server-state-file-name", [d, b]),
    ] + ProxyOptionKeywords.specs)

    static func captureHeader(_ direction: CaptureHeader.Direction, _ ctx: KeywordContext) throws(ConfigError) -> CaptureHeader {
        let name = try ctx.argument(0, "<name>")
        guard ctx.optionalArgument(1) == "len", let lenText = ctx.optionalArgument(2) else {
            throw ConfigError("'capture \(direction.rawValue) header' expects <header> 'len' <len>.")
        }
        guard let length = Int(lenText), length > 0, length <= 65535 else {
            throw ConfigError("'capture \(direction.rawValue) header' : 'len' expects a positive length (got '\(lenText)').")
        }
        try ctx.requireNoArguments(after: 3)
        return CaptureHeader(direction: direction, name: name, length: length)
    }
}
