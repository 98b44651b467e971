/// One finding about a configuration, rendered the way HAProxy prints it so that
/// operators' habits (and their grep patterns) keep working.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: Int, Comparable, Sendable {
        case notice = 0
        case warning = 1
        case alert = 2

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

        /// HAProxy pads the tag to a fixed width so that messages line up.
        var tag: String {
            switch self {
            case .notice: return "[NOTICE]   "
            case .warning: return "[WARNING]  "
            case .alert: return "[ALERT]    "
            }
        }
    }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// A Fulcrum addition: what to write instead. Printed on its own line after the message.
    public var hint: String?
    /// HAProxy writes "parsing [f:l]" for errors found while reading a line and plain
    /// "[f:l]" for errors found when checking an object; tests only rely on the location.
    public var duringParsing: Bool

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil, hint: String? = nil, duringParsing: Bool = true) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
        self.duringParsing = duringParsing
    }

    public static func alert(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) -> Diagnostic {
        Diagnostic(.alert, message, at: location, hint: hint)
    }

    public static func warning(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) -> Diagnostic {
        Diagnostic(.warning, message, at: location, hint: hint)
    }

    public static func notice(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) -> Diagnostic {
        Diagnostic(.notice, message, at: location, hint: hint)
    }

    /// `[ALERT]    (pid) : config : parsing [file:line] : message`
    public func rendered(pid: Int32) -> String {
        var out = "\(severity.tag)(\(pid)) : config : "
        if let location {
            out += duringParsing ? "parsing [\(location)] : " : "[\(location)] : "
        }
        out += message
        if let hint {
            out += "\n   | hint: " + hint
        }
        return out
    }

    /// `[WARNING]  (pid) : message`: what the running process reports (server state
    /// changes), without the configuration stage HAProxy prints while loading.
    public func renderedAtRuntime(pid: Int32) -> String {
        "\(severity.tag)(\(pid)) : \(message)"
    }

    public var description: String { rendered(pid: 0) }
}
