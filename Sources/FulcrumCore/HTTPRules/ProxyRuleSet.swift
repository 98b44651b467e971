import HAProxyConfig

/// One proxy's ACLs and rules compiled together: named ACLs resolved, conditions and
/// `%[...]` samples compiled, pattern and map files loaded through the configuration's
/// shared `PatternFiles`. Errors carry the line of the rule or ACL at fault.
public struct ProxyRuleSet: Sendable {
    public struct BackendSwitch: Sendable {
        /// A backend name, or a format computing one (`use_backend %[...]`).
        public let backend: String
        public let dynamic: LogFormat?
        public let samples: [String: SampleExpression]
        public let condition: ACLCondition?
        public let location: SourceLocation

        /// The condition or the computed name reads the TLS hello (`req.ssl_sni`...).
        public var readsTLSHello: Bool {
            (condition?.text ?? "").contains("ssl_") || (dynamic?.source ?? "").contains("ssl_")
        }
    }

    public let acls: [String: [ACL]]
    public let requestRules: [CompiledHTTPRule]
    public let responseRules: [CompiledHTTPRule]
    public let afterResponseRules: [CompiledHTTPRule]
    public let backendSwitches: [BackendSwitch]
    /// `tcp-request connection` (and `session`) rules, run when a connection is
    /// accepted; `tcp-request content` rules, run on each request head in HTTP mode.
    public let connectionRules: [CompiledHTTPRule]
    public let contentRules: [CompiledHTTPRule]
    /// `tcp-response content` rules, run on the server's first bytes (TCP mode).
    public let responseContentRules: [CompiledHTTPRule]
    /// The stick table rules without `table` use: this proxy's.
    public let tableName: String
    /// The stick tables the rules name, with the line naming each, for checking
    /// that they exist.
    public let tableReferences: [(String, SourceLocation)]
    /// `use-server` rules: a server name and a condition.
    public let serverSwitches: [BackendSwitch]
    /// A compiled `stick` rule.
    public struct StickRule: Sendable {
        public let matches: Bool
        public let stores: Bool
        /// `store-response`: the key is read from the response, once a server answered.
        public let response: Bool
        public let key: SampleExpression
        public let table: String
        public let condition: ACLCondition?
        public let location: SourceLocation
    }

    public let stickRules: [StickRule]
    /// The lengths of the capture slots the proxy's `http-request capture ... len`
    /// rules make, after its declared ones.
    public let captureLengths: [Int]
    /// `monitor-uri` and the `monitor fail` conditions.
    public let monitorURI: [UInt8]?
    public let monitorFail: [ACLCondition]
    /// `stats admin if ...` and the `stats http-request` rules, compiled.
    public let statsAdmin: ACLCondition?
    public let statsAccess: [(action: StatsPageConfig.AccessRule.Action, condition: ACLCondition?)]
    /// The proxy's `http-error` pages rendered per request, by status.
    public let errorReplies: [Int: CompiledHTTPRule]

    public struct Failure: Error, Sendable {
        public let error: ConfigError
        public let location: SourceLocation
    }

    public init(_ proxy: ProxyConfig, files: PatternFiles) throws(Failure) {
        var acls: [String: [ACL]] = [:]
        for acl in proxy.acls {
            do throws(ConfigError) {
                acls[acl.name, default: []].append(try ACL(criterion: acl.criterion, arguments: acl.arguments, files: files))
            } catch {
                throw Failure(error: ConfigError("error detected while parsing ACL '\(acl.name)' : \(error.message)", hint: error.hint), location: acl.location)
            }
        }
        self.acls = acls
        func compile(_ rules: [HTTPRuleConfig], _ keyword: String) throws(Failure) -> [CompiledHTTPRule] {
            var out: [CompiledHTTPRule] = []
            for rule in rules {
                do throws(ConfigError) {
                    out.append(try CompiledHTTPRule(rule, acls: acls, files: files, response: keyword != "http-request" && keyword.hasPrefix("http-")))
                } catch {
                    throw Failure(error: ConfigError("'\(rule.legacyKeyword ?? keyword) \(rule.action)': \(error.message)", hint: error.hint), location: rule.location)
                }
            }
            return out
        }
        var connection: [HTTPRuleConfig] = [], content: [HTTPRuleConfig] = []
        for rule in proxy.tcpRequestRules {
            let words = rule.action.split(separator: " ", maxSplits: 1).map(String.init)
            guard words.count == 2 else { continue }
            var stripped = rule
            stripped.action = words[1]
            if words[0] == "content" { content.append(stripped) } else { connection.append(stripped) }
        }
        connectionRules = try compile(connection, "tcp-request connection")
        contentRules = try compile(content, "tcp-request content")
        responseContentRules = try compile(proxy.tcpResponseRules, "tcp-response content")
        for rule in responseContentRules {
            switch rule.action {
            case .accept, .reject, .closeServer, .incrementGPC, .setGPT0, .setVariable, .unsetVariable: continue
            default: throw Failure(error: ConfigError("'tcp-response content': this action is not carried out by the data plane yet.", hint: "accept, reject, close, sc-inc-gpc0/1, sc-set-gpt0, set-var and unset-var are"), location: rule.location)
            }
        }
        for rule in connectionRules + contentRules {
            switch rule.action {
            case .accept, .reject, .track, .incrementGPC, .setGPT0, .setVariable, .unsetVariable: continue
            default: throw Failure(error: ConfigError("'tcp-request': this action is not carried out by the data plane yet.", hint: "accept, reject, track-sc0/1/2, sc-inc-gpc0/1, sc-set-gpt0, set-var and unset-var are"), location: rule.location)
            }
        }
        var request = try compile(proxy.httpRequestRules, "http-request") + compile(proxy.redirectRules, "redirect")
        // `capture ... len` rules make slots after the declared ones; `id` rules name one.
        let declared = proxy.captures.filter { $0.direction == .request }.count
        var lengths: [Int] = []
        for k in request.indices {
            guard case .capture(let expression, let length, -1) = request[k].action else { continue }
            request[k] = request[k].with(action: .capture(expression, length: length, slot: declared + lengths.count))
            lengths.append(length)
        }
        captureLengths = lengths
        requestRules = request
        responseRules = try compile(proxy.httpResponseRules, "http-response")
        // A backend's `id` rules name its frontends' slots, unknown here (as HAProxy).
        if proxy.kind.hasFrontendCapability {
            let responseSlots = proxy.captures.filter { $0.direction == .response }.count
            for (rules, slots, keyword) in [(requestRules, declared + lengths.count, "http-request"), (responseRules, responseSlots, "http-response")] {
                for rule in rules {
                    guard case .capture(_, -1, let id) = rule.action, id >= slots else { continue }
                    throw Failure(error: ConfigError("proxy '\(proxy.name)': unable to find capture id '\(id)' referenced by \(keyword) capture rule.",
                                                     hint: "declare it first: 'declare capture \(keyword == "http-request" ? "request" : "response") len <length>'"),
                                  location: rule.location)
                }
            }
        }
        afterResponseRules = try compile(proxy.httpAfterResponseRules, "http-after-response")
        var switches: [BackendSwitch] = []
        for rule in proxy.useBackendRules {
            do throws(ConfigError) {
                let dynamic = rule.isDynamic ? try LogFormat(parsing: rule.backend) : nil
                switches.append(BackendSwitch(
                    backend: rule.backend, dynamic: dynamic,
                    samples: try CompiledHTTPRule.samples(dynamic.map { [$0] } ?? [], files: files),
                    condition: try rule.condition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) },
                    location: rule.location))
            } catch {
                throw Failure(error: ConfigError("'use_backend \(rule.backend)': \(error.message)", hint: error.hint), location: rule.location)
            }
        }
        backendSwitches = switches
        var servers: [BackendSwitch] = []
        for rule in proxy.useServerRules {
            do throws(ConfigError) {
                servers.append(BackendSwitch(backend: rule.backend, dynamic: nil, samples: [:],
                                             condition: try rule.condition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) },
                                             location: rule.location))
            } catch {
                throw Failure(error: ConfigError("'use-server \(rule.backend)': \(error.message)", hint: error.hint), location: rule.location)
            }
        }
        serverSwitches = servers
        monitorURI = proxy.monitorURI.map { Array($0.utf8) }
        var fails: [ACLCondition] = []
        for rule in proxy.monitorFail {
            guard let condition = rule.condition else { continue }
            do throws(ConfigError) {
                fails.append(try ACLCondition(condition, acls: acls, files: files))
            } catch {
                throw Failure(error: ConfigError("'monitor fail': \(error.message)", hint: error.hint), location: rule.location)
            }
        }
        monitorFail = fails
        do throws(ConfigError) {
            statsAdmin = try proxy.stats.adminCondition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) }
        } catch {
            throw Failure(error: ConfigError("'stats admin': \(error.message)", hint: error.hint), location: proxy.stats.adminLocation ?? proxy.location)
        }
        var access: [(action: StatsPageConfig.AccessRule.Action, condition: ACLCondition?)] = []
        for rule in proxy.stats.accessRules {
            do throws(ConfigError) {
                access.append((rule.action, try rule.condition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) }))
            } catch {
                throw Failure(error: ConfigError("'stats http-request': \(error.message)", hint: error.hint), location: rule.location)
            }
        }
        statsAccess = access
        tableName = proxy.name
        var sticks: [StickRule] = []
        for rule in proxy.stickRules {
            do throws(ConfigError) {
                sticks.append(StickRule(matches: rule.kind == "on" || rule.kind == "match", stores: rule.kind == "on" || rule.kind == "store-request",
                                        response: rule.kind == "store-response",
                                        key: try SampleExpression(parsing: rule.pattern, files: files), table: rule.table ?? proxy.name,
                                        condition: try rule.condition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) },
                                        location: rule.location))
            } catch {
                throw Failure(error: ConfigError("'stick \(rule.kind)': \(error.message)", hint: error.hint), location: rule.location)
            }
        }
        stickRules = sticks
        var replies: [Int: CompiledHTTPRule] = [:]
        for (status, file) in proxy.errorFiles {
            guard let reply = file.reply else { continue }
            do throws(ConfigError) {
                replies[status] = try CompiledHTTPRule(reply: reply, files: files, location: file.location)
            } catch {
                throw Failure(error: ConfigError("'http-error status \(status)': \(error.message)", hint: error.hint), location: file.location)
            }
        }
        errorReplies = replies
        var references: [(String, SourceLocation)] = []
        for rule in connectionRules + contentRules + requestRules {
            if case .track(_, _, let table) = rule.action { references.append((table ?? proxy.name, rule.location)) }
        }
        references += sticks.map { ($0.table, $0.location) }
        tableReferences = references
    }
}
