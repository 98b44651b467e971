/// The legacy keywords Fulcrum still runs, with their rewrites into modern syntax.
public enum LegacyKeywords {
    public static let all: [LegacyKeyword] = [
        LegacyKeyword("nbproc", .global, removedIn: "2.5", modern: "nbthread <n>") { args throws(ConfigError) in
            guard args.count == 1, let n = Int(args[0]), n >= 1 else { throw ConfigError("'nbproc' expects a positive number of processes.") }
            return [["nbthread", String(min(n, 64))]]
        },
        LegacyKeyword("reqadd", .proxy, removedIn: "2.1", modern: "http-request add-header") { args throws(ConfigError) in
            try addHeader("http-request", "reqadd", args)
        },
        LegacyKeyword("rspadd", .proxy, removedIn: "2.1", modern: "http-response add-header") { args throws(ConfigError) in
            try addHeader("http-response", "rspadd", args)
        },
        LegacyKeyword("reqdel", .proxy, removedIn: "2.1", modern: "http-request del-header") { args throws(ConfigError) in
            try delHeader("http-request", "reqdel", args, caseInsensitive: false)
        },
        LegacyKeyword("reqidel", .proxy, removedIn: "2.1", modern: "http-request del-header") { args throws(ConfigError) in
            try delHeader("http-request", "reqidel", args, caseInsensitive: true)
        },
        LegacyKeyword("rspdel", .proxy, removedIn: "2.1", modern: "http-response del-header") { args throws(ConfigError) in
            try delHeader("http-response", "rspdel", args, caseInsensitive: false)
        },
        LegacyKeyword("rspidel", .proxy, removedIn: "2.1", modern: "http-response del-header") { args throws(ConfigError) in
            try delHeader("http-response", "rspidel", args, caseInsensitive: true)
        },
        LegacyKeyword("reqrep", .proxy, removedIn: "2.1", modern: "http-request replace-header") { args throws(ConfigError) in
            try replaceHeader("http-request", "reqrep", args, caseInsensitive: false)
        },
        LegacyKeyword("reqirep", .proxy, removedIn: "2.1", modern: "http-request replace-header") { args throws(ConfigError) in
            try replaceHeader("http-request", "reqirep", args, caseInsensitive: true)
        },
        LegacyKeyword("rsprep", .proxy, removedIn: "2.1", modern: "http-response replace-header") { args throws(ConfigError) in
            try replaceHeader("http-response", "rsprep", args, caseInsensitive: false)
        },
        LegacyKeyword("rspirep", .proxy, removedIn: "2.1", modern: "http-response replace-header") { args throws(ConfigError) in
            try replaceHeader("http-response", "rspirep", args, caseInsensitive: true)
        },
        LegacyKeyword("block", .proxy, removedIn: "2.1", modern: "http-request deny") { args throws(ConfigError) in
            guard let first = args.first, first == "if" || first == "unless", args.count > 1 else {
                throw ConfigError("'block' expects 'if' or 'unless' followed by a condition.")
            }
            return [["http-request", "deny"] + args]
        },
        LegacyKeyword("redispatch", .proxy, removedIn: "2.1", modern: "option redispatch") { args throws(ConfigError) in
            guard args.isEmpty else { throw ConfigError("'redispatch' takes no argument.") }
            return [["option", "redispatch"]]
        },
        LegacyKeyword("clitimeout", .proxy, removedIn: "2.1", modern: "timeout client") { args throws(ConfigError) in
            [["timeout", "client"] + args]
        },
        LegacyKeyword("srvtimeout", .proxy, removedIn: "2.1", modern: "timeout server") { args throws(ConfigError) in
            [["timeout", "server"] + args]
        },
        LegacyKeyword("contimeout", .proxy, removedIn: "2.1", modern: "timeout connect") { args throws(ConfigError) in
            [["timeout", "connect"] + args]
        },
        LegacyKeyword("option forceclose", .proxy, removedIn: "2.0", modern: "option httpclose") { args throws(ConfigError) in
            [["option", "httpclose"]]
        },
        LegacyKeyword("option http-tunnel", .proxy, removedIn: "2.1", modern: "(nothing: every request is now processed)") { _ throws(ConfigError) in
            []
        },
        LegacyKeyword("option http-use-htx", .proxy, removedIn: "2.1", modern: "(nothing: always on)") { _ throws(ConfigError) in
            []
        },
        LegacyKeyword("option independant-streams", .proxy, removedIn: "1.5", modern: "option independent-streams") { _ throws(ConfigError) in
            [["option", "independent-streams"]]
        },
        LegacyKeyword("bind-process", .proxy, removedIn: "2.5", modern: "(nothing: every thread serves every listener)") { _ throws(ConfigError) in
            []
        },
        LegacyKeyword("stats bind-process", .global, removedIn: "2.5", modern: "(nothing: every thread serves the stats socket)") { _ throws(ConfigError) in
            []
        },
        LegacyKeyword("tune.chksize", .global, removedIn: "2.2", modern: "(nothing: checks use tune.bufsize)") { _ throws(ConfigError) in
            []
        },
    ]

    /// Legacy forms with no faithful automatic translation: refused with the modern way to write them.
    public static let untranslatable: [String: String] = [
        "reqallow": "http-request allow if { req.hdr(NAME) -m reg REGEX }",
        "reqiallow": "http-request allow if { req.hdr(NAME) -m reg -i REGEX }",
        "reqdeny": "http-request deny if { req.hdr(NAME) -m reg REGEX }",
        "reqideny": "http-request deny if { req.hdr(NAME) -m reg -i REGEX }",
        "reqpass": "(nothing: stop matching with the next http-request rule)",
        "reqipass": "(nothing: stop matching with the next http-request rule)",
        "reqtarpit": "http-request tarpit if { req.hdr(NAME) -m reg REGEX }",
        "reqitarpit": "http-request tarpit if { req.hdr(NAME) -m reg -i REGEX }",
        "rspdeny": "http-response deny if { res.hdr(NAME) -m reg REGEX }",
        "rspideny": "http-response deny if { res.hdr(NAME) -m reg -i REGEX }",
        "reqsetbe": "use_backend NAME if { req.hdr(NAME) -m reg REGEX }",
        "reqisetbe": "use_backend NAME if { req.hdr(NAME) -m reg -i REGEX }",
        "monitor-net": "http-request return status 200 if { src NETWORK } (or tcp-request connection accept)",
        "appsession": "cookie NAME insert, or a stick-table on the cookie",
    ]

    public static func find(_ words: [String], scope: LegacyKeyword.Scope) -> (LegacyKeyword, Int)? {
        for count in [2, 1] where words.count >= count {
            let key = words.prefix(count).joined(separator: " ")
            if let k = all.first(where: { $0.name == key && $0.scope == scope }) { return (k, count) }
        }
        return nil
    }

    /// `reqadd "Name: value"` (the colon and the spaces after it separate name and value).
    static func addHeader(_ rule: String, _ keyword: String, _ args: [String]) throws(ConfigError) -> [[String]] {
        guard let line = args.first, let colon = line.firstIndex(of: ":") else {
            throw ConfigError("'\(keyword)' expects a header line 'Name: value'.")
        }
        let name = String(line[..<colon])
        guard HTTPToken.isValidHeaderName(name) else { throw ConfigError("'\(keyword)': invalid header name '\(name)'.") }
        // A modern header value is a log-format string: a literal '%' must be doubled.
        let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }).replacingPercent()
        let rest = Array(args.dropFirst())
        if let extra = rest.first, extra != "if", extra != "unless" {
            throw ConfigError("'\(keyword)' cannot handle unexpected argument '\(extra)'.", hint: "escape spaces in the header line: Name:\\ value")
        }
        return [[rule, "add-header", name, value] + rest]
    }

    /// `reqdel ^Name:` (optionally followed by `.*`) → delete that header.
    static func delHeader(_ rule: String, _ keyword: String, _ args: [String], caseInsensitive: Bool) throws(ConfigError) -> [[String]] {
        guard let regex = args.first else { throw ConfigError("'\(keyword)' expects a regular expression.") }
        guard let name = headerName(inPattern: regex), regexTailMatchesAnything(regex, after: name) else {
            throw ConfigError("'\(keyword) \(regex)' cannot be translated automatically: it does not delete one named header.",
                              hint: "write '\(rule) del-header NAME' for each header it removes")
        }
        return [[rule, "del-header", name] + args.dropFirst()]
    }

    /// `reqrep ^Name:\ (.*) Name:\ new\1` → `replace-header Name (.*) new\1`.
    static func replaceHeader(_ rule: String, _ keyword: String, _ args: [String], caseInsensitive: Bool) throws(ConfigError) -> [[String]] {
        guard args.count >= 2 else { throw ConfigError("'\(keyword)' expects <search> and <replace> arguments.") }
        let search = args[0], replace = args[1]
        guard let name = headerName(inPattern: search),
              let replaceName = replace.firstIndex(of: ":").map({ String(replace[..<$0]) }),
              replaceName.lowercased() == name.lowercased() else {
            throw ConfigError("'\(keyword) \(search) \(replace)' cannot be translated automatically: it rewrites the request line or renames a header.",
                              hint: "write '\(rule) replace-header', 'replace-uri' or 'replace-path' by hand")
        }
        var valuePattern = String(search.dropFirst(name.count + 2))
        // The legacy regex matched the whole header line; the modern one matches the value,
        // which carries no leading white space: drop the pattern's own.
        valuePattern = String(valuePattern.drop { $0 == " " })
        for ws in ["\\s*", "\\s+", " *", " +", "[ \\t]*", "[ \\t]+", "[ \t]*", "[ \t]+"] where valuePattern.hasPrefix(ws) {
            valuePattern.removeFirst(ws.count)
            break
        }
        let replacement = String(replace[replace.index(after: replace.firstIndex(of: ":")!)...].drop { $0 == " " }).replacingPercent()
        if valuePattern.isEmpty { valuePattern = "(.*)" }
        // Keep the legacy anchor: the old rule matched from the start of the header.
        valuePattern = "^" + valuePattern
        if caseInsensitive { valuePattern = "(?i)" + valuePattern }
        return [[rule, "replace-header", name, valuePattern, replacement] + args.dropFirst(2)]
    }

    /// The header name of a pattern of the form `^Name:...`.
    static func headerName(inPattern pattern: String) -> String? {
        guard pattern.hasPrefix("^"), let colon = pattern.firstIndex(of: ":") else { return nil }
        let name = String(pattern[pattern.index(after: pattern.startIndex)..<colon])
        let regexMeta: Set<Character> = ["*", ".", "^", "$", "|", "+", "?", "(", ")", "[", "]", "{", "}", "\\"]
        return HTTPToken.isValidHeaderName(name) && !name.contains(where: regexMeta.contains) ? name : nil
    }

    static func regexTailMatchesAnything(_ pattern: String, after name: String) -> Bool {
        let tail = pattern.dropFirst(name.count + 2)
        return tail.isEmpty || tail == ".*" || tail == " .*" || tail == "\\ .*"
    }
}

extension String {
    /// `%` starts a log-format variable in modern header values; a literal one is `%%`.
    func replacingPercent() -> String {
        var out = ""
        for c in self { out += c == "%" ? "%%" : String(c) }
        return out
    }
}
