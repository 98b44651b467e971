/// The fixed first messages of the protocol checks: what a client of that protocol
/// would send to find out whether the server is alive.
enum ProtocolProbes {
    /// PostgreSQL StartupMessage, protocol 3.0, for `user`.
    static func postgresStartup(user: String) -> [UInt8] {
        var payload: [UInt8] = [0x00, 0x03, 0x00, 0x00]
        payload += Array("user".utf8) + [0] + Array(user.utf8) + [0, 0]
        return bigEndian32(UInt32(payload.count + 4)) + payload
    }

    /// A MySQL login packet (sequence 1) for `user` without a password; `post41` uses
    /// the 4.1 protocol's capability flags, as `mysql-check ... post-41`.
    static func mysqlLogin(user: String, post41: Bool) -> [UInt8] {
        var payload: [UInt8]
        if post41 {
            // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, max packet 16 MiB, utf8.
            payload = [0x05, 0x82, 0x00, 0x00] + [0x00, 0x00, 0x00, 0x01] + [0x21] + [UInt8](repeating: 0, count: 23)
            payload += Array(user.utf8) + [0, 0]
        } else {
            // Pre-4.1: 2-byte capabilities, 3-byte max packet, user, empty password.
            payload = [0x80, 0x00] + [0x00, 0x00, 0x01] + Array(user.utf8) + [0, 0]
        }
        let n = payload.count
        return [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), 0x01] + payload
    }

    /// COM_QUIT, so the server does not log an aborted connection.
    static let mysqlQuit: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x01]

    /// A TLS 1.2 ClientHello offering common suites; any TLS server answers it with a
    /// handshake or an alert record.
    static let tlsClientHello: [UInt8] = {
        let suites: [UInt8] = [0xc0, 0x2f, 0xc0, 0x30, 0xc0, 0x2b, 0xc0, 0x2c, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35, 0x00, 0xff]
        var hello: [UInt8] = [0x03, 0x03]
        hello += (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        hello += [0x00]
        hello += [UInt8(suites.count >> 8), UInt8(suites.count & 0xff)] + suites
        hello += [0x01, 0x00]
        let handshake: [UInt8] = [0x01, 0x00, UInt8(hello.count >> 8), UInt8(hello.count & 0xff)] + hello
        return [0x16, 0x03, 0x01, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xff)] + handshake
    }()

    static func bigEndian32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }
}
