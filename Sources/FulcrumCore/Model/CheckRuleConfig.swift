import HAProxyConfig

/// One `tcp-check` or `http-check` rule, kept as its action and arguments.
public struct CheckRuleConfig: Hashable, Sendable {
    public var action: String
    public var arguments: [String]
    public var location: SourceLocation

    public init(action: String, arguments: [String], location: SourceLocation) {
        self.action = action
        self.arguments = arguments
        self.location = location
    }
}
