/// Options written after the addresses of a `bind` line.
public struct BindOptions: Hashable, Sendable {
    public var name: String? = nil
    public var ssl = false
    public var certificates: [String] = []
    public var alpn: String? = nil
    public var acceptProxy = false
    public var transparent = false
    /// `nil`: Fulcrum decides (it uses IP_FREEBIND for addresses not on the host).
    public var freebind: Bool? = nil
    public var v4v6 = false
    public var v6only = false
    public var maxconn: Int? = nil
    public var backlog: Int? = nil
    public var interface: String? = nil
    public var unixMode: String? = nil
    public var unixUser: String? = nil
    public var unixGroup: String? = nil
    public var others: [String: String] = [:]

    public init() {}
}
