/// The section a proxy comes from, which decides its capabilities: a frontend accepts
/// connections, a backend holds servers, a listen section does both.
public enum ProxyKind: String, Hashable, Sendable {
    case defaults, frontend, backend, listen

    public var hasFrontendCapability: Bool { self != .backend }
    public var hasBackendCapability: Bool { self != .frontend }
}
