import HAProxyConfig

/// The `stats ...` keywords of a proxy: the HTML/CSV statistics page.
public struct StatsPageConfig: Hashable, Sendable {
    /// `stats http-request allow|deny|auth [realm R] [if|unless COND]`.
    public struct AccessRule: Hashable, Sendable {
        public enum Action: Hashable, Sendable { case allow, deny, auth(realm: String?) }
        public var action: Action
        public var condition: RuleCondition?
        public var location: SourceLocation

        public init(action: Action, condition: RuleCondition?, location: SourceLocation) {
            self.action = action
            self.condition = condition
            self.location = location
        }
    }

    public var enabled = false
    public var uri: String? = nil
    public var refresh: DurationValue? = nil
    public var realm: String? = nil
    public var auth: [String] = []
    public var adminCondition: RuleCondition? = nil
    public var adminLocation: SourceLocation? = nil
    public var hideVersion = false
    public var showLegends = false
    public var showNode: String? = nil
    /// `stats show-desc`: nil when absent, "" for the global description.
    public var description: String? = nil
    /// `stats scope`: the proxies the page lists (all when empty; "." is this proxy).
    public var scope: [String] = []
    public var accessRules: [AccessRule] = []

    public init() {}

    /// The page's URI prefix (HAProxy's default when only `stats enable` is given).
    public var effectiveURI: String { uri ?? "/haproxy?stats" }
}
