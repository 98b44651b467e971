import HAProxyConfig

/// One `http-request`, `http-response`, `http-after-response` or `tcp-request` rule:
/// an action with its arguments and an optional condition.
public struct HTTPRuleConfig: Hashable, Sendable {
    public var action: String
    public var arguments: [String]
    public var condition: RuleCondition?
    public var location: SourceLocation
    /// Set when the rule was written with a legacy keyword (`reqadd`, ...), for messages.
    public var legacyKeyword: String?

    public init(action: String, arguments: [String], condition: RuleCondition?, location: SourceLocation, legacyKeyword: String? = nil) {
        self.action = action
        self.arguments = arguments
        self.condition = condition
        self.location = location
        self.legacyKeyword = legacyKeyword
    }
}
