/// Reads what TCP-mode rules route on from the first bytes of a TLS connection, without
/// terminating TLS: the handshake type and the SNI server name of a ClientHello.
public enum TLSClientHello {
    /// 1 for a ClientHello, 2 for a ServerHello (`req.ssl_hello_type`), nil when the
    /// bytes are not a TLS handshake record.
    /// Like HAProxy, nothing is answered until the whole first record has arrived, so
    /// a hello split across segments is waited for rather than half read.
    public static func handshakeType(_ b: [UInt8]) -> Int? {
        guard isCompleteRecord(b), b.count >= 6 else { return nil }
        return Int(b[5])
    }

    /// The record's version as HAProxy's `req.ssl_ver` gives it: major × 65536 + minor.
    public static func recordVersion(_ b: [UInt8]) -> Int? {
        guard isCompleteRecord(b) else { return nil }
        return Int(b[1]) << 16 | Int(b[2])
    }

    /// A handshake record whose announced length has arrived in full.
    public static func isCompleteRecord(_ b: [UInt8]) -> Bool {
        guard b.count >= 5, b[0] == 22, b[1] == 3 else { return false }
        return b.count >= 5 + (Int(b[3]) << 8 | Int(b[4]))
    }

    /// The bytes may still become a handshake record: worth waiting for more.
    public static func mayBecomeRecord(_ b: [UInt8]) -> Bool {
        if b.isEmpty { return true }
        if b[0] != 22 { return false }
        if b.count >= 2 && b[1] != 3 { return false }
        return !isCompleteRecord(b)
    }

    /// The host name of the `server_name` extension, nil when absent or truncated.
    public static func serverName(_ b: [UInt8]) -> [UInt8]? {
        guard handshakeType(b) == 1 else { return nil }
        // Only the first record is read: the hello's extensions must lie within it.
        let recordEnd = 5 + (Int(b[3]) << 8 | Int(b[4]))
        var r = Reader(bytes: Array(b.prefix(recordEnd)), at: 5)
        guard r.skip(4),            // handshake type and length
              r.skip(2 + 32),       // client version, random
              let sessionLength = r.u8(), r.skip(Int(sessionLength)),
              let suites = r.u16(), r.skip(Int(suites)),
              let compressions = r.u8(), r.skip(Int(compressions)),
              let extensionsLength = r.u16() else { return nil }
        let end = min(r.bytes.count, r.at + Int(extensionsLength))
        while r.at + 4 <= end {
            guard let type = r.u16(), let length = r.u16() else { return nil }
            guard type == 0 else {
                guard r.skip(Int(length)) else { return nil }
                continue
            }
            guard r.skip(2), let nameType = r.u8(), nameType == 0, let nameLength = r.u16(), r.at + Int(nameLength) <= r.bytes.count else { return nil }
            return Array(r.bytes[r.at..<(r.at + Int(nameLength))])
        }
        return nil
    }

    struct Reader {
        let bytes: [UInt8]
        var at: Int

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, at + n <= bytes.count else { return false }
            at += n
            return true
        }

        mutating func u8() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func u16() -> UInt16? {
            guard at + 2 <= bytes.count else { return nil }
            defer { at += 2 }
            return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
        }
    }
}
