#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// An address with a prefix (`10.0.0.0/8`, `192.168.0.0/255.255.0.0`, `::1/128`), as
/// `option forwardfor except` takes it.
struct IPNetwork: Sendable {
    let bytes: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = Self.parse(parts[0]) else { return nil }
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

    static func parse(_ text: String) -> [UInt8]? {
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

    func contains(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        var candidate: [UInt8]
        switch address {
        case .v4(let a):
            var raw = a.address.sin_addr
            candidate = withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let a):
            var raw = a.address.sin6_addr
            candidate = withUnsafeBytes(of: &raw) { Array($0) }
            // An IPv4-mapped client matches an IPv4 network.
            if bytes.count == 4, candidate[0..<10].allSatisfy({ $0 == 0 }), candidate[10] == 0xFF, candidate[11] == 0xFF {
                candidate = Array(candidate[12...])
            }
        default:
            return false
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
}
