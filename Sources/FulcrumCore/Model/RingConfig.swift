import HAProxyConfig

/// A `ring` section: an in-memory buffer of the latest log lines (`log ring@<name>`),
/// read with the runtime API's `show events`, and optionally forwarded to syslog
/// servers over TCP.
public struct RingConfig: Hashable, Sendable {
    public struct Server: Hashable, Sendable {
        public enum Framing: String, Hashable, Sendable {
            /// Each event followed by a newline.
            case legacy
            /// RFC 6587 octet counting: `<length> <event>`.
            case octetCount = "octet-count"
        }

        public var name: String
        public var address: AddressSpec
        public var framing: Framing = .legacy
        public var location: SourceLocation
    }

    /// HAProxy's buffer size (BUFSIZE), the smallest ring and the default event length.
    public static let minimumSize = 16384

    public var name: String
    public var description: String?
    /// How events are stored: one of the log formats, `raw` unless told.
    public var format = "raw"
    /// The longest event kept (longer ones are cut), at most `size`.
    public var maxLength = RingConfig.minimumSize
    public var maxLengthLocation: SourceLocation?
    public var size = RingConfig.minimumSize
    public var connectTimeout: DurationValue? = nil
    public var serverTimeout: DurationValue? = nil
    public var servers: [Server] = []
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}
