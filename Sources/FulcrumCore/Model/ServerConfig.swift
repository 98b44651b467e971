import HAProxyConfig

/// One `server` line of a backend.
public struct ServerConfig: Sendable {
    public var name: String
    public var address: AddressSpec
    public var options: ServerOptions
    public var location: SourceLocation

    public init(name: String, address: AddressSpec, options: ServerOptions, location: SourceLocation) {
        self.name = name
        self.address = address
        self.options = options
        self.location = location
    }
}
