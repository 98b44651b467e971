import HAProxyConfig

/// Builds the typed model from sections: looks each line up in the keyword tables,
/// runs legacy keywords as their modern equivalents, and reports every problem with
/// its `file:line`. A section with errors is still compiled as far as possible, so
/// that one run reports as many problems as it can.
public struct ConfigCompiler {
    public let environment: CompileEnvironment
    public private(set) var diagnostics = DiagnosticList()
    /// Legacy lines and the modern lines that replaced them, for `--print-modern-config`.
    public private(set) var rewrites: [SourceLocation: [[String]]] = [:]
    /// Proxies with a rejected `bind` line: "no bind" would only repeat that alert.
    public private(set) var proxiesWithBindErrors: Set<SourceLocation> = []

    public init(environment: CompileEnvironment) {
        self.environment = environment
    }

    public static func compile(_ document: ConfigDocument, environment: CompileEnvironment) -> (FulcrumConfiguration, DiagnosticList, [SourceLocation: [[String]]]) {
        var compiler = ConfigCompiler(environment: environment)
        var config = compiler.compile(document)
        ConfigValidator.validate(&config, diagnostics: &compiler.diagnostics, environment: environment,
                                 proxiesWithBindErrors: compiler.proxiesWithBindErrors)
        return (config, compiler.diagnostics, compiler.rewrites)
    }

    public mutating func compile(_ document: ConfigDocument) -> FulcrumConfiguration {
        var config = FulcrumConfiguration()
        config.files = document.files
        var lastDefaults: ProxyConfig? = nil
        var namedDefaults: [String: ProxyConfig] = [:]
        var anonymousCount = 0

        for section in document.sections {
            switch section.kind {
            case .global:
                for line in section.lines { compileGlobalLine(line, into: &config.global) }
            case .defaults, .frontend, .backend, .listen:
                let kind = ProxyKind(rawValue: section.kind.rawValue)!
                var base: ProxyConfig? = lastDefaults
                if let from = section.fromDefaults {
                    if let named = namedDefaults[from] {
                        base = named
                    } else {
                        diagnostics.alert("\(section.kind.rawValue) '\(section.displayName)': unable to find defaults section '\(from)' (it must be declared before).",
                                          at: section.location)
                        base = nil
                    }
                }
                let name: String
                if let given = section.name {
                    name = given
                } else {
                    anonymousCount += 1
                    name = "<unnamed defaults \(anonymousCount)>"
                }
                var proxy: ProxyConfig
                if kind == .defaults {
                    // A defaults section starts afresh unless it says `from`.
                    proxy = section.fromDefaults != nil && base != nil ? base!.inherited(as: .defaults, name: name, location: section.location)
                                                                      : ProxyConfig(kind: .defaults, name: name, location: section.location)
                } else {
                    proxy = base?.inherited(as: kind, name: name, location: section.location) ?? ProxyConfig(kind: kind, name: name, location: section.location)
                    if kind == .backend { proxy.defaultBackend = nil }
                }
                for line in section.lines { compileProxyLine(line, into: &proxy) }
                if kind == .defaults {
                    lastDefaults = proxy
                    if let given = section.name {
                        if namedDefaults[given] != nil {
                            diagnostics.warning("defaults section '\(given)' has the same name as an earlier one; later references use this one.", at: section.location)
                        }
                        namedDefaults[given] = proxy
                    }
                    config.defaults.append(proxy)
                } else {
                    config.proxies.append(proxy)
                }
            case .userlist:
                var list = UserlistConfig(name: section.name ?? "", location: section.location)
                for line in section.lines {
                    do throws(ConfigError) {
                        try list.add(line.words)
                    } catch {
                        diagnostics.alert(error.message, at: line.location, hint: error.hint)
                    }
                }
                if config.userlists[list.name] != nil {
                    diagnostics.alert("userlist '\(list.name)' is declared twice.", at: section.location)
                }
                config.userlists[list.name] = list
            case .ring:
                config.rings.append(compileRing(section, existing: config.rings))
            case .httpErrors:
                var files: [Int: ErrorFileConfig] = [:]
                for line in section.lines {
                    guard line.words.first == "errorfile", line.words.count == 3, let code = Int(line.words[1]),
                          ErrorFileConfig.supportedStatuses.contains(code) else {
                        diagnostics.alert("an http-errors section holds 'errorfile <code> <file>' lines, with one of the codes Fulcrum answers itself.", at: line.location)
                        continue
                    }
                    guard let bytes = environment.readFile(line.words[2]) else {
                        diagnostics.alert("errorfile : error opening file '\(line.words[2])'.", at: line.location)
                        continue
                    }
                    files[code] = ErrorFileConfig(status: code, path: line.words[2], contents: bytes, location: line.location)
                }
                config.httpErrors[section.name ?? ""] = files
            default:
                // Refused by the reader already; its lines are not interpreted.
                break
            }
        }
        // `errorfiles NAME` may name a section declared later: resolved once all are
        // read. A proxy's own `errorfile`/`http-error` for a code is kept over an import.
        for k in config.proxies.indices {
            for imported in config.proxies[k].errorFilesImports {
                guard let files = config.httpErrors[imported.section] else {
                    diagnostics.alert("errorfiles : unable to find http-errors section '\(imported.section)'.", at: imported.location)
                    continue
                }
                for (code, file) in files where imported.codes.isEmpty || imported.codes.contains(code) {
                    if imported.overrides || config.proxies[k].errorFiles[code] == nil { config.proxies[k].errorFiles[code] = file }
                }
            }
        }
        let targets = config.global.logTargets + (config.defaults + config.proxies).flatMap(\.logTargets)
        config.global.logLineLimit = targets.filter { $0.destination != .global }.map { $0.length ?? 1024 }.max() ?? 1024
        return config
    }

    // MARK: - rings

    mutating func compileRing(_ section: ConfigSection, existing: [RingConfig]) -> RingConfig {
        var ring = RingConfig(name: section.name ?? "", location: section.location)
        if existing.contains(where: { $0.name == ring.name }) || ring.name == "buf0" {
            diagnostics.alert("sink named '\(ring.name)' already exists.", at: section.location,
                              hint: ring.name == "buf0" ? "'buf0' is the built-in ring; give this one another name" : "rename one of the ring sections")
        }
        for line in section.lines {
            guard let spec = RingKeywords.table.lookup(line.words[...]) else {
                let suggestion = Suggestion.didYouMean(line.keyword, in: Array(RingKeywords.table.firstWords))
                diagnostics.alert("unknown statement '\(line.keyword)'\(suggestion.isEmpty ? "." : suggestion)", at: line.location)
                continue
            }
            var ctx = KeywordContext(line: line, keywordWordCount: spec.wordCount, negated: false, sectionDescription: "ring", environment: environment)
            do throws(ConfigError) {
                try spec.apply(&ring, &ctx)
            } catch {
                diagnostics.append(Diagnostic(error.severity, error.message, at: line.location, hint: error.hint))
            }
            ctx.warnings.forEach { diagnostics.append($0) }
        }
        if ring.maxLength > ring.size {
            diagnostics.warning("ring '\(ring.name)' event max length '\(ring.maxLength)' exceeds size, forced to size '\(ring.size)'.",
                                at: ring.maxLengthLocation ?? section.location)
            ring.maxLength = ring.size
        }
        return ring
    }

    // MARK: - global

    mutating func compileGlobalLine(_ line: ConfigLine, into global: inout GlobalSettings) {
        if let (legacy, count) = LegacyKeywords.find(line.words, scope: .global) {
            for modern in expandLegacy(legacy, wordCount: count, line: line) {
                compileGlobalLine(ConfigLine(words: modern, location: line.location, raw: line.raw), into: &global)
            }
            return
        }
        guard let spec = GlobalKeywords.table.lookup(line.words[...]) else {
            reportUnknownGlobal(line)
            return
        }
        var ctx = KeywordContext(line: line, keywordWordCount: spec.wordCount, negated: false, sectionDescription: "global", environment: environment)
        do throws(ConfigError) {
            try spec.apply(&global, &ctx)
        } catch {
            diagnostics.append(Diagnostic(error.severity, error.message, at: line.location, hint: error.hint))
        }
        ctx.warnings.forEach { diagnostics.append($0) }
        if let modern = ctx.modernRewrite { rewrites[line.location] = modern }
    }

    mutating func reportUnknownGlobal(_ line: ConfigLine) {
        let word = line.keyword
        if let hint = LegacyKeywords.untranslatable[word] {
            diagnostics.alert("'\(word)' is a legacy keyword that cannot be translated automatically.", at: line.location, hint: "write: \(hint)")
            return
        }
        if ProxyKeywords.table.lookup(line.words[...]) != nil || word == "option" || word == "timeout" {
            diagnostics.alert("unknown keyword '\(word)' in 'global' section", at: line.location,
                              hint: "'\(word)' belongs in a defaults, frontend, backend or listen section")
            return
        }
        let suggestion = Suggestion.didYouMean(word, in: GlobalKeywords.table.specs.map { String($0.name.split(separator: " ")[0]) })
        diagnostics.alert("unknown keyword '\(word)' in 'global' section\(suggestion)", at: line.location)
    }

    // MARK: - proxies

    mutating func compileProxyLine(_ line: ConfigLine, into proxy: inout ProxyConfig) {
        var words = line.words[...]
        var negated = false
        if words.first == "no" || words.first == "default" {
            // `default option X` resets X to its default, which is "off" for the options
            // Fulcrum knows but those of `modeDependentOptions` (reset to automatic
            // below); it is parsed like `no option X`.
            negated = true
            words = words.dropFirst()
            guard let next = words.first, next == "option" || next == "log" else {
                diagnostics.alert("'\(line.keyword)' can only be followed by 'option' or 'log'.", at: line.location)
                return
            }
            if next == "log" && line.keyword == "no" {
                proxy.logTargets.removeAll()
                return
            }
        }
        if !negated, let (legacy, count) = LegacyKeywords.find(Array(words), scope: .proxy) {
            for modern in expandLegacy(legacy, wordCount: count, line: line) {
                compileProxyLine(ConfigLine(words: modern, location: line.location, raw: line.raw), into: &proxy)
            }
            return
        }
        guard let spec = ProxyKeywords.table.lookup(words) else {
            reportUnknownProxyKeyword(Array(words), line: line, proxy: proxy)
            return
        }
        if !checkCapabilities(spec, line: line, proxy: proxy) { return }
        var ctx = KeywordContext(line: line, keywordWordCount: spec.wordCount, negated: negated,
                                 sectionDescription: "\(proxy.kind.rawValue)", environment: environment)
        do throws(ConfigError) {
            try spec.apply(&proxy, &ctx)
        } catch {
            diagnostics.append(Diagnostic(error.severity, error.message, at: line.location, hint: error.hint))
            if spec.name == "bind" { proxiesWithBindErrors.insert(proxy.location) }
        }
        ctx.warnings.forEach { diagnostics.append($0) }
        if let modern = ctx.modernRewrite { rewrites[line.location] = modern }
        // `default option X` for an option whose default depends on the mode (on in
        // HTTP mode, off in TCP mode) goes back to that automatic value, not to "off".
        if line.keyword == "default", spec.name.hasPrefix("option "), let name = spec.name.split(separator: " ").last.map(String.init),
           Self.modeDependentOptions.contains(name) {
            proxy.options.others[name] = nil
        }
    }

    /// Options whose default HAProxy derives from the proxy's mode.
    static let modeDependentOptions: Set<String> = ["tcp-smart-accept"]

    static let namedDefaultsOnly: Set<String> = ["http-request", "http-response", "http-after-response", "tcp-request", "tcp-response", "acl"]

    /// HAProxy's capability rules: refused in defaults, ignored (with a warning) or
    /// refused on the wrong side of a frontend/backend.
    mutating func checkCapabilities(_ spec: KeywordSpec<ProxyConfig>, line: ConfigLine, proxy: ProxyConfig) -> Bool {
        let caps = spec.capabilities
        let first = String(spec.name.split(separator: " ")[0])
        switch proxy.kind {
        case .defaults:
            // Rules and ACLs live in named defaults only (HAProxy 2.5+): an anonymous one
            // would apply them to every proxy silently.
            if Self.namedDefaultsOnly.contains(first) && proxy.name.hasPrefix("<unnamed defaults") {
                diagnostics.alert("'\(first)' not allowed in anonymous 'defaults' section.", at: line.location,
                                  hint: "name the section ('defaults NAME') and use 'from NAME' in the proxies that need it")
                return false
            }
            if !caps.contains(.defaults) {
                diagnostics.alert("'\(first)' not allowed in 'defaults' section.", at: line.location,
                                  hint: "move it to the \(caps.contains(.frontend) ? "frontend" : "backend") that needs it")
                return false
            }
        case .frontend:
            if !caps.contains(.frontend) {
                let message = "'\(first)' \(spec.wrongSideIsAlert ? "not allowed" : "ignored") because frontend '\(proxy.name)' has no backend capability."
                diagnostics.append(Diagnostic(spec.wrongSideIsAlert ? .alert : .warning, message, at: line.location,
                                              hint: "move it to a backend or listen section"))
                return false
            }
        case .backend:
            if !caps.contains(.backend) {
                let message = "'\(first)' \(spec.wrongSideIsAlert ? "not allowed" : "ignored") because backend '\(proxy.name)' has no frontend capability."
                diagnostics.append(Diagnostic(spec.wrongSideIsAlert ? .alert : .warning, message, at: line.location,
                                              hint: "move it to a frontend or listen section"))
                return false
            }
        case .listen:
            break
        }
        return true
    }

    mutating func reportUnknownProxyKeyword(_ words: [String], line: ConfigLine, proxy: ProxyConfig) {
        let word = words.first ?? ""
        let section = proxy.kind.rawValue
        if let hint = LegacyKeywords.untranslatable[word] {
            diagnostics.alert("'\(word)' is a legacy keyword (removed from HAProxy) that cannot be translated automatically.",
                              at: line.location, hint: "write: \(hint)")
            return
        }
        let table = ProxyKeywords.table
        switch word {
        case "option":
            let name = words.count > 1 ? words[1] : ""
            guard !name.isEmpty else { diagnostics.alert("'option' expects an option name.", at: line.location); return }
            let suggestion = Suggestion.didYouMean(name, in: table.subkeywords(of: "option") + LegacyKeywords.all.filter { $0.name.hasPrefix("option ") }.map { String($0.name.dropFirst(7)) })
            diagnostics.alert("unknown option '\(name)'\(suggestion.isEmpty ? "." : suggestion)", at: line.location)
            return
        case "timeout":
            let name = words.count > 1 ? words[1] : ""
            let supported = ProxyTimeouts.names.map { "'\($0)'" }
            diagnostics.alert("'timeout' supports \(supported.dropLast().joined(separator: ", ")) and \(supported.last!) (got '\(name)')\(Suggestion.didYouMean(name, in: ProxyTimeouts.names))",
                              at: line.location)
            return
        case "stats", "capture", "compression", "email-alert", "external-check", "rate-limit", "persist", "stick":
            let sub = table.subkeywords(of: word)
            let name = words.count > 1 ? words[1] : ""
            diagnostics.alert("'\(word)' expects one of \(Set(sub.map { String($0.split(separator: " ")[0]) }).sorted().map { "'\($0)'" }.joined(separator: ", ")) (got '\(name)')\(Suggestion.didYouMean(name, in: sub)).",
                              at: line.location)
            return
        default:
            break
        }
        if GlobalKeywords.table.lookup(words[...]) != nil {
            diagnostics.alert("unknown keyword '\(word)' in '\(section)' section", at: line.location,
                              hint: "'\(word)' belongs in the global section")
            return
        }
        let suggestion = Suggestion.didYouMean(word, in: table.firstWords.subtracting(["no"]))
        diagnostics.alert("unknown keyword '\(word)' in '\(section)' section\(suggestion)", at: line.location)
    }

    /// Applies a legacy rewrite, warning with the modern line it runs instead.
    mutating func expandLegacy(_ legacy: LegacyKeyword, wordCount: Int, line: ConfigLine) -> [[String]] {
        do throws(ConfigError) {
            let modern = try legacy.rewrite(Array(line.words.dropFirst(wordCount)))
            rewrites[line.location] = modern
            let shown = modern.isEmpty ? legacy.modern : modern.map(ConfigWriter.line).joined(separator: " ; ")
            diagnostics.warning("'\(legacy.name)' is not supported by HAProxy since \(legacy.removedIn); Fulcrum runs it as its modern equivalent: \(shown)",
                                at: line.location, hint: "replace the line with: \(shown)  (fulcrum --print-modern-config rewrites the whole file)")
            return modern
        } catch {
            diagnostics.alert(error.message, at: line.location, hint: error.hint)
            return []
        }
    }
}
