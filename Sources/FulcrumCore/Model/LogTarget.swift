import HAProxyConfig

/// One `log` line (or `log global`, which refers to the global section's targets).
public struct LogTarget: Hashable, Sendable {
    public enum Destination: Hashable, Sendable {
        case global
        case address(AddressSpec)
        case stdout, stderr
        case ring(String)
    }

    public var destination: Destination
    public var length: Int? = nil
    public var format: String? = nil
    public var sample: LogSampling? = nil
    public var facility: String = "local0"
    public var maxLevel: String? = nil
    public var minLevel: String? = nil
    public var location: SourceLocation

    public init(destination: Destination, location: SourceLocation) {
        self.destination = destination
        self.location = location
    }

    public static let facilities = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]
    public static let levels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
    public static let formats = ["local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"]
}
