import HAProxyConfig

/// `stick on|match|store-request <pattern> [table <t>] [if|unless <cond>]`: server
/// persistence through a stick table. `match` looks the key up before balancing,
/// `store-request` records the chosen server, `on` does both.
public struct StickRuleConfig: Hashable, Sendable {
    public var kind: String
    public var pattern: String
    public var table: String?
    public var condition: RuleCondition?
    public var location: SourceLocation
}
