import HAProxyConfig

/// A `defaults`, `frontend`, `backend` or `listen` section. A proxy starts as a copy of
/// the defaults section it inherits from, then its own lines override that copy.
public struct ProxyConfig: Sendable {
    public var kind: ProxyKind
    public var name: String
    public var location: SourceLocation
    /// The defaults section this proxy was created from, if any.
    public var inheritedDefaults: String?

    public var mode: ProxyMode = .tcp
    public var modeLocation: SourceLocation? = nil
    public var binds: [BindConfig] = []
    public var defaultBackend: Located<String>? = nil
    public var useBackendRules: [UseBackendRule] = []
    /// `use-server NAME if COND` (the rule type is shared: a name and a condition).
    public var useServerRules: [UseBackendRule] = []
    /// The `redirect` keyword's rules, run after the proxy's `http-request` rules.
    public var redirectRules: [HTTPRuleConfig] = []
    /// `monitor fail if COND`: the monitor URI answers 503 while a condition holds.
    public var monitorFail: [HTTPRuleConfig] = []
    public var balance: BalanceAlgorithm = .roundRobin
    public var hashType = HashType()
    public var servers: [ServerConfig] = []
    public var defaultServer = ServerOptions()
    public var timeouts = ProxyTimeouts()
    public var options = ProxyOptions()
    public var retries = 3
    public var maxconn: Int? = nil
    public var fullconn: Int? = nil
    public var errorFiles: [Int: ErrorFileConfig] = [:]
    /// `errorfiles NAME`: imports resolved once the `http-errors` sections are read.
    public var errorFilesImports: [ErrorFilesImport] = []
    public var logFormat: Located<String>? = nil
    public var logTargets: [LogTarget] = []
    public var logTag: String? = nil
    public var uniqueIDFormat: Located<String>? = nil
    public var uniqueIDHeader: String? = nil
    public var captures: [CaptureHeader] = []
    public var captureCookie: CaptureCookie? = nil
    public var httpRequestRules: [HTTPRuleConfig] = []
    public var httpResponseRules: [HTTPRuleConfig] = []
    public var httpAfterResponseRules: [HTTPRuleConfig] = []
    public var tcpRequestRules: [HTTPRuleConfig] = []
    public var tcpResponseRules: [HTTPRuleConfig] = []
    /// `tcp-response inspect-delay`: how long the server's first bytes may be held.
    public var tcpResponseInspectDelay: DurationValue? = nil
    public var tcpCheckRules: [CheckRuleConfig] = []
    public var httpCheckRules: [CheckRuleConfig] = []
    public var acls: [ACLConfig] = []
    public var stickTable: StickTableConfig? = nil
    /// `stick on|match|store-request` rules, in order.
    public var stickRules: [StickRuleConfig] = []
    public var stats = StatsPageConfig()
    public var monitorURI: String? = nil
    public var cookie: CookieConfig? = nil
    /// `persist rdp-cookie[(name)]`: the RDP cookie (by default `msts`) whose routing
    /// token names the server.
    public var persistRDPCookie: String? = nil
    public var httpReuse: String = "safe"
    public var description: String? = nil
    public var disabled = false
    /// Recognised keywords that later issues act on, by keyword, with their arguments.
    public var pending: [String: [String]] = [:]

    public init(kind: ProxyKind, name: String, location: SourceLocation) {
        self.kind = kind
        self.name = name
        self.location = location
    }

    /// A new proxy inheriting everything a defaults section can carry.
    public func inherited(as kind: ProxyKind, name: String, location: SourceLocation) -> ProxyConfig {
        var copy = self
        copy.kind = kind
        copy.name = name
        copy.location = location
        copy.inheritedDefaults = self.name
        copy.modeLocation = self.modeLocation
        copy.binds = []
        copy.servers = []
        copy.useBackendRules = []
        copy.defaultBackend = self.defaultBackend
        return copy
    }

    public var displayName: String { "\(kind.rawValue) '\(name)'" }
}
