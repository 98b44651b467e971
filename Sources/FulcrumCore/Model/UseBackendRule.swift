import HAProxyConfig

/// `use_backend NAME [if|unless COND]`. A name containing `%[` is computed per request.
public struct UseBackendRule: Hashable, Sendable {
    public var backend: String
    public var condition: RuleCondition?
    public var location: SourceLocation

    public init(backend: String, condition: RuleCondition?, location: SourceLocation) {
        self.backend = backend
        self.condition = condition
        self.location = location
    }

    public var isDynamic: Bool { backend.contains("%[") }
}
