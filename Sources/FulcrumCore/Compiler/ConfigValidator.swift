import HAProxyConfig

/// Checks that need the whole configuration: references between proxies, name clashes,
/// incompatible modes, missing timeouts, addresses to resolve. Each finding names the
/// line that made the reference, even where HAProxy names none.
public enum ConfigValidator {
    public static func validate(_ config: inout FulcrumConfiguration, diagnostics: inout DiagnosticList, environment: CompileEnvironment,
                                proxiesWithBindErrors: Set<SourceLocation> = []) {
        checkDuplicateNames(config, &diagnostics)
        checkRingTargets(config, &diagnostics)
        let files = PatternFiles(readFile: environment.readFile)
        for proxy in config.proxies {
            checkRules(proxy, files, &diagnostics)
            checkUserlists(proxy, config, &diagnostics)
            checkReturnSections(proxy, config, &diagnostics)
            checkReferences(proxy, config, &diagnostics, bindFailed: proxiesWithBindErrors.contains(proxy.location))
            checkServers(proxy, &diagnostics, environment)
            checkTimeouts(proxy, &diagnostics)
            checkUsage(proxy, &diagnostics)
        }
    }

    /// HAProxy 2.6's rule, which depends on the order: a new frontend clashes with an
    /// earlier frontend or listen of the same name, a new backend with an earlier backend
    /// or listen, a new listen with an earlier frontend or listen. A listen declared after
    /// a backend of the same name is accepted by HAProxy, so it is only a warning here.
    static func checkDuplicateNames(_ config: FulcrumConfiguration, _ diagnostics: inout DiagnosticList) {
        var seen: [String: [ProxyConfig]] = [:]
        for proxy in config.proxies {
            let clashing: Set<ProxyKind>
            switch proxy.kind {
            case .frontend: clashing = [.frontend, .listen]
            case .backend: clashing = [.backend, .listen]
            case .listen, .defaults: clashing = [.frontend, .listen]
            }
            if let previous = seen[proxy.name]?.first(where: { clashing.contains($0.kind) }) {
                diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)' has the same name as \(previous.kind.rawValue) '\(previous.name)' declared at \(previous.location).",
                                  at: proxy.location, hint: "rename one of them")
            } else if proxy.kind == .listen, let previous = seen[proxy.name]?.first {
                diagnostics.warning("listen '\(proxy.name)' has the same name as the \(previous.kind.rawValue) declared at \(previous.location); references to '\(proxy.name)' are ambiguous.",
                                    at: proxy.location, hint: "rename one of them")
            }
            seen[proxy.name, default: []].append(proxy)
        }
    }

    /// `log ring@<name>` names a `ring` section (or the built-in `buf0`). HAProxy 2.6
    /// only finds out when it starts; the line at fault is named here.
    static func checkRingTargets(_ config: FulcrumConfiguration, _ diagnostics: inout DiagnosticList) {
        let names = config.rings.map(\.name)
        var seen: Set<SourceLocation> = []
        for target in config.global.logTargets + (config.defaults + config.proxies).flatMap(\.logTargets) {
            guard case .ring(let name) = target.destination, name != "buf0", !names.contains(name), seen.insert(target.location).inserted else { continue }
            diagnostics.alert("log : no ring section named '\(name)'\(Suggestion.didYouMean(name, in: names)).", at: target.location,
                              hint: "declare it with a 'ring \(name)' section")
        }
    }

    /// ACLs, conditions, rule actions and their samples compile, or the line at fault
    /// says why.
    static func checkRules(_ proxy: ProxyConfig, _ files: PatternFiles, _ diagnostics: inout DiagnosticList) {
        guard proxy.kind != .defaults else { return }
        if proxy.mode == .http, proxy.kind != .frontend, let first = proxy.tcpResponseRules.first {
            diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)': 'tcp-response content' rules are carried out in TCP mode only by Fulcrum.",
                              at: first.location, hint: "use 'http-response' rules in an HTTP backend")
        }
        do throws(ProxyRuleSet.Failure) {
            _ = try ProxyRuleSet(proxy, files: files)
        } catch {
            diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)': \(error.error.message)", at: error.location, hint: error.error.hint)
        }
    }

    /// `return ... errorfiles <name>` names a declared `http-errors` section.
    static func checkReturnSections(_ proxy: ProxyConfig, _ config: FulcrumConfiguration, _ diagnostics: inout DiagnosticList) {
        for rule in proxy.httpRequestRules + proxy.httpResponseRules + proxy.httpAfterResponseRules where rule.action == "return" {
            guard let k = rule.arguments.firstIndex(of: "errorfiles"), k + 1 < rule.arguments.count else { continue }
            let name = rule.arguments[k + 1]
            if config.httpErrors[name] == nil {
                diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)': 'return': unknown http-errors section '\(name)'\(Suggestion.didYouMean(name, in: Array(config.httpErrors.keys))).",
                                  at: rule.location, hint: "declare it with an 'http-errors \(name)' section")
            }
        }
    }

    /// `http_auth(L)` and `http_auth_group(L)` name a declared userlist.
    static func checkUserlists(_ proxy: ProxyConfig, _ config: FulcrumConfiguration, _ diagnostics: inout DiagnosticList) {
        var uses: [(String, SourceLocation)] = proxy.acls.map { ([$0.criterion] + $0.arguments).joined(separator: " ") }.enumerated().map { ($0.element, proxy.acls[$0.offset].location) }
        for rule in proxy.httpRequestRules + proxy.httpResponseRules { uses.append(((rule.condition?.terms ?? []).joined(separator: " "), rule.location)) }
        for (text, location) in uses {
            var rest = Substring(text)
            while let at = rest.indices.first(where: { rest[$0...].hasPrefix("http_auth") }) {
                rest = rest[rest.index(at, offsetBy: 9)...]
                if rest.hasPrefix("_group") { rest = rest.dropFirst(6) }
                guard rest.hasPrefix("("), let close = rest.firstIndex(of: ")") else { continue }
                let name = String(rest[rest.index(after: rest.startIndex)..<close])
                if config.userlists[name] == nil {
                    diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)': no userlist named '\(name)'\(Suggestion.didYouMean(name, in: Array(config.userlists.keys))).",
                                      at: location, hint: "declare it with a 'userlist \(name)' section")
                }
            }
        }
    }

    static func checkReferences(_ proxy: ProxyConfig, _ config: FulcrumConfiguration, _ diagnostics: inout DiagnosticList, bindFailed: Bool) {
        guard proxy.kind.hasFrontendCapability else { return }
        let backendNames = config.backends.map(\.name)
        func check(_ name: String, at location: SourceLocation, what: String) {
            guard let backend = config.backend(named: name) else {
                diagnostics.alert("Proxy '\(proxy.name)': unable to find required \(what): '\(name)'\(Suggestion.didYouMean(name, in: backendNames)).",
                                  at: location)
                return
            }
            if proxy.mode == .http && backend.mode == .tcp {
                diagnostics.alert("http frontend '\(proxy.name)' (\(proxy.location)) tries to use incompatible tcp backend '\(backend.name)' (\(backend.location)) as its \(what == "default_backend" ? "default backend" : "backend") (see 'mode').",
                                  at: location, hint: "set 'mode http' in backend '\(backend.name)', or 'mode tcp' in frontend '\(proxy.name)'")
            }
        }
        if let def = proxy.defaultBackend {
            check(def.value, at: def.location, what: "default_backend")
        }
        for rule in proxy.useBackendRules where !rule.isDynamic {
            check(rule.backend, at: rule.location, what: "use_backend")
        }
        if proxy.kind == .frontend && proxy.binds.isEmpty && !bindFailed {
            diagnostics.alert("frontend '\(proxy.name)' has no 'bind' directive. Please declare it as a backend if this was intended.",
                              at: proxy.location, hint: "add 'bind ADDRESS:PORT'")
        }
    }

    static func checkServers(_ proxy: ProxyConfig, _ diagnostics: inout DiagnosticList, _ environment: CompileEnvironment) {
        var seen: [String: SourceLocation] = [:]
        for server in proxy.servers {
            if let previous = seen[server.name] {
                diagnostics.alert("'server \(proxy.name)/\(server.name)' : this server name is already used at \(previous).",
                                  at: server.location, hint: "server names must be unique within a backend")
            } else {
                seen[server.name] = server.location
            }
            let initAddr = server.options.others["init-addr"]?.split(separator: ",").map(String.init) ?? []
            if server.address.needsResolution, !initAddr.contains("none"), case .inet(let host, _) = server.address.kind, !environment.resolves(host) {
                diagnostics.alert("'server \(proxy.name)/\(server.name)' : could not resolve address '\(host)'.", at: server.location,
                                  hint: "check the name, or add 'init-addr none' to start without it (not yet supported)")
            }
            if server.address.ports == nil && server.address.portOffset == nil, server.options.check, server.options.checkPort == nil {
                if case .inet = server.address.kind {
                    diagnostics.warning("'server \(proxy.name)/\(server.name)' has no port and no 'port' for its checks; checks will connect to the port the client used.",
                                        at: server.location)
                }
            }
        }
    }

    static func checkTimeouts(_ proxy: ProxyConfig, _ diagnostics: inout DiagnosticList) {
        var missing: [String] = []
        if proxy.kind.hasFrontendCapability && proxy.timeouts.client == nil { missing.append("client") }
        if proxy.kind.hasBackendCapability {
            if proxy.timeouts.connect == nil { missing.append("connect") }
            if proxy.timeouts.server == nil { missing.append("server") }
        }
        guard !missing.isEmpty else { return }
        diagnostics.warning("missing timeouts for \(proxy.kind.rawValue) '\(proxy.name)'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                            at: proxy.location, hint: "missing here: " + missing.map { "timeout \($0)" }.joined(separator: ", "))
    }

    static func checkUsage(_ proxy: ProxyConfig, _ diagnostics: inout DiagnosticList) {
        if proxy.mode == .tcp && proxy.kind.hasFrontendCapability {
            if proxy.options.httpLog {
                diagnostics.warning("'option httplog' not usable with \(proxy.kind.rawValue) '\(proxy.name)' (needs 'mode http'). Falling back to 'option tcplog'.",
                                    at: proxy.modeLocation ?? proxy.location)
            }
            // HAProxy 2.6 refuses them: in TCP they would never have a value.
            if let format = proxy.logFormat, let parsed = try? LogFormat(parsing: format.value) {
                for case .variable(let variable, _) in parsed.nodes where variable.needsHTTP {
                    diagnostics.alert("\(proxy.kind.rawValue) '\(proxy.name)': failed to parse log-format : format variable '\(variable.rawValue)' is reserved for HTTP mode.",
                                      at: format.location, hint: "add 'mode http' to the section, or remove '%\(variable.rawValue)'")
                    break
                }
            }
            if let rule = proxy.httpRequestRules.first {
                diagnostics.warning("'http-request' rules ignored for \(proxy.kind.rawValue) '\(proxy.name)' as they require HTTP mode.", at: rule.location,
                                    hint: "add 'mode http' to the section")
            }
        }
        if proxy.uniqueIDHeader != nil && proxy.uniqueIDFormat == nil && proxy.kind.hasFrontendCapability {
            diagnostics.warning("'unique-id-header' is set in \(proxy.kind.rawValue) '\(proxy.name)' without 'unique-id-format'; no header will be added.",
                                at: proxy.location)
        }
    }
}
