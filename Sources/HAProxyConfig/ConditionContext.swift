/// What `.if` predicates (and `fulcrum -cc`) can ask about: the environment, the
/// feature list printed by `-vv`, and the HAProxy version Fulcrum is compatible with.
public struct ConditionContext: Sendable {
    public var environment: @Sendable (String) -> String?
    public var features: Set<String>
    public var version: String

    public init(environment: @escaping @Sendable (String) -> String?, features: Set<String>, version: String) {
        self.environment = environment
        self.features = features
        self.version = version
    }
}
