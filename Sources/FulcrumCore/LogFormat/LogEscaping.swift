/// How HAProxy keeps a value from breaking a log line. Request lines and captured
/// headers replace unprintable bytes (and `"`, `#`, plus `{|}` in headers) with `#XX`;
/// the `E` flag (meant for RFC 5424 structured data) puts a backslash before `"`, `\`
/// and `]` in the other bytes.
public enum LogEscaping {
    public enum Map: Sendable {
        /// `%r`, `%HU` and the other request line pieces.
        case url
        /// `%hr`, `%hrl`, `%hs`, `%hsl`.
        case header

        @inlinable
        func encodes(_ b: UInt8) -> Bool {
            if b < 32 || b >= 127 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "#") { return true }
            return self == .header && (b == UInt8(ascii: "{") || b == UInt8(ascii: "|") || b == UInt8(ascii: "}"))
        }
    }

    @usableFromInline
    static let hexDigits = Array("0123456789ABCDEF".utf8)

    @inlinable
    public static func isStructuredDataSpecial(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == UInt8(ascii: "]")
    }

    /// `bytes` with the map's bytes as `#XX`, and with `escape` the others of `"\]` after a backslash.
    /// Inlinable, as `text`: called unspecialized from another module, the generic
    /// scan cost several times the copy on every log line.
    @inlinable
    public static func encode(_ bytes: some Collection<UInt8>, _ map: Map, escape: Bool, into out: inout [UInt8]) {
        // Most lines have nothing to encode: one pass to check, one copy.
        if !bytes.contains(where: { map.encodes($0) || (escape && isStructuredDataSpecial($0)) }) {
            out.append(contentsOf: bytes)
            return
        }
        for b in bytes {
            if map.encodes(b) {
                out.append(UInt8(ascii: "#"))
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 15)])
            } else if escape && isStructuredDataSpecial(b) {
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            } else {
                out.append(b)
            }
        }
    }

    /// A text value (names, addresses, samples): with `escape`, `"\]` after a backslash.
    @inlinable
    public static func text(_ bytes: some Collection<UInt8>, escape: Bool, into out: inout [UInt8]) {
        guard escape else { out.append(contentsOf: bytes); return }
        for b in bytes {
            if isStructuredDataSpecial(b) { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
    }
}
