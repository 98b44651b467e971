/// The options of `server NAME ADDRESS [options]` and `default-server [options]`.
enum ServerLineParser {
    /// Options that take one value and are recorded for the features that will use them.
    static let valueOptions: Set<String> = [
        "id", "ca-file", "crt", "crl-file", "verifyhost", "alpn", "check-alpn", "check-sni", "sni", "ciphers", "ciphersuites",
        "ssl-min-ver", "ssl-max-ver", "init-addr", "resolve-prefer", "resolve-net", "resolve-opts", "source", "track", "redir",
        "pool-max-conn", "pool-purge-delay", "pool-low-conn", "max-reuse", "proto", "ws", "namespace", "agent-addr", "minconn",
        "tcp-ut", "log-proto", "set-proxy-v2-tlv-fmt", "curves", "npn", "usesrc", "shard", "hash-key", "check-proto",
        "proxy-v2-options", "socks4", "interface", "sigalgs", "client-sigalgs", "crt-list",
    ]
    static let flagOptions: Set<String> = [
        "no-check", "no-backup", "enabled", "no-send-proxy", "no-send-proxy-v2", "no-ssl", "check-ssl", "no-check-ssl",
        "check-send-proxy", "no-check-send-proxy", "non-stick", "stick", "tfo", "no-tfo", "no-tls-tickets", "tls-tickets",
        "force-tlsv12", "force-tlsv13", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "allow-0rtt",
        "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "no-agent-check", "no-verifyhost", "check-via-socks4", "ssl-reuse", "no-ssl-reuse",
        "no-send-proxy-v2-ssl", "no-send-proxy-v2-ssl-cn", "force-sslv3", "force-tlsv10", "force-tlsv11", "no-check-ssl",
    ]
    static var allNames: [String] {
        ["check", "inter", "fastinter", "downinter", "rise", "fall", "port", "addr", "weight", "backup", "maxconn", "maxqueue",
         "disabled", "slowstart", "cookie", "send-proxy", "send-proxy-v2", "ssl", "verify", "init-state", "agent-check", "agent-port",
         "agent-inter", "agent-send", "observe", "error-limit", "on-error", "on-marked-down", "on-marked-up", "resolvers"]
            + valueOptions.sorted() + flagOptions.sorted()
    }

    static func parseOptions(_ words: ArraySlice<String>, into options: inout ServerOptions, serverLabel: String) throws(ConfigError) {
        var i = words.startIndex
        func value(_ what: String) throws(ConfigError) -> String {
            guard i + 1 < words.endIndex else {
                throw ConfigError("\(serverLabel) : '\(words[i])' expects \(what) as argument.")
            }
            return words[i + 1]
        }
        func duration(_ what: String) throws(ConfigError) -> DurationValue {
            let v = try value("<time>")
            do throws(ConfigError) { return try DurationValue.parse(v, keyword: what) } catch {
                throw ConfigError("\(serverLabel) : \(error.message)", hint: error.hint)
            }
        }
        func integer(_ range: ClosedRange<Int>, _ name: String) throws(ConfigError) -> Int {
            let v = try value("<number>")
            guard let n = Int(v) else { throw ConfigError("\(serverLabel) : '\(name)' expects an integer, got '\(v)'.") }
            guard range.contains(n) else {
                throw ConfigError("\(serverLabel) : '\(name)' must be between \(range.lowerBound) and \(range.upperBound) (was \(n)).")
            }
            return n
        }
        while i < words.endIndex {
            let word = words[i]
            var consumed = 2
            switch word {
            case "check": options.check = true; consumed = 1
            case "inter":
                options.inter = try duration("inter")
                if options.inter.milliseconds == 0 { throw ConfigError("\(serverLabel) : 'inter' has to be > 0.") }
            case "fastinter": options.fastinter = try duration("fastinter")
            case "downinter": options.downinter = try duration("downinter")
            case "rise": options.rise = try integer(1...Int(Int32.max), "rise")
            case "fall": options.fall = try integer(1...Int(Int32.max), "fall")
            case "port": options.checkPort = try integer(1...65535, "port")
            case "addr":
                let a = try value("<address>")
                guard AddressSpec.isIPv4Literal(a) || AddressSpec.isIPv6Literal(a) || a.unicodeScalars.allSatisfy(AddressSpec.isHostnameScalar) else {
                    throw ConfigError("\(serverLabel) : invalid check address '\(a)'.")
                }
                options.checkAddress = a
            case "weight":
                let v = try value("<weight>")
                guard let n = Int(v), (0...256).contains(n) else {
                    throw ConfigError("\(serverLabel) : weight of server must be between 0 and 256 (got '\(v)').")
                }
                options.weight = n
            case "backup": options.backup = true; consumed = 1
            case "no-backup": options.backup = false; consumed = 1
            case "maxconn": options.maxconn = try integer(0...Int(Int32.max), "maxconn")
            case "maxqueue": options.maxqueue = try integer(0...Int(Int32.max), "maxqueue")
            case "disabled": options.disabled = true; consumed = 1
            case "enabled": options.disabled = false; consumed = 1
            case "slowstart": options.slowstart = try duration("slowstart")
            case "cookie": options.cookie = try value("<value>")
            case "send-proxy": options.sendProxy = true; consumed = 1
            case "send-proxy-v2": options.sendProxyV2 = true; consumed = 1
            case "ssl": options.ssl = true; consumed = 1
            case "no-ssl": options.ssl = false; consumed = 1
            case "no-check": options.check = false; consumed = 1
            case "verify":
                let v = try value("none|required")
                guard v == "none" || v == "required" else { throw ConfigError("\(serverLabel) : 'verify' only supports 'none' and 'required' (got '\(v)').") }
                options.verify = v
            case "sni": options.sni = try value("<expression>")
            case "init-state":
                let v = try value("<state>")
                guard ["fully-up", "up", "down", "fully-down"].contains(v) else {
                    throw ConfigError("\(serverLabel) : 'init-state' supports 'fully-up', 'up', 'down' and 'fully-down' (got '\(v)').")
                }
                options.initState = v
            case "agent-check": options.agentCheck = true; consumed = 1
            case "agent-port": options.agentPort = try integer(1...65535, "agent-port")
            case "agent-inter": options.agentInter = try duration("agent-inter")
            case "agent-send": options.agentSend = try value("<string>")
            case "observe":
                let v = try value("layer4|layer7")
                guard v == "layer4" || v == "layer7" || v == "none" else {
                    throw ConfigError("\(serverLabel) : 'observe' expects 'none', 'layer4' or 'layer7' (got '\(v)').")
                }
                options.observe = v
            case "error-limit": options.errorLimit = try integer(1...Int(Int32.max), "error-limit")
            case "on-error":
                let v = try value("<mode>")
                guard ["fastinter", "fail-check", "sudden-death", "mark-down"].contains(v) else {
                    throw ConfigError("\(serverLabel) : 'on-error' expects 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' (got '\(v)').")
                }
                options.onError = v
            case "on-marked-down":
                let v = try value("shutdown-sessions")
                guard v == "shutdown-sessions" else { throw ConfigError("\(serverLabel) : 'on-marked-down' expects 'shutdown-sessions' (got '\(v)').") }
                options.onMarkedDown = v
            case "on-marked-up":
                let v = try value("shutdown-backup-sessions")
                guard v == "shutdown-backup-sessions" else { throw ConfigError("\(serverLabel) : 'on-marked-up' expects 'shutdown-backup-sessions' (got '\(v)').") }
                options.onMarkedUp = v
            case "resolvers": options.resolvers = try value("<resolvers section>")
            default:
                if valueOptions.contains(word) {
                    options.others[word] = try value("<value>")
                } else if flagOptions.contains(word) {
                    options.others[word] = ""
                    consumed = 1
                } else {
                    throw ConfigError("\(serverLabel) : unknown keyword '\(word)'\(Suggestion.didYouMean(word, in: allNames)).")
                }
            }
            i += consumed
        }
    }
}
