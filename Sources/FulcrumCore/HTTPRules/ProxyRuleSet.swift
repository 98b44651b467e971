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
    }

    public let acls: [String: [ACL]]
    public let requestRules: [CompiledHTTPRule]
    public let responseRules: [CompiledHTTPRule]
    public let afterResponseRules: [CompiledHTTPRule]
    public let backendSwitches: [BackendSwitch]

    public var isEmpty: Bool { requestRules.isEmpty && responseRules.isEmpty && afterResponseRules.isEmpty && backendSwitches.isEmpty }

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
                    out.append(try CompiledHTTPRule(rule, acls: acls, files: files))
                } catch {
                    throw Failure(error: ConfigError("'\(rule.legacyKeyword ?? keyword) \(rule.action)': \(error.message)", hint: error.hint), location: rule.location)
                }
            }
            return out
        }
        requestRules = try compile(proxy.httpRequestRules, "http-request")
        responseRules = try compile(proxy.httpResponseRules, "http-response")
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
    }
}
