/// One finding about a keepalived configuration. Errors stop `fulcrum-vrrp` from
/// starting (keepalived would often only log and carry on; a VIP that silently does not
/// move is worse than a refusal at start-up).
public struct KeepalivedDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable { case error, warning, notice }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation?

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    /// `file:line: error: message`, the shape editors and grep already understand.
    public var description: String {
        if let location { return "\(location): \(severity.rawValue): \(message)" }
        return "\(severity.rawValue): \(message)"
    }
}

extension Array where Element == KeepalivedDiagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [KeepalivedDiagnostic] { filter { $0.severity == .error } }
}
