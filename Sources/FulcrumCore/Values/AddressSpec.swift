#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An address as written on `bind`, `server`, `log` or `stats socket` lines:
/// `[ipv4@|ipv6@|unix@|abns@|fd@|sockpair@]ADDRESS[:PORT[-END]]`.
/// Hostnames are kept as written here and resolved when the configuration is checked.
public struct AddressSpec: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Hashable, Sendable { case unspecified, ipv4, ipv6 }

    public enum Kind: Hashable, Sendable {
        /// `host` is empty or `*` for "any address" (IPv4 unless the family says IPv6).
        case inet(host: String, family: Family)
        case unix(path: String)
        case abstractNamespace(name: String)
        case inheritedFD(Int32)
        case socketPair(Int32)
    }

    public enum Role: Sendable { case bind, server, log }

    public var kind: Kind
    /// The port or port range; `nil` when none was written (servers: use the client's port).
    public var ports: ClosedRange<Int>?
    /// Servers only: `+N` / `-N` maps the port relative to the port the client connected to.
    public var portOffset: Int?
    public var original: String

    public var description: String { original }

    public var isWildcard: Bool {
        if case .inet(let host, _) = kind { return host.isEmpty || host == "*" || host == "0.0.0.0" || host == "::" }
        return false
    }

    public var needsResolution: Bool {
        if case .inet(let host, _) = kind, !host.isEmpty, host != "*" {
            return !Self.isIPv4Literal(host) && !Self.isIPv6Literal(host)
        }
        return false
    }

    public static func parse(_ text: String, role: Role) throws(ConfigError) -> AddressSpec {
        var rest = Substring(text)
        var family = Family.unspecified
        if let at = rest.firstIndex(of: "@") {
            let prefix = String(rest[..<at])
            let value = rest[rest.index(after: at)...]
            switch prefix {
            case "ipv4", "tcp4", "udp4": family = .ipv4; rest = value
            case "ipv6", "tcp6", "udp6": family = .ipv6; rest = value
            case "tcp", "udp": rest = value
            case "unix":
                guard !value.isEmpty else { throw ConfigError("missing path after 'unix@' in '\(text)'.") }
                return AddressSpec(kind: .unix(path: String(value)), ports: nil, portOffset: nil, original: text)
            case "abns":
                guard !value.isEmpty else { throw ConfigError("missing name after 'abns@' in '\(text)'.") }
                return AddressSpec(kind: .abstractNamespace(name: String(value)), ports: nil, portOffset: nil, original: text)
            case "fd", "sockpair":
                guard let fd = Int32(value), fd >= 0 else {
                    throw ConfigError("'\(prefix)@' expects a file descriptor number, got '\(value)' in '\(text)'.")
                }
                return AddressSpec(kind: prefix == "fd" ? .inheritedFD(fd) : .socketPair(fd), ports: nil, portOffset: nil, original: text)
            default:
                throw ConfigError("unknown address family '\(prefix)@' in '\(text)'.",
                                  hint: "use ipv4@, ipv6@, unix@, abns@, fd@ or sockpair@")
            }
        } else if rest.hasPrefix("/") {
            return AddressSpec(kind: .unix(path: String(rest)), ports: nil, portOffset: nil, original: text)
        }

        var host: Substring
        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ConfigError("missing ']' in IPv6 address '\(text)'.") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw ConfigError("invalid address '\(text)'.")
            }
            family = family == .ipv4 ? .ipv4 : .ipv6
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        if host.contains(":") && family == .unspecified { family = .ipv6 }

        let hostString = String(host)
        if !hostString.isEmpty && hostString != "*" {
            if hostString.contains(":") {
                guard isIPv6Literal(hostString) else { throw ConfigError("invalid IPv6 address '\(hostString)' in '\(text)'.") }
            } else if !isIPv4Literal(hostString) {
                guard hostString.unicodeScalars.allSatisfy({ isHostnameScalar($0) }), hostString.first != "-" else {
                    throw ConfigError("invalid address: '\(text)'.")
                }
                if hostString.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) {
                    throw ConfigError("invalid IPv4 address '\(hostString)' in '\(text)'.")
                }
            }
        }

        var spec = AddressSpec(kind: .inet(host: hostString, family: family), ports: nil, portOffset: nil, original: text)
        switch role {
        case .bind:
            guard let portText, !portText.isEmpty else {
                throw ConfigError("missing port number: '\(text)'.", hint: "write ADDRESS:PORT, e.g. '127.0.0.1:8080' or ':8080' for every address")
            }
            spec.ports = try parsePortRange(portText, in: text)
        case .server:
            if let portText, !portText.isEmpty {
                if portText.first == "+" || portText.first == "-" {
                    guard let offset = Int(portText), (-65535...65535).contains(offset) else {
                        throw ConfigError("invalid port offset '\(portText)' in '\(text)'.")
                    }
                    spec.portOffset = offset
                } else {
                    let range = try parsePortRange(portText, in: text, allowZero: true)
                    guard range.count == 1 else { throw ConfigError("port ranges are not allowed on a server address: '\(text)'.") }
                    spec.ports = range
                }
            }
        case .log:
            if let portText, !portText.isEmpty {
                let range = try parsePortRange(portText, in: text)
                guard range.count == 1 else { throw ConfigError("port ranges are not allowed here: '\(text)'.") }
                spec.ports = range
            }
        }
        return spec
    }

    private static func parsePortRange(_ text: Substring, in original: String, allowZero: Bool = false) throws(ConfigError) -> ClosedRange<Int> {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        func port(_ s: Substring) throws(ConfigError) -> Int {
            guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s) else {
                throw ConfigError("invalid port '\(s)' in '\(original)'.")
            }
            guard v <= 65535, v > 0 || allowZero else {
                throw ConfigError("invalid port '\(v)' in '\(original)' (must be between 1 and 65535).")
            }
            return v
        }
        let low = try port(parts[0])
        let high = parts.count > 1 ? try port(parts[1]) : low
        guard low <= high else {
            throw ConfigError("invalid port range '\(text)' in '\(original)': the first port must not be greater than the last.")
        }
        return low...high
    }

    static func isHostnameScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_": return true
        default: return false
        }
    }

    public static func isIPv4Literal(_ s: String) -> Bool {
        var addr = in_addr()
        return inet_pton(AF_INET, s, &addr) == 1
    }

    public static func isIPv6Literal(_ s: String) -> Bool {
        var addr = in6_addr()
        return inet_pton(AF_INET6, s, &addr) == 1
    }
}
