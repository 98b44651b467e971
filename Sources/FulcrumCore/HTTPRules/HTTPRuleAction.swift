/// What one `http-request`/`http-response`/`http-after-response` rule does, compiled
/// from its configuration line once at start-up. Values are log-format strings rendered
/// per message. Its `if`/`unless` condition is compiled separately (`ACLCondition`).
public enum HTTPRuleAction: Sendable {
    case addHeader(name: String, value: LogFormat)
    case setHeader(name: String, value: LogFormat)
    case deleteHeader(name: String, match: MatchMethod)
    /// Every occurrence of the header whose value matches is given the replacement,
    /// in which `\1`...`\9` stand for the pattern's groups.
    case replaceHeader(name: String, pattern: String, replacement: LogFormat)
    /// The same, applied to each comma-separated value of the header.
    case replaceValue(name: String, pattern: String, replacement: LogFormat)
    case setPath(LogFormat)
    case setURI(LogFormat)
    case setQuery(LogFormat)
    case setMethod(LogFormat)
    case setStatus(Int, reason: String?)
    case setVariable(name: String, SampleExpression)
    case unsetVariable(name: String)
    /// Stops evaluating the rules of this list (the request goes on).
    case allow
    /// Answers with an error page (or the given body) and ends the transaction;
    /// `tarpit` first holds the connection for `timeout tarpit`.
    case deny(status: Int, contentType: String?, body: [UInt8]?, tarpit: Bool)
    case redirect(HTTPRedirect)
    /// `return` with its own status, content type, body and headers.
    case respond(HTTPReply)
    /// `return` with a whole HTTP message: the proxy's error page for the status
    /// (`default-errorfiles`), a file (`errorfile`), or an `http-errors` section's page
    /// (`errorfiles`), sent as it is.
    case respondPage(status: Int, source: ErrorPageSource)
    /// `tcp-request ... accept`: stops this rule list. `reject`: closes the connection
    /// without a word.
    case accept, reject
    /// `tcp-response content close`: the server connection is closed (what it sent so
    /// far still reaches the client).
    case closeServer
    /// `capture <expr> len <n>`: the value, cut at `n` bytes, goes to the log's `%hr`
    /// in capture slot `slot` (a new one, numbered after the `capture request header`
    /// and `declare capture request` slots). `capture <expr> id <n>` (length -1) fills
    /// the frontend's existing slot `n` (`%hs` for `http-response`), cut at its length.
    case capture(SampleExpression, length: Int, slot: Int)
    /// `add-acl(file) key`, `del-acl(file) key`, `set-map(file) key value`,
    /// `del-map(file) key`: change a loaded pattern or map file, as the runtime API does.
    case editPatterns(file: String, map: Bool, delete: Bool, key: LogFormat, value: LogFormat?)
    /// `wait-for-body time <t> [at-least <n>]`: the body is buffered before the rules
    /// run (Fulcrum waits before the first rule, not at this one; see docs/acl.md).
    case waitForBody
    /// `set-log-level`: accepted; the access log keeps its level (see docs/acl.md).
    case setLogLevel(String)
    /// `auth [realm R]`: 401 asking for Basic credentials.
    case auth(realm: String?)
    /// `track-scN <key> [table <t>]`: the stream tracks the key's entry in slot N.
    case track(slot: Int, key: SampleExpression, table: String?)
    case incrementGPC(slot: Int, which: Int)
    case setGPT0(slot: Int, value: Int64)
    /// `use-service <name>`: an applet answers instead of a server; `prometheus-exporter`
    /// is the one Fulcrum has.
    case useService(String)

    /// The actions that end rule evaluation with a response of Fulcrum's own.
    public var isFinal: Bool {
        switch self {
        case .deny, .redirect, .respond, .respondPage, .auth, .useService: return true
        default: return false
        }
    }

    /// Every log-format the action renders, for compiling their `%[...]` samples.
    public var formats: [LogFormat] {
        switch self {
        case .addHeader(_, let v), .setHeader(_, let v), .setPath(let v), .setURI(let v), .setQuery(let v), .setMethod(let v): return [v]
        case .replaceHeader(_, _, let v), .replaceValue(_, _, let v): return [v]
        case .editPatterns(_, _, _, let key, let value): return [key] + (value.map { [$0] } ?? [])
        case .redirect(let r): return [r.location]
        case .respond(let reply): return reply.formats
        default: return []
        }
    }

    /// Compiles one configured rule, or says why the data plane cannot carry it yet.
    /// `response`: an `http-response` rule, whose `deny` answers 502 by default.
    public static func compile(_ rule: HTTPRuleConfig, files: PatternFiles, response: Bool = false) throws(ConfigError) -> HTTPRuleAction {
        var parser = RuleArguments(action: rule.action, args: rule.arguments)
        switch RuleActions.baseName(rule.action) {
        case "add-header":
            let r = HTTPRuleAction.addHeader(name: try parser.next("<name> <format>"), value: try parser.format("<name> <format>"))
            try parser.end(); return r
        case "set-header":
            let r = HTTPRuleAction.setHeader(name: try parser.next("<name> <format>"), value: try parser.format("<name> <format>"))
            try parser.end(); return r
        case "del-header":
            let name = try parser.next("<name>")
            var match = MatchMethod.str
            if let m = parser.optional() {
                guard m == "-m", let text = parser.optional(), let method = MatchMethod(rawValue: text), [.str, .beg, .end, .sub, .reg].contains(method) else {
                    throw ConfigError("'del-header' expects '-m str|beg|end|sub|reg' after the name.")
                }
                if method == .reg { _ = try CompiledRegex(name, ignoreCase: true) }
                match = method
            }
            try parser.end()
            return .deleteHeader(name: name, match: match)
        case "replace-header", "replace-value":
            let what = "<name> <match-regex> <replace-fmt>"
            let name = try parser.next(what), pattern = try parser.next(what), replacement = try parser.format(what)
            _ = try CompiledRegex(pattern)
            try parser.end()
            return rule.action == "replace-header" ? .replaceHeader(name: name, pattern: pattern, replacement: replacement)
                                                   : .replaceValue(name: name, pattern: pattern, replacement: replacement)
        case "set-path": let r = HTTPRuleAction.setPath(try parser.format("<format>")); try parser.end(); return r
        case "set-uri": let r = HTTPRuleAction.setURI(try parser.format("<format>")); try parser.end(); return r
        case "set-query": let r = HTTPRuleAction.setQuery(try parser.format("<format>")); try parser.end(); return r
        case "set-method": let r = HTTPRuleAction.setMethod(try parser.format("<format>")); try parser.end(); return r
        case "set-status":
            let text = try parser.next("<code> [reason <str>]")
            guard let code = Int(text), (100...999).contains(code) else { throw ConfigError("'set-status' expects an HTTP status code between 100 and 999 (got '\(text)').") }
            var reason: String?
            if parser.optional() == "reason" { reason = try parser.next("a reason after 'reason'") }
            try parser.end()
            return .setStatus(code, reason: reason)
        case "set-var", "unset-var":
            guard let open = rule.action.firstIndex(of: "("), rule.action.hasSuffix(")") else {
                throw ConfigError("'\(rule.action)' expects a variable name in parentheses.", hint: "write '\(RuleActions.baseName(rule.action))(txn.name)'")
            }
            let name = try VariableName.parse(String(rule.action[rule.action.index(after: open)..<rule.action.index(before: rule.action.endIndex)]))
            if rule.action.hasPrefix("unset-var") { try parser.end(); return .unsetVariable(name: name) }
            let expression = try SampleExpression(parsing: try parser.next("<expr>"), files: files)
            try parser.end()
            return .setVariable(name: name, expression)
        case "allow":
            try parser.end()
            return .allow
        case "deny", "tarpit":
            let tarpit = rule.action == "tarpit"
            var status = tarpit ? 500 : response ? 502 : 403
            var contentType: String?
            var body: [UInt8]?
            while let word = parser.optional() {
                switch word {
                case "deny_status", "status":
                    let text = try parser.next("a status code after '\(word)'")
                    guard let code = Int(text), HTTPRedirect.errorReasons[code] != nil else {
                        throw ConfigError("'deny': status code '\(text)' not handled.", hint: "use one of " + HTTPRedirect.errorReasons.keys.sorted().map(String.init).joined(separator: ", "))
                    }
                    status = code
                case "content-type": contentType = try parser.next("a type after 'content-type'")
                case "string": body = Array(try parser.next("a string after 'string'").utf8)
                default: throw ConfigError("'deny': unexpected argument '\(word)'.", hint: "expects [deny_status <code>] [content-type <type> string <str>]")
                }
            }
            return .deny(status: status, contentType: contentType, body: body, tarpit: tarpit)
        case "redirect":
            return .redirect(try HTTPRedirect(parsing: rule.arguments))
        case "return":
            var reply = HTTPReply(status: 200)
            var page: ErrorPageSource?
            while let word = parser.optional() {
                switch word {
                case "status":
                    let text = try parser.next("a status code after 'status'")
                    guard let code = Int(text), (200...599).contains(code) else { throw ConfigError("'return': invalid status code '\(text)' (expects 200 to 599).") }
                    reply.status = code
                case "default-errorfiles": page = .proxy
                case "errorfile":
                    let path = try parser.next("a file after 'errorfile'")
                    guard let bytes = files.readFile(path) else { throw ConfigError("'return': error opening file '\(path)'.") }
                    page = .file(bytes)
                case "errorfiles": page = .section(try parser.next("an http-errors section after 'errorfiles'"))
                default:
                    guard try reply.read(word, &parser, keyword: "return", readFile: files.readFile) else {
                        throw ConfigError("'return': unexpected argument '\(word)'.",
                                          hint: "status, content-type, default-errorfiles, errorfile, errorfiles, file, lf-file, string, lf-string and hdr are")
                    }
                }
            }
            if let page {
                // A whole message: only the status counts (content-type and hdr are ignored, as HAProxy does).
                guard ErrorPageSource.statuses.contains(reply.status) else {
                    throw ConfigError("'return': status \(reply.status) cannot come from an error file.",
                                      hint: "use one of \(ErrorPageSource.statuses.sorted().map(String.init).joined(separator: ", "))")
                }
                return .respondPage(status: reply.status, source: page)
            }
            try reply.checkContentType("return")
            return .respond(reply)
        case "accept":
            try parser.end()
            return .accept
        case "add-acl", "del-acl", "set-map", "del-map":
            let base = RuleActions.baseName(rule.action)
            guard let open = rule.action.firstIndex(of: "("), rule.action.hasSuffix(")") else {
                throw ConfigError("'\(base)' expects the file in parentheses.", hint: "write '\(base)(/path/to/file) <key>'")
            }
            let file = String(rule.action[rule.action.index(after: open)..<rule.action.index(before: rule.action.endIndex)])
            let key = try parser.format("<key format>")
            let value = base == "set-map" ? try parser.format("<key format> <value format>") : nil
            try parser.end()
            return .editPatterns(file: file, map: base.hasSuffix("map"), delete: base.hasPrefix("del"), key: key, value: value)
        case "wait-for-body":
            guard parser.optional() == "time", let text = parser.optional() else {
                throw ConfigError("'wait-for-body' expects 'time <time> [at-least <bytes>]'.")
            }
            _ = try DurationValue.parse(text, keyword: "wait-for-body time")
            if let word = parser.optional() {
                guard word == "at-least", let n = parser.optional() else { throw ConfigError("'wait-for-body': unexpected argument '\(word)'.") }
                _ = try SizeValue.parse(n, keyword: "wait-for-body at-least")
            }
            try parser.end()
            return .waitForBody
        case "set-log-level":
            let level = try parser.next("a level")
            guard ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "silent"].contains(level) else {
                throw ConfigError("'set-log-level': unknown level '\(level)'.")
            }
            try parser.end()
            return .setLogLevel(level)
        case "capture":
            let expression = try SampleExpression(parsing: try parser.next("<sample> len <length> | id <n>"), files: files)
            let word = parser.optional()
            if response && word != "id" {
                throw ConfigError("'capture' expects 'id', found '\(word ?? "")'.", hint: "a response capture fills a slot declared with 'declare capture response len <n>'")
            }
            guard let word, word == "len" || word == "id", let text = parser.optional(), let n = Int(text) else {
                throw ConfigError("'capture' expects <sample> len <length> or <sample> id <slot>.")
            }
            try parser.end()
            if word == "id" { return .capture(expression, length: -1, slot: n) }
            guard n > 0 else { throw ConfigError("'capture' : len expects a positive length (got '\(text)').") }
            return .capture(expression, length: n, slot: -1)
        case "auth":
            var realm: String?
            if let word = parser.optional() {
                guard word == "realm" else { throw ConfigError("'auth': unexpected argument '\(word)'.", hint: "write 'auth [realm <realm>]'") }
                realm = try parser.next("a realm after 'realm'")
            }
            try parser.end()
            return .auth(realm: realm)
        case "reject":
            try parser.end()
            return .reject
        case "close":
            try parser.end()
            return .closeServer
        case "track-sc0", "track-sc1", "track-sc2":
            let slot = Int(String(rule.action.last!))!
            let key = try SampleExpression(parsing: try parser.next("a key expression"), files: files)
            var table: String?
            if let word = parser.optional() {
                guard word == "table" else { throw ConfigError("'\(rule.action)': unexpected argument '\(word)'.", hint: "write '\(rule.action) <key> [table <name>]'") }
                table = try parser.next("a table name after 'table'")
            }
            try parser.end()
            return .track(slot: slot, key: key, table: table)
        case "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0":
            let base = RuleActions.baseName(rule.action)
            guard let open = rule.action.firstIndex(of: "("), rule.action.hasSuffix(")"),
                  let slot = Int(rule.action[rule.action.index(after: open)..<rule.action.index(before: rule.action.endIndex)]), (0...2).contains(slot) else {
                throw ConfigError("'\(rule.action)' expects a tracking counter number in parentheses.", hint: "write '\(base)(0)'")
            }
            if base == "sc-set-gpt0" {
                let text = try parser.next("an integer value")
                guard let value = Int64(text) else { throw ConfigError("'\(rule.action)': '\(text)' is not an integer.") }
                try parser.end()
                return .setGPT0(slot: slot, value: value)
            }
            try parser.end()
            return .incrementGPC(slot: slot, which: base == "sc-inc-gpc0" ? 0 : 1)
        case "use-service":
            let name = try parser.next("<service-name>")
            guard name == "prometheus-exporter" else {
                throw ConfigError("'use-service' : unknown service '\(name)'.", hint: "Fulcrum has the 'prometheus-exporter' service")
            }
            try parser.end()
            return .useService(name)
        default:
            throw ConfigError("'\(rule.action)' rules are recognised but not carried out by the data plane yet.",
                              hint: "see the rule actions Fulcrum supports in docs/acl.md")
        }
    }
}

/// Walks a rule's arguments with its action's name for messages.
struct RuleArguments {
    let action: String
    var args: ArraySlice<String>

    init(action: String, args: [String]) {
        self.action = action
        self.args = args[...]
    }

    mutating func next(_ what: String) throws(ConfigError) -> String {
        guard let a = args.popFirst() else { throw ConfigError("'\(action)' expects \(what).") }
        return a
    }

    mutating func optional() -> String? { args.popFirst() }

    mutating func format(_ what: String) throws(ConfigError) -> LogFormat {
        try LogFormat(parsing: try next(what))
    }

    func end() throws(ConfigError) {
        if let extra = args.first { throw ConfigError("'\(action)': unexpected argument '\(extra)'.") }
    }
}

/// Where a `return` rule's whole HTTP message comes from.
public enum ErrorPageSource: Sendable {
    case proxy
    case file([UInt8])
    case section(String)

    /// The statuses HAProxy allows an error file for.
    public static let statuses: Set<Int> = [200, 400, 403, 404, 405, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504]
}
