/// Per-server settings, from `server` lines and inherited from `default-server`.
/// Health and runtime state live elsewhere: this is configuration only.
public struct ServerOptions: Hashable, Sendable {
    public var check = false
    public var inter = DurationValue(milliseconds: 2000)
    public var fastinter: DurationValue? = nil
    public var downinter: DurationValue? = nil
    public var rise = 2
    public var fall = 3
    public var checkPort: Int? = nil
    public var checkAddress: String? = nil
    public var weight = 1
    public var backup = false
    public var maxconn: Int? = nil
    public var maxqueue: Int? = nil
    public var disabled = false
    public var slowstart: DurationValue? = nil
    public var cookie: String? = nil
    public var sendProxy = false
    public var sendProxyV2 = false
    public var ssl = false
    public var verify: String? = nil
    public var sni: String? = nil
    public var initState: String? = nil
    public var agentCheck = false
    public var agentPort: Int? = nil
    public var agentInter: DurationValue? = nil
    public var agentSend: String? = nil
    public var observe: String? = nil
    public var errorLimit: Int? = nil
    public var onError: String? = nil
    public var onMarkedDown: String? = nil
    public var onMarkedUp: String? = nil
    public var resolvers: String? = nil
    /// Recognised keywords without a field yet (documented as accepted, not yet applied).
    public var others: [String: String] = [:]

    public init() {}
}
