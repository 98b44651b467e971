import HAProxyConfig

/// One `bind` line: one or more addresses sharing the same options.
public struct BindConfig: Sendable {
    public var addresses: [AddressSpec]
    public var options: BindOptions
    public var location: SourceLocation

    public init(addresses: [AddressSpec], options: BindOptions, location: SourceLocation) {
        self.addresses = addresses
        self.options = options
        self.location = location
    }
}
