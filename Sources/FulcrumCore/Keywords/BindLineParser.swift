/// `bind ADDRESS[,ADDRESS...] [options]`.
enum BindLineParser {
    static let valueOptions: Set<String> = [
        "id", "nice", "crt-list", "ca-file", "crl-file", "verify", "ciphers", "ciphersuites", "ssl-min-ver", "ssl-max-ver",
        "curves", "ecdhe", "npn", "mss", "namespace", "thread", "shards", "proto", "tcp-ut", "uid", "gid", "level",
        "severity-output", "ca-sign-file", "ca-sign-pass", "sigalgs", "client-sigalgs", "ca-verify-file", "label", "ocsp-update",
        "accept-netscaler-cip", "tls-ticket-keys", "crt-ignore-err", "ca-ignore-err", "expose-fd",
    ]
    static let flagOptions: Set<String> = [
        "defer-accept", "tfo", "strict-sni", "allow-0rtt", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13",
        "force-tlsv12", "force-tlsv13", "no-tls-tickets", "prefer-client-ciphers", "generate-certificates", "no-ca-names",
        "quic-force-retry", "ssl", "force-sslv3", "force-tlsv10", "force-tlsv11",
    ]
    static var allNames: [String] {
        ["name", "crt", "alpn", "accept-proxy", "transparent", "freebind", "v4v6", "v6only", "maxconn", "backlog", "interface",
         "mode", "user", "group", "process"] + valueOptions.sorted() + flagOptions.sorted()
    }

    static func parse(_ ctx: inout KeywordContext) throws(ConfigError) -> BindConfig {
        guard let list = ctx.args.first, !list.isEmpty else {
            throw ConfigError("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.")
        }
        var addresses: [AddressSpec] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            addresses.append(try AddressSpec.parse(String(part), role: .bind))
        }
        var options = BindOptions()
        let label = "'bind \(list)'"
        var i = 1
        let args = ctx.args
        func value() throws(ConfigError) -> String {
            guard i + 1 < args.count else { throw ConfigError("\(label) : missing value for option '\(args[i])'.") }
            return args[i + 1]
        }
        while i < args.count {
            let word = args[i]
            var consumed = 2
            switch word {
            case "name": options.name = try value()
            case "ssl": options.ssl = true; consumed = 1
            case "crt": options.certificates.append(try value())
            case "alpn": options.alpn = try value()
            case "accept-proxy": options.acceptProxy = true; consumed = 1
            case "transparent": options.transparent = true; consumed = 1
            case "freebind": options.freebind = true; consumed = 1
            case "v4v6": options.v4v6 = true; consumed = 1
            case "v6only": options.v6only = true; consumed = 1
            case "maxconn":
                let v = try value()
                guard let n = Int(v), n > 0 else { throw ConfigError("\(label) : 'maxconn' expects a positive integer (got '\(v)').") }
                options.maxconn = n
            case "backlog":
                let v = try value()
                guard let n = Int(v), n > 0 else { throw ConfigError("\(label) : 'backlog' expects a positive integer (got '\(v)').") }
                options.backlog = n
            case "interface": options.interface = try value()
            case "mode":
                let m = try value()
                guard !m.isEmpty, m.allSatisfy({ ("0"..."7").contains($0) }) else { throw ConfigError("\(label) : 'mode' expects an octal mode (got '\(m)').") }
                options.unixMode = m
            case "user": options.unixUser = try value()
            case "group": options.unixGroup = try value()
            case "process":
                let v = try value()
                ctx.warn("\(label) : 'process \(v)' is a legacy option (processes were removed in HAProxy 2.5); Fulcrum ignores it.",
                         hint: "remove 'process \(v)'; every thread serves every listener")
            default:
                if valueOptions.contains(word) {
                    options.others[word] = try value()
                } else if flagOptions.contains(word) {
                    options.others[word] = ""; consumed = 1
                } else {
                    throw ConfigError("\(label) in section '\(ctx.sectionDescription)': unknown keyword '\(word)'\(Suggestion.didYouMean(word, in: allNames)).")
                }
            }
            i += consumed
        }
        return BindConfig(addresses: addresses, options: options, location: ctx.location)
    }
}
