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

    /// `req.ssl_ver`: the version the client offers in its hello (major × 65536 +
    /// minor), which is what HAProxy answers, not the record layer's version (TLS 1.2
    /// and 1.3 clients put 3.1 there). An SSLv3-style record (content types 20 to 23)
    /// of at least version 3.0 and 6 to 10240 bytes long, or an SSLv2 client hello;
    /// nil until the whole record has arrived.
    public static func helloVersion(_ b: [UInt8]) -> Int? {
        guard let first = b.first else { return nil }
        if first & 0x80 == 0, (20...23).contains(first) {
            guard b.count >= 11, Int(b[1]) << 16 | Int(b[2]) >= 0x30000 else { return nil }
            let length = Int(b[3]) << 8 | Int(b[4])
            guard (6...(8192 + 2048)).contains(length), b.count - 5 >= length else { return nil }
            return Int(b[9]) << 16 | Int(b[10])
        }
        return sslv2HelloVersion(b)
    }

    /// An SSLv2 CLIENT-HELLO: a 2-byte (high bit set) or 3-byte (with padding) record
    /// header, message type 1, version, then the lengths of the cipher specs (a multiple
    /// of 3), session id (0 or 16) and challenge (16 to 32), which must add up.
    static func sslv2HelloVersion(_ b: [UInt8]) -> Int? {
        let short = b[0] & 0x80 != 0
        let header = short ? 2 : 3
        guard b.count >= header + 9, b[header] == 1 else { return nil }
        let recordLength = Int(b[0] & (short ? 0x7F : 0x3F)) << 8 | Int(b[1])
        let padding = short ? 0 : Int(b[2])
        let p = header + 1
        let ciphers = Int(b[p + 2]) << 8 | Int(b[p + 3])
        let session = Int(b[p + 4]) << 8 | Int(b[p + 5])
        let challenge = Int(b[p + 6]) << 8 | Int(b[p + 7])
        guard ciphers % 3 == 0, session == 0 || session == 16, (16...32).contains(challenge),
              recordLength == 9 + ciphers + session + challenge,
              b.count - (p + 8) >= ciphers + session + challenge + padding else { return nil }
        return Int(b[p]) << 16 | Int(b[p + 1])
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
