/// Reads the routing cookie of an RDP client's first packet, an X.224 Connection
/// Request inside a TPKT header: after those 11 bytes the client may put one line
/// `Cookie: mstshash=<user>` (or the session broker's `msts=<address>.<port>.<...>`
/// token) ended by CRLF. Only that first line counts, as in the protocol and HAProxy;
/// the cookie name is not case sensitive.
public enum RDPConnectionRequest {
    public enum Cookie: Equatable, Sendable {
        case value(ArraySlice<UInt8>)
        /// More bytes may still complete a cookie: worth waiting for.
        case incomplete
        case none
    }

    /// TPKT (4 bytes) and the fixed part of the X.224 Connection Request (7 bytes).
    static let headerLength = 11

    /// The value of cookie `name`, or of whatever cookie comes first when `name` is nil
    /// (then the value includes the name and its `=`).
    public static func cookie(_ b: [UInt8], name: String?) -> Cookie {
        var i = headerLength
        let prefix = Array("cookie:".utf8)
        guard b.count > i + prefix.count else { return .incomplete }
        for k in 0..<prefix.count where lower(b[i + k]) != prefix[k] { return .none }
        i += prefix.count
        while i < b.count, b[i] == UInt8(ascii: " ") { i += 1 }
        if let name {
            let wanted = Array(name.utf8)
            guard b.count > i + wanted.count else { return .incomplete }
            guard b[i + wanted.count] == UInt8(ascii: "=") else { return .none }
            for k in 0..<wanted.count where lower(b[i + k]) != lower(wanted[k]) { return .none }
            i += wanted.count + 1
        }
        guard i < b.count else { return .incomplete }
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\r") { i += 1 }
        guard i + 1 < b.count else { return .incomplete }
        guard b[i + 1] == UInt8(ascii: "\n") else { return .none }
        return .value(b[start..<i])
    }

    /// A session broker's routing token `msts=<address>.<port>.<reserved>`: the
    /// server's IPv4 address and port as the decimal values of their network-order
    /// bytes read little-endian (127.0.0.1:3389 is `16777343.15629.0000`). Returns the
    /// address bytes and the port, or nil when the value is not such a token.
    public static func routingToken(_ value: ArraySlice<UInt8>) -> (address: [UInt8], port: Int)? {
        let parts = value.split(separator: UInt8(ascii: "."), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let address = decimal(parts[0]), let port = decimal(parts[1]) else { return nil }
        let a = UInt32(truncatingIfNeeded: address), p = UInt16(truncatingIfNeeded: port)
        return ([UInt8(a & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a >> 16 & 0xFF), UInt8(a >> 24)], Int(p.byteSwapped))
    }

    /// The token a broker would write for `address` (4 bytes) and `port`.
    public static func routingToken(address: [UInt8], port: Int) -> String {
        let a = UInt32(address[0]) | UInt32(address[1]) << 8 | UInt32(address[2]) << 16 | UInt32(address[3]) << 24
        return "\(a).\(UInt16(truncatingIfNeeded: port).byteSwapped).0000"
    }

    static func decimal(_ s: ArraySlice<UInt8>) -> UInt64? {
        guard !s.isEmpty, s.count <= 19, s.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return s.reduce(0) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }
    }

    static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}
