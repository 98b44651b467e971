import FulcrumCore

/// A header rule ready to run: its regular expression compiled once.
struct CompiledHTTPRule: @unchecked Sendable {
    // Regex values are immutable once built; they are only read on the event loops.
    let rule: HTTPHeaderRule
    let regex: Regex<AnyRegexOutput>?

    init(_ config: HTTPRuleConfig, in proxy: ProxyConfig) throws {
        let where_ = "\(proxy.displayName), \(config.location)"
        do throws(ConfigError) {
            rule = try HTTPHeaderRule.compile(config)
        } catch {
            throw ProxyStartError("\(where_): \(error.message)")
        }
        switch rule {
        case .replaceHeader(_, let pattern, let replacement):
            do {
                regex = try Regex(pattern)
            } catch {
                throw ProxyStartError("\(where_): invalid regular expression '\(pattern)': \(error)")
            }
            try Self.checkSamples(replacement, proxy, config.action)
        case .addHeader(_, let value), .setHeader(_, let value), .setPath(let value), .setURI(let value):
            regex = nil
            try Self.checkSamples(value, proxy, config.action)
        case .deleteHeader:
            regex = nil
        }
    }

    static func checkSamples(_ format: LogFormat, _ proxy: ProxyConfig, _ what: String) throws {
        for case .sample(let expression, _) in format.nodes where !LogFormatRenderer.supportedSamples.contains(expression) {
            throw ProxyStartError("\(proxy.displayName): \(what): sample fetch '%[\(expression)]' is not implemented yet (supported: \(LogFormatRenderer.supportedSamples.sorted().joined(separator: ", ")))")
        }
    }
}
