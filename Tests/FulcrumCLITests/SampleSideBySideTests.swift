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
            "xxh64(7)", "xxh3", "xxh3(-1)", "xxh3(123456789)", "crc32c", "crc32c(1)",
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
        #expect(try Self.bodies([ports[0]], "GET / HTTP/1.1\r\nHost: h\r\nX-In: 123456789\r\n\r\n")[0].contains(" 17=3808858755 18=1236241323\n"))
    }

    /// `show table` with data filters and a key, `clear table` with both, and their
    /// error messages, asked of both proxies after the same requests filled their tables.
    @Test(.enabled(if: haproxy != nil)) func showAndClearTableWithFilters() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-tables-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, k in
            "global\n    stats socket \(sockets[k]) level admin\n" + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                stick-table type string len 16 size 100 expire 1m store gpc0,http_req_cnt,http_req_rate(10s)
                http-request track-sc0 req.hdr(x-k)
                http-request sc-inc-gpc0(0) if { req.hdr(x-inc) -m found }
                http-request return status 200 content-type text/plain string ok
            backend int
                stick-table type integer size 100 store conn_cnt
            backend ip
                stick-table type ip size 100 store gpc0

            """
        }
        for (key, increments) in [("a", 0), ("b", 1), ("c", 2), ("d", 0)] {
            for port in ports {
                _ = try Self.bodies([port], "GET / HTTP/1.1\r\nHost: h\r\nX-K: \(key)\r\nConnection: close\r\n\r\n")
                for _ in 0..<increments {
                    _ = try Self.bodies([port], "GET / HTTP/1.1\r\nHost: h\r\nX-K: \(key)\r\nX-Inc: 1\r\nConnection: close\r\n\r\n")
                }
            }
        }
        /// Entry addresses and remaining lifetimes differ by nature.
        func normalized(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                guard line.hasPrefix("0x"), let colon = line.firstIndex(of: ":") else { return String(line) }
                return "ENTRY" + line[colon...].split(separator: " ").map { $0.hasPrefix("exp=") ? "exp=T" : String($0) }.joined(separator: " ")
            }.joined(separator: "\n")
        }
        let commands = [
            "show table fe", "show table fe data.gpc0 gt 0", "show table fe data.gpc0 gt 0 data.http_req_cnt ge 3",
            "show table fe data.http_req_rate eq 1", "show table fe data.gpc0 ne 1", "show table fe data.gpc0 le 1 data.gpc0 lt 1",
            "show table fe key b", "show table fe key zz", "show table fe key", "show table fe key b extra",
            "show table fe data.conn_cnt gt 0", "show table fe data.gpc0 xx 0", "show table fe data.gpc0 gt", "show table fe data.gpc0 gt abc",
            "show table fe data.gpc0 gt 1x", "show table fe data.gpc0 gt -1", "show table fe data.nosuch gt 1", "show table fe foo",
            "show table fe data.gpc0 gt 0 data.http_req_cnt", "show table fe key b data.gpc0 gt 0",
            "show table fe data.gpc0 gt 0 data.gpc0 gt 0 data.gpc0 gt 0 data.gpc0 gt 0 data.gpc0 gt 0",
            "show table ip key 1.2.3.4", "show table ip key notanip", "show table int key 12", "show table int key 12x", "show table int key abc",
            "show table int key -1", "show table nosuch", "show table nosuch key a",
            "clear table", "clear table nosuch", "clear table fe foo", "clear table fe key", "clear table int key abc",
            "clear table fe data.gpc0 xx 1", "clear table fe data.nosuch eq 1", "clear table fe data.conn_cnt eq 1",
            "clear table fe data.gpc0 ge 2", "show table fe",
            "clear table fe data.gpc0 eq 0 data.http_req_cnt eq 1", "show table fe",
            "clear table fe key zz", "clear table fe key b", "show table fe",
        ]
        for command in commands {
            let answers = try sockets.map { normalized(try RuntimeAPITests.ask($0, command)) }
            #expect(answers[0] == answers[1], "\(command): Fulcrum \(answers[0]), HAProxy \(answers[1])")
        }
        // The clears above left nothing: c (gpc0 ge 2), a and d (gpc0 eq 0, one request), b (its key).
        #expect(try RuntimeAPITests.ask(sockets[0], "show table fe") == "# table: fe, type: string, size:100, used:0\n\n")
    }

    /// TCP mode: `req.payload_lv` with the block just after its length, at an absolute
    /// offset and at relative ones, a block that arrives in two segments, too short and
    /// empty blocks; `req.ssl_ver` with HAProxy's MAJOR.MINOR patterns, ranges and operators.
    @Test(.enabled(if: haproxy != nil)) func payloadLengthValueAndTLSVersionPatterns() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try TCPProxyTests().startBackends(running, names: ["www", "api", "lan", "other"])
        let fetches = ["req.payload_lv(0,2)", "payload_lv(1,1,8)", "req.payload_lv(0,1,+2)", "req.payload_lv(4,1,-4)"]
        func config(_ ports: [Int]) -> String {
            var text = "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"
            for (fetch, port) in zip(fetches, ports) {
                text += """
                frontend fe\(port)
                    bind 127.0.0.1:\(port)
                    tcp-request inspect-delay 3s
                    tcp-request content accept if { \(fetch) -m found }
                    use_backend %[\(fetch)] if { \(fetch) -m found }
                    default_backend www

                """
            }
            text += """
            frontend tls
                bind 127.0.0.1:\(ports[4])
                tcp-request inspect-delay 3s
                tcp-request content accept if { req.ssl_hello_type 1 }
                use_backend lan if { req.ssl_ver 3.1 }
                use_backend api if { req.ssl_ver 3.2:3.4 }
                use_backend other if { req.ssl_ver gt 3.4 } || { req.ssl_ver lt 3 }
                default_backend www

            """
            for (name, port) in zip(["www", "api", "lan", "other"], backends) {
                text += "backend \(name)\n    server s 127.0.0.1:\(port)\n"
            }
            return text
        }
        let ports = [(0..<5).map { _ in Loopback.freePort() }, (0..<5).map { _ in Loopback.freePort() }]
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[0])).path])
        try running.start(Self.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[1])).path])
        for port in ports.joined() { try running.waitForListener(port) }

        func bytes(_ parts: [Any]) -> [UInt8] {
            parts.flatMap { ($0 as? String).map { Array($0.utf8) } ?? ($0 as? [UInt8]) ?? [] }
        }
        let cases: [(Int, String, [UInt8])] = [
            (0, "after the length", bytes([[0, 3] as [UInt8], "apiXYZ"])),
            (0, "another block", bytes([[0, 3] as [UInt8], "lan"])),
            (0, "too short", bytes([[0, 9] as [UInt8], "api"])),
            (0, "empty block", bytes([[0, 0] as [UInt8], "api"])),
            (0, "length beyond a buffer", bytes([[0xFF, 0xFF] as [UInt8], "api"])),
            // HAProxy 2.6 halves an unsigned offset2: 8 starts at byte 4.
            (1, "absolute offset", bytes(["x", [3] as [UInt8], "xxapi"])),
            (1, "absolute offset, not halved", bytes(["x", [3] as [UInt8], "xxxxxxapi"])),
            (2, "relative offset", bytes([[3] as [UInt8], "..api"])),
            (3, "negative relative offset", bytes(["Xlan", [3] as [UInt8]])),
        ]
        for (k, label, payload) in cases {
            let seen = try (0..<2).map { try TCPRoutingTests.greeter(ports[$0][k], payload) }
            #expect(seen[0] == seen[1], "\(label): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        #expect(try TCPRoutingTests.greeter(ports[0][0], bytes([[0, 3] as [UInt8], "api"])) == "api")
        // The block arrives in two segments: both wait for it.
        for side in 0..<2 {
            let c = try HTTPTestConnection(port: ports[side][0], timeout: 5)
            c.send([0, 3, UInt8(ascii: "l")])
            usleep(200_000)
            c.send(Array("an".utf8))
            let greeting = String(decoding: try c.readBytes(4), as: UTF8.self)
            #expect(greeting == "lan\n", "split block on side \(side): \(greeting)")
        }
        // The version offered in the hello counts, not the record's.
        let hello = try TCPRoutingTests.clientHello("www.example.com")
        for (record, offered, label) in [(UInt8(1), UInt8(1), "TLS 1.0"), (1, 3, "TLS 1.2 in a 3.1 record"), (3, 4, "3.4"), (1, 7, "3.7")] {
            var h = hello
            h[2] = record
            h[10] = offered
            let seen = try (0..<2).map { try TCPRoutingTests.greeter(ports[$0][4], h) }
            #expect(seen[0] == seen[1], "\(label): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        var h = hello
        h[10] = 1
        #expect(try TCPRoutingTests.greeter(ports[0][4], h) == "lan")
        #expect(try TCPRoutingTests.greeter(ports[0][1], bytes(["x", [3] as [UInt8], "xxapi"])) == "api")
    }

    /// `declare capture request|response` slots among `capture ... header` ones, filled
    /// by `http-request capture ... id` (in the frontend and in the backend, over a
    /// header's slot too) and `http-response capture ... id`, each cut at its slot's
    /// length: the `%hr`/`%hs` of HAProxy 2.6's lines for the same requests.
    @Test(.enabled(if: haproxy != nil)) func captureSlotsDeclaredAndFilledById() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["www"])
        let listeners = [try AccessLogTests.SyslogListener(), try AccessLogTests.SyslogListener()]
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, k in
            "global\n  log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                capture request header Host len 20
                declare capture request len 6
                http-request capture req.hdr(user-agent) len 10
                declare capture response len 4
                capture response header X-Backend len 8
                http-request capture req.hdr(x-a) id 1
                http-request capture path id 0 if { req.hdr(x-path) -m found }
                http-response capture res.hdr(content-type) id 0
                log-format "%hr %hs %{+Q}r"
                default_backend b
            backend b
                http-request capture req.hdr(x-b) id 2
                http-request set-var(txn.status) req.hdr(x-status)
                http-response capture status id 1 if { var(txn.status) -m found }
                server w 127.0.0.1:\(backends[0])

            """
        }
        var lines: [[String]] = []
        for k in 0..<2 {
            _ = listeners[k].drain()
            for extra in ["User-Agent: agent-long-name\r\nX-A: abcdefghij\r\n", "X-B: from-backend-rule\r\nX-Path: 1\r\nX-Status: 1\r\n", ""] {
                let c = try HTTPTestConnection(port: ports[k])
                c.send("GET /some/long/path/here/and/more HTTP/1.1\r\nHost: www.example.com\r\n\(extra)Connection: close\r\n\r\n")
                _ = try c.readResponse()
            }
            usleep(300_000)
            lines.append(listeners[k].drain().compactMap { $0.split(separator: ":", maxSplits: 3).last.map { String($0.dropFirst()).trimmingCharacters(in: .newlines) } })
        }
        #expect(lines[0].count == 3 && lines[0] == lines[1], "Fulcrum \(lines[0]), HAProxy \(lines[1])")
        #expect(lines[0].first?.hasPrefix("{www.example.com|abcdef|agent-long} {appl|www}") == true, "\(lines[0])")
    }

    /// Capture slots that do not exist, and `len` in a response rule, are refused with
    /// the rule's line, as HAProxy refuses them.
    @Test func badCaptureSlotsAreRefused() throws {
        let base = HTTPProxyTests.httpDefaults() + "frontend fe\n    bind 127.0.0.1:1\n    declare capture request len 8\n    declare capture response len 8\n"
        for (rules, message) in [
            ("    http-request capture hdr(x) id 1\n", "unable to find capture id '1' referenced by http-request capture rule"),
            ("    http-response capture res.hdr(x) id 1\n", "unable to find capture id '1' referenced by http-response capture rule"),
            ("    http-response capture res.hdr(x) len 4\n", "expects 'id', found 'len'"),
            ("    declare capture request len 0\n", "length must be > 0"),
            ("    declare capture request 8\n", "requires a capture length ('len')"),
        ] {
            let run = try FulcrumProcess.run(["-c", "-f", try FulcrumProcess.temporaryFile(base + rules + "    default_backend b\nbackend b\n    server s 127.0.0.1:1\n").path])
            #expect(run.status != 0 && run.stderr.contains(message), "\(rules): \(run.stderr)")
        }
    }

    /// `option http-buffer-request` with chunked bodies: rules see the data de-chunked
    /// (extensions and trailers left out, a body sent in pieces waited for), and the
    /// server still receives the whole body.
    @Test(.enabled(if: haproxy != nil)) func chunkedRequestBodiesForRules() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["www", "rpc"])
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                option http-buffer-request
                http-request return status 200 content-type text/plain lf-string "len=%[req.body_len] body=%[req.body] p=%[req.body_param(a)]" if { path /show }
                use_backend rpc if { req.body -m sub admin }
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])
            backend rpc
                server r 127.0.0.1:\(backends[1])

            """
        }
        let cases: [(String, [String])] = [
            ("/show", ["5\r\nhello\r\n6;ext=1\r\n wo", "rld\r\n0\r\n\r\n"]),
            ("/show", ["4\r\na=1&\r\n3\r\nb=2\r\n0\r\nX-Trailer: t\r\n\r\n"]),
            ("/show", ["0\r\n\r\n"]),
            ("/upload", ["7\r\nx admin\r\n", "0\r\n\r\n"]),
            ("/upload", ["5\r\nplain\r\n0\r\n\r\n"]),
            ("/upload", Array(repeating: "3e8\r\n" + String(repeating: "z", count: 1000) + "\r\n", count: 40) + ["5\r\nadmin\r\n0\r\n\r\n"]),
        ]
        for (path, pieces) in cases {
            let seen = try ports.map { port -> String in
                let c = try HTTPTestConnection(port: port)
                c.send("POST \(path) HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                for piece in pieces {
                    usleep(50_000)
                    c.send(piece)
                }
                guard let r = try c.readResponse() else { return "(no response)" }
                return "\(r.status) \(r.header("X-Backend") ?? "-") \(r.text)"
            }
            #expect(seen[0] == seen[1], "\(path) \(pieces.count) pieces: Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        let c = try HTTPTestConnection(port: ports[0])
        c.send("POST /show HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(try c.readResponse()?.text == "len=5 body=hello p=")
    }
}
