/// The diagnostics of one configuration load, in the order they were found.
public struct DiagnosticList: Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }
    public mutating func append(contentsOf other: DiagnosticList) { items.append(contentsOf: other.items) }
    public mutating func alert(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        items.append(.alert(message, at: location, hint: hint))
    }
    public mutating func warning(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        items.append(.warning(message, at: location, hint: hint))
    }

    public var hasAlerts: Bool { items.contains { $0.severity == .alert } }
    public var alerts: [Diagnostic] { items.filter { $0.severity == .alert } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }
}
