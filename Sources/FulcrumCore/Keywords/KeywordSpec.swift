/// One entry of a keyword table: the keyword words, where it may appear, its usage
/// line for `--help`/docs, what Fulcrum does with it, and its parser.
public struct KeywordSpec<Target>: Sendable {
    public typealias Apply = @Sendable (inout Target, inout KeywordContext) throws(ConfigError) -> Void

    public let name: String
    public let capabilities: ProxyCapabilities
    public let usage: String
    public let status: KeywordStatus
    /// HAProxy rejects some keywords on the wrong side (a `server` in a frontend) and
    /// merely ignores others (a `balance` in a frontend) with a warning.
    public let wrongSideIsAlert: Bool
    public let apply: Apply

    public init(_ name: String, _ capabilities: ProxyCapabilities = .all, usage: String = "", status: KeywordStatus = .parsed,
                wrongSideIsAlert: Bool = false, apply: @escaping Apply) {
        self.name = name
        self.capabilities = capabilities
        self.usage = usage.isEmpty ? name : usage
        self.status = status
        self.wrongSideIsAlert = wrongSideIsAlert
        self.apply = apply
    }

    public var wordCount: Int { name.split(separator: " ").count }
}

/// Where a proxy keyword may appear, as in the keyword matrix of HAProxy's manual.
public struct ProxyCapabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let defaults = ProxyCapabilities(rawValue: 1)
    public static let frontend = ProxyCapabilities(rawValue: 2)
    public static let backend = ProxyCapabilities(rawValue: 4)
    public static let all: ProxyCapabilities = [.defaults, .frontend, .backend]
    public static let global = ProxyCapabilities(rawValue: 8)

    /// `d f l b` columns as in the manual's matrix (a listen has both sides).
    public var matrix: String {
        (contains(.defaults) ? "d" : "-") + (contains(.frontend) ? "f" : "-") + (contains(.frontend) || contains(.backend) ? "l" : "-") + (contains(.backend) ? "b" : "-")
    }
}
