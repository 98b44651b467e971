#if canImport(Glibc)
import Glibc
#endif

/// An address with a prefix (`10.0.0.0/8`, `192.168.0.0/255.255.0.0`, `::1/128`), as
/// `option forwardfor except` and ACL `-m ip` patterns take it. Addresses are raw
/// network-order bytes: 4 for IPv4, 16 for IPv6.
public struct IPNetwork: Hashable, Sendable {
    public let bytes: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = Self.parse(first) else { return nil }
        bytes = address
        if parts.count == 1 {
            prefix = address.count * 8
        } else if let n = Int(parts[1]), n >= 0, n <= address.count * 8 {
            prefix = n
        } else if address.count == 4, let mask = Self.parse(parts[1]), mask.count == 4 {
            prefix = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        } else {
            return nil
        }
    }

    /// The address bytes of a dotted or colon notation, or nil.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// True when `address` (4 or 16 bytes) lies in the network. An IPv4-mapped IPv6
    /// address matches an IPv4 network, as HAProxy matches it.
    public func contains(bytes address: [UInt8]) -> Bool {
        var candidate = address
        if bytes.count == 4, candidate.count == 16, candidate[0..<10].allSatisfy({ $0 == 0 }), candidate[10] == 0xFF, candidate[11] == 0xFF {
            candidate = Array(candidate[12...])
        }
        guard candidate.count == bytes.count else { return false }
        var remaining = prefix
        for k in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if candidate[k] & mask != bytes[k] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Dotted or colon notation of 4 or 16 address bytes.
    public static func format(_ address: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: 64)
        let family = address.count == 4 ? AF_INET : AF_INET6
        _ = address.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &out, 64) }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
