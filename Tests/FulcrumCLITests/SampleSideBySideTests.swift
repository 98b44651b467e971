import Foundation
import Testing

/// Sample fetches and converters evaluated by the real `fulcrum` and by HAProxy 2.6 on
/// the same inputs: each proxy answers `http-request return lf-string` with the
/// expressions' values, and the bodies must be the same.
@Suite(.serialized) struct SampleSideBySideTests {
    static let haproxy = ACLIntegrationTests.haproxy

    /// The body each proxy answers to `request`.
    static func bodies(_ ports: [Int], _ request: String) throws -> [String] {
        try ports.map { port in
            let c = try HTTPTestConnection(port: port)
            c.send(request)
            return try c.readResponse()?.text ?? "(no response)"
        }
    }

    /// Digests, HMACs (a base64 key, and one in a variable), the xxHash family with and
    /// without seeds (negative ones too) and CRC-32C, on empty, short and long inputs.
    @Test(.enabled(if: haproxy != nil)) func hashAndDigestConverters() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let expressions = [
            "sha1,hex", "sha2,hex", "sha2(224),hex", "sha2(384),hex", "sha2(512),hex", "digest(md5),hex", "digest(sha512-256),hex",
            "hmac(sha256,SmVmZQ==),hex", "hmac(sha1,txn.key),hex", "hmac(md5,txn.nokey),hex", "xxh32", "xxh32(-5)", "xxh64",
            "xxh64(7)", "xxh3", "xxh3(-1)", "xxh3(123456789)", "crc32c",
        ]
        let format = expressions.enumerated().map { "\($0.offset)=%[req.hdr(x-in),\($0.element)]" }.joined(separator: " ")
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                http-request set-var(txn.key) req.hdr(x-key)
                http-request return status 200 content-type text/plain lf-string "\(format)\\n"

            """
        }
        let long = String(repeating: "0123456789abcdefghijklmnopqrstuvwxyz", count: 40)
        for input in ["", "a", "abc", "12345678", "123456789", "hello world, 17b", String(long.prefix(100)), String(long.prefix(200)),
                      String(long.prefix(241)), String(long.prefix(1100))] {
            let request = "GET / HTTP/1.1\r\nHost: h\r\nX-In: \(input)\r\nX-Key: a2V5\r\nConnection: close\r\n\r\n"
            let seen = try Self.bodies(ports, request)
            #expect(seen[0] == seen[1], "input of \(input.count) bytes: Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        #expect(try Self.bodies([ports[0]], "GET / HTTP/1.1\r\nHost: h\r\nX-In: 123456789\r\n\r\n")[0].contains(" 17=3808858755\n"))
    }
}
