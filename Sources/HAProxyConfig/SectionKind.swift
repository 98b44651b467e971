/// The keywords that open a section. They are valid anywhere and always one word.
public enum SectionKind: String, CaseIterable, Sendable {
    case global, defaults, frontend, backend, listen
    case userlist, resolvers, peers, mailers, cache, program
    case httpErrors = "http-errors"
    case ring
    case logForward = "log-forward"
    case fcgiApp = "fcgi-app"

    /// Sections whose contents Fulcrum does not interpret yet. They are refused with
    /// an alert naming the section line, never skipped silently.
    public var isSupported: Bool {
        switch self {
        case .global, .defaults, .frontend, .backend, .listen, .userlist, .httpErrors, .ring: return true
        default: return false
        }
    }

    public var requiresName: Bool {
        switch self {
        case .global, .defaults: return false
        default: return true
        }
    }

    public var isProxy: Bool {
        switch self {
        case .defaults, .frontend, .backend, .listen: return true
        default: return false
        }
    }
}
