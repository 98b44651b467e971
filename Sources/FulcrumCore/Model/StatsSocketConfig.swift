import HAProxyConfig

/// `stats socket ADDRESS [mode M] [level L] [user U] [group G] [expose-fd listeners] ...`.
public struct StatsSocketConfig: Hashable, Sendable {
    public var address: AddressSpec
    public var mode: String? = nil
    public var level: String = "operator"
    public var user: String? = nil
    public var group: String? = nil
    public var exposeFDListeners = false
    public var others: [String: String] = [:]
    public var location: SourceLocation

    public init(address: AddressSpec, location: SourceLocation) {
        self.address = address
        self.location = location
    }

    public static let levels = ["user", "operator", "admin"]
}
