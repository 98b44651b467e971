/// A configuration that checks out but cannot be started (an address that cannot be
/// bound, a feature the data plane does not have yet).
public struct ProxyStartError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
