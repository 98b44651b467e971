import HAProxyConfig

/// The whole validated configuration: what the runtime is built from.
public struct FulcrumConfiguration: Sendable {
    public var global = GlobalSettings()
    /// Every frontend, backend and listen section, in the order written.
    public var proxies: [ProxyConfig] = []
    /// Every defaults section, in the order written (the unnamed ones get an internal name).
    public var defaults: [ProxyConfig] = []
    public var files: [String] = []
    /// `http-errors` sections by name: their error files by status.
    public var httpErrors: [String: [Int: ErrorFileConfig]] = [:]
    /// `userlist` sections by name.
    public var userlists: [String: UserlistConfig] = [:]
    /// `ring` sections, in the order written.
    public var rings: [RingConfig] = []

    public init() {}

    public var frontends: [ProxyConfig] { proxies.filter { $0.kind.hasFrontendCapability } }
    public var backends: [ProxyConfig] { proxies.filter { $0.kind.hasBackendCapability } }

    public func backend(named name: String) -> ProxyConfig? {
        proxies.first { $0.name == name && $0.kind.hasBackendCapability }
    }
}
