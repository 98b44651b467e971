import Foundation
import Testing

/// TCP mode with content inspection: `tcp-request inspect-delay`, `tcp-request content`
/// rules and `use_backend` on the TLS SNI of a ClientHello (TLS passthrough routing) and
/// on the client address, side by side with HAProxy 2.6 on the same configuration.
@Suite(.serialized) struct TCPRoutingTests {
    static func clientHello(_ name: String) throws -> [UInt8] {
        let script = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/client_hello.py").path
        let run = try FulcrumProcess.run([script, name], executable: URL(fileURLWithPath: "/usr/bin/python3"))
        let hex = Array(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 1 < hex.count {
            out.append(UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16)!)
            i += 2
        }
        return out
    }

    /// The name of the backend that greeted a connection sending `bytes` first.
    static func greeter(_ port: Int, _ bytes: [UInt8], source: String = "127.0.0.1") throws -> String {
        let c = try HTTPTestConnection(port: port, timeout: 5, source: source)
        if !bytes.isEmpty { c.send(bytes) }
        c.shutdownWrite()
        let all = (try? c.readToEnd()) ?? []
        return String(decoding: all, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "(closed)"
    }

    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func routesOnServerNameAndAddress() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try TCPProxyTests().startBackends(running, names: ["www", "api", "lan", "other"])
        func config(_ port: Int) -> String {
            """
            defaults
                mode tcp
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend tls
                bind 127.0.0.1:\(port)
                tcp-request inspect-delay 2s
                tcp-request content reject if { src 127.0.0.9 }
                tcp-request content accept if { req.ssl_hello_type 1 }
                use_backend api if { req.ssl_sni -i api.example.com }
                use_backend lan if { src 127.0.0.2 }
                use_backend %[req.ssl_sni,lower,field(1,.)] if { req.ssl_sni -m end .internal }
                default_backend www
            backend www
                server s 127.0.0.1:\(backends[0])
            backend api
                server s 127.0.0.1:\(backends[1])
            backend lan
                server s 127.0.0.1:\(backends[2])
            backend other
                server s 127.0.0.1:\(backends[3])

            """
        }
        let ports = [Loopback.freePort(), Loopback.freePort()]
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[0])).path])
        try running.start(ACLIntegrationTests.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[1])).path])
        for port in ports { try running.waitForListener(port) }

        let cases: [(String, [UInt8], String, String)] = [
            ("SNI api", try Self.clientHello("API.example.com"), "127.0.0.1", "api"),
            ("SNI www", try Self.clientHello("www.example.com"), "127.0.0.1", "www"),
            ("SNI other.internal", try Self.clientHello("other.internal"), "127.0.0.1", "other"),
            ("SNI nosuch.internal", try Self.clientHello("nosuch.internal"), "127.0.0.1", "www"),
            ("from 127.0.0.2", try Self.clientHello("www.example.com"), "127.0.0.2", "lan"),
            ("plain text, client done sending", Array("hello\n".utf8), "127.0.0.1", "www"),
            ("rejected source", try Self.clientHello("api.example.com"), "127.0.0.9", "(closed)"),
        ]
        for (label, bytes, source, expected) in cases {
            let seen = try ports.map { try Self.greeter($0, bytes, source: source) }
            #expect(seen[0] == expected && seen[1] == expected, "\(label): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        // A hello split across segments (large hellos are): routed on its SNI once whole.
        let hello = try Self.clientHello("api.example.com")
        for port in ports {
            let c = try HTTPTestConnection(port: port, timeout: 5)
            c.send(Array(hello.prefix(100)))
            usleep(200_000)
            c.send(Array(hello.dropFirst(100)))
            c.shutdownWrite()
            let greeting = String(decoding: (try? c.readToEnd()) ?? [], as: UTF8.self).split(separator: "\n").first.map(String.init)
            #expect(greeting == "api", "split hello on \(port): \(greeting ?? "(closed)")")
        }
    }

    /// `tcp-response content` on the server's greeting, next to HAProxy 2.6: a banner
    /// that a rule rejects cuts both connections before a byte reaches the client; one
    /// that passes reaches it whole; `close` ends the server side after what it sent.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func responseContentRulesJudgeTheServersFirstBytes() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try TCPProxyTests().startBackends(running, names: ["bad", "good"])
        let extra = [[Loopback.freePort(), Loopback.freePort()], [Loopback.freePort(), Loopback.freePort()]]
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, which in
            """
            defaults
                mode tcp
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            listen rejecting
                bind 127.0.0.1:\(port)
                tcp-response inspect-delay 2s
                tcp-response content reject if { res.payload(0,3) -m str bad }
                tcp-response content accept if { res.len gt 0 }
                server s 127.0.0.1:\(backends[0])
            listen passing
                bind 127.0.0.1:\(extra[which][0])
                tcp-response inspect-delay 2s
                tcp-response content reject if { res.payload(0,3) -m str bad }
                tcp-response content accept if { res.len gt 0 }
                server s 127.0.0.1:\(backends[1])
            listen closing
                bind 127.0.0.1:\(extra[which][1])
                tcp-response content close if { res.len gt 0 }
                server s 127.0.0.1:\(backends[1])

            """
        }
        for which in 0...1 {
            try running.waitForListener(extra[which][0])
            try running.waitForListener(extra[which][1])
        }
        var seen: [[String]] = []
        for which in 0...1 {
            let rejected = (try? Loopback.exchange(port: ports[which], send: "ping")) ?? "<error>"
            let passed = try Loopback.exchange(port: extra[which][0], send: "ping")
            let closed = (try? Loopback.exchange(port: extra[which][1], send: nil, readGreetingOnly: true)) ?? "<error>"
            seen.append([rejected, passed, closed])
        }
        #expect(seen[0] == seen[1], "Fulcrum \(seen[0]) vs HAProxy \(seen[1])")
        #expect(seen[0][0] == "" && seen[0][1] == "good\npingBYE\n" && seen[0][2].hasPrefix("good"), "\(seen[0])")

        // In an HTTP backend they are refused, never silently ignored.
        let http = try FulcrumProcess.run(["-c", "-f", try FulcrumProcess.temporaryFile(HTTPProxyTests.httpDefaults() + """
            backend web
                tcp-response content reject if { res.len gt 0 }
                server s 127.0.0.1:1

            """).path])
        #expect(http.status == 1 && http.stderr.contains("TCP mode only"), "\(http.stderr)")
    }

    /// `stick store-response res.cook(SID)` with `stick match req.cook(SID)`: the
    /// session cookie a server sets keeps its client there, through Fulcrum as through
    /// HAProxy 2.6.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func storeResponseKeepsTheSessionCookiesServer() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["h1", "h2"])
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
                listen http
                  bind 127.0.0.1:\(port)
                  balance roundrobin
                  stick-table type string len 32 size 1k expire 30m
                  stick match req.cook(SID)
                  stick store-response res.cook(SID)
                  server h1 127.0.0.1:\(backends[0])
                  server h2 127.0.0.1:\(backends[1])

                """
        }
        for (k, port) in ports.enumerated() {
            let who = k == 0 ? "Fulcrum" : "HAProxy"
            func get(_ path: String, cookie: String? = nil) throws -> String {
                try ACLIntegrationTests.see(port, "GET \(path) HTTP/1.1\r\nHost: h\r\n" + (cookie.map { "Cookie: SID=\($0)\r\n" } ?? "") + "Connection: close\r\n\r\n").backend
            }
            let first = try get("/set-cookie?name=SID&value=abc")
            let second = try get("/set-cookie?name=SID&value=xyz")
            #expect(first != second, "\(who): round robin between the two logins")
            for _ in 0..<3 {
                #expect(try get("/echo", cookie: "abc") == first, "\(who): abc stays on \(first)")
                #expect(try get("/echo", cookie: "xyz") == second, "\(who): xyz stays on \(second)")
            }
            let anonymous = Set(try (0..<4).map { _ in try get("/echo") })
            #expect(anonymous.count == 2, "\(who): without the cookie, round robin")
        }
    }

    /// `stick on src` in TCP mode and `stick match`/`store-request` on a header in HTTP
    /// mode: clients stay on the server they got first; `show table` shows the server.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func stickinessThroughStickTables() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tcpBackends = try TCPProxyTests().startBackends(running, names: ["t1", "t2"])
        let httpBackends = try HTTPProxyTests().startBackends(running, ["h1", "h2"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-stick-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func config(_ tcp: Int, _ http: Int, _ socket: String) -> String {
            """
            global
                stats socket \(socket) level admin
            defaults
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            listen tcp
                mode tcp
                bind 127.0.0.1:\(tcp)
                balance roundrobin
                stick-table type ip size 1k expire 30m
                stick on src
                server t1 127.0.0.1:\(tcpBackends[0])
                server t2 127.0.0.1:\(tcpBackends[1])
            listen http
                mode http
                bind 127.0.0.1:\(http)
                balance roundrobin
                stick-table type string len 32 size 1k expire 30m
                stick match req.hdr(x-user)
                stick store-request req.hdr(x-user) if { path /login }
                server h1 127.0.0.1:\(httpBackends[0])
                server h2 127.0.0.1:\(httpBackends[1])

            """
        }
        let ports = [(Loopback.freePort(), Loopback.freePort()), (Loopback.freePort(), Loopback.freePort())]
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[0].0, ports[0].1, sockets[0])).path])
        try running.start(ACLIntegrationTests.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[1].0, ports[1].1, sockets[1])).path])
        for (tcp, http) in ports { try running.waitForListener(tcp); try running.waitForListener(http) }
        var sequences: [[String]] = []
        for (tcp, http) in ports {
            var seen: [String] = []
            for source in ["127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2", "127.0.0.1"] {
                seen.append(try Self.greeter(tcp, Array("x\n".utf8), source: source))
            }
            for (path, user) in [("/login", "ann"), ("/echo", "ann"), ("/echo", "ann"), ("/echo", "bob"), ("/echo", "bob"), ("/login", "bob"), ("/echo", "bob"), ("/echo", "bob")] {
                let r = try ACLIntegrationTests.see(http, "GET \(path) HTTP/1.1\r\nHost: h\r\nX-User: \(user)\r\nConnection: close\r\n\r\n")
                seen.append(r.backend)
            }
            sequences.append(seen)
        }
        let tcp = Array(sequences[0].prefix(5)), http = Array(sequences[0].dropFirst(5))
        #expect(tcp[0] == tcp[2] && tcp[2] == tcp[4] && tcp[1] == tcp[3] && tcp[0] != tcp[1], "each client address keeps its server: \(tcp)")
        #expect(http[1] == http[0] && http[2] == http[0], "ann sticks to the server of her login: \(http)")
        #expect(http[6] == http[5] && http[7] == http[5], "bob sticks after his login: \(http)")
        // Which server comes first depends on where round robin starts (the readiness
        // probes take turns too): compared as patterns, each server named by its first
        // appearance.
        func pattern(_ names: [String]) -> [Int] {
            var seen: [String] = []
            return names.map { name in
                if let k = seen.firstIndex(of: name) { return k }
                seen.append(name)
                return seen.count - 1
            }
        }
        #expect(pattern(Array(sequences[0].prefix(5))) == pattern(Array(sequences[1].prefix(5))) &&
                pattern(Array(sequences[0].dropFirst(5))) == pattern(Array(sequences[1].dropFirst(5))), "HAProxy: \(sequences[1])")
        let table = try RuntimeAPITests.ask(sockets[0], "show table tcp")
        #expect(table.contains("key=127.0.0.1 use=0 exp=") && table.contains(" server_id=1"), "\(table)")
    }
}
