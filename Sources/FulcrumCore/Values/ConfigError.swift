import HAProxyConfig

/// A rejected keyword or value. The compiler attaches the line it came from, so keyword
/// parsers only say what is wrong (and, where it helps, what to write instead).
public struct ConfigError: Error, Hashable, Sendable {
    public var message: String
    public var hint: String?
    /// Some HAProxy problems are warnings (the line is ignored) rather than alerts.
    public var severity: Diagnostic.Severity

    public init(_ message: String, hint: String? = nil, severity: Diagnostic.Severity = .alert) {
        self.message = message
        self.hint = hint
        self.severity = severity
    }
}
