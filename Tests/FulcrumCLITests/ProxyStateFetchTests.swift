import Foundation
import Testing

/// Proxy and server ids (`fe_id`, `be_id`, `srv_id`, with explicit `id`s and the id a
/// stats socket takes) and session rates, next to HAProxy 2.6; and the proxy-state
/// fetches in TCP mode.
@Suite(.serialized) struct ProxyStateFetchTests {
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func idsAndRatesAsHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-ids-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, which in
            "global\n  stats socket \(dir.path)/\(which).sock\n" + HTTPProxyTests.httpDefaults() + """
                frontend web
                  bind 127.0.0.1:\(port)
                  http-request return status 200 content-type text/plain lf-string "fe=%[fe_id] rate=%[fe_sess_rate] other=%[be_sess_rate(spare)]\\n" if { path /fe }
                  use_backend spare if { path_beg /spare }
                  default_backend app
                backend spare
                  id 7
                  http-request return status 200 content-type text/plain lf-string "be=%[be_id] fe=%[fe_id]\\n"
                backend app
                  http-response set-header X-Server-ID %[srv_id]
                  http-response set-header X-Backend-ID %[be_id]
                  server a 127.0.0.1:\(backends[0])
                  server b 127.0.0.1:\(backends[1]) id 12

                """
        }
        for (k, port) in ports.enumerated() {
            var seen: [String] = []
            for _ in 0..<4 {
                let r = try #require(try HTTPTestConnection.get(port, "/"))
                seen.append("\(HTTPProxyTests.backendName(r)) srv=\(r.header("X-Server-ID") ?? "-") be=\(r.header("X-Backend-ID") ?? "-")")
            }
            #expect(Set(seen) == ["a srv=1 be=4", "b srv=12 be=4"], "\(k == 0 ? "Fulcrum" : "HAProxy"): \(seen)")
            #expect(try HTTPTestConnection.get(port, "/spare")?.text == "be=7 fe=2\n", "\(k == 0 ? "Fulcrum" : "HAProxy")")
        }
        // Rates: sessions over the last second, the same for both after the same traffic.
        usleep(1_100_000)
        for port in ports { for _ in 0..<5 { _ = try HTTPTestConnection.get(port, "/") } }
        let fulcrum = try #require(try HTTPTestConnection.get(ports[0], "/fe")).text
        let haproxy = try #require(try HTTPTestConnection.get(ports[1], "/fe")).text
        #expect(fulcrum.hasPrefix("fe=2 rate="), "\(fulcrum)")
        #expect(haproxy.hasPrefix("fe=2 rate="), "\(haproxy)")
        // HAProxy's rate is a sliding count over the last second; Fulcrum's is the last
        // whole second, read once a second: both see the burst, not necessarily equally.
        let rate = Int(fulcrum.split(separator: " ")[1].dropFirst(5)) ?? -1
        #expect((0...12).contains(rate), "\(fulcrum)")
    }

    /// TCP mode: `nbsrv`, `be_conn`, `srv_is_up`, `fe_id` in `tcp-request content` rules.
    @Test func proxyStateFetchesInTCPMode() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tcpScript = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/tcp_backend.py").path
        let backendPort = Loopback.freePort(), front = Loopback.freePort(), dead = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", tcpScript, "one", String(backendPort)])
        try running.waitForListener(backendPort)
        _ = try HTTPProxyTests().startFulcrum(running, """
            defaults
                mode tcp
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend in
                bind 127.0.0.1:\(front)
                tcp-request content reject if { nbsrv(pool) lt 1 }
                tcp-request content reject unless { fe_id 1 }
                tcp-request content reject unless { srv_is_up(pool/one) }
                tcp-request content reject if { srv_is_up(pool/gone) }
                default_backend pool
            backend pool
                server one 127.0.0.1:\(backendPort) check inter 200
                server gone 127.0.0.1:\(dead) check inter 200

            """, waitFor: front)
        usleep(900_000)
        #expect(try Loopback.exchange(port: front, send: "ping") == "one\npingBYE\n", "every condition holds: the connection is relayed")
    }
}

/// `http-after-response` rules on every answer, Fulcrum's own included (deny, redirect,
/// return, error pages), next to HAProxy 2.6.
@Suite(.serialized) struct AfterResponseTests {
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func afterResponseRulesEditOwnAnswersToo() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a"])
        let dead = Loopback.freePort()
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
                frontend web
                  bind 127.0.0.1:\(port)
                  http-request deny if { path /deny }
                  http-request redirect location /elsewhere if { path /redirect }
                  http-request return status 200 content-type text/plain string "here\\n" if { path /return }
                  use_backend gone if { path /gone }
                  http-after-response set-header X-After yes
                  http-after-response set-status 418 if { status 403 }
                  default_backend app
                backend app
                  server a 127.0.0.1:\(backends[0])
                backend gone
                  server g 127.0.0.1:\(dead)

                """
        }
        var outcomes: [[String]] = []
        for port in ports {
            var seen: [String] = []
            for path in ["/", "/deny", "/redirect", "/return", "/gone"] {
                let c = try HTTPTestConnection(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                let r = try #require(try c.readResponse())
                seen.append("\(path) \(r.status) after=\(r.header("x-after") ?? "-")")
            }
            outcomes.append(seen)
        }
        #expect(outcomes[0] == outcomes[1], "Fulcrum \(outcomes[0]) vs HAProxy \(outcomes[1])")
        #expect(outcomes[0].allSatisfy { $0.hasSuffix("after=yes") })
        #expect(outcomes[0].contains("/deny 418 after=yes"))
    }
}

/// `return` with a whole message: `default-errorfiles`, `errorfile <file>`, `errorfiles
/// <section>`, next to HAProxy 2.6; an unknown section is a configuration error.
@Suite(.serialized) struct ReturnErrorFileTests {
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func returnSendsErrorFilesAsHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-return-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func page(_ name: String, _ status: String, _ body: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try "HTTP/1.1 \(status)\r\ncontent-type: text/plain\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)".write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let own503 = try page("503.http", "503 Service Unavailable", "proxy page\n")
        let file403 = try page("403.http", "403 Forbidden", "from a file\n")
        let section404 = try page("404.http", "404 Not Found", "from a section\n")
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
                http-errors site
                  errorfile 404 \(section404)
                frontend web
                  bind 127.0.0.1:\(port)
                  errorfile 503 \(own503)
                  http-request return status 503 default-errorfiles if { path /own }
                  http-request return status 403 errorfile \(file403) if { path /file }
                  http-request return status 404 errorfiles site hdr x-ignored yes if { path /section }
                  http-request return status 202 if { path /dummy }

                """
        }
        var answers: [[String]] = []
        for port in ports {
            var seen: [String] = []
            for path in ["/own", "/file", "/section", "/dummy"] {
                let c = try HTTPTestConnection(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                let r = try #require(try c.readResponse())
                seen.append("\(path) \(r.status) \(r.text.debugDescription) ignored=\(r.header("x-ignored") ?? "-")")
            }
            answers.append(seen)
        }
        #expect(answers[0] == answers[1], "Fulcrum \(answers[0]) vs HAProxy \(answers[1])")
        #expect(answers[0].first == "/own 503 \"proxy page\\n\" ignored=-")

        let bad = try FulcrumProcess.run(["-c", "-f", try FulcrumProcess.temporaryFile(HTTPProxyTests.httpDefaults() + """
            http-errors site
              errorfile 404 \(section404)
            frontend web
              bind 127.0.0.1:1
              http-request return status 404 errorfiles sitee

            """).path])
        #expect(bad.status == 1 && bad.stderr.contains("unknown http-errors section 'sitee'") && bad.stderr.contains("did you mean 'site'"), "\(bad.stderr)")
    }
}

/// `bytes_in_cnt`/`bytes_out_cnt` of tracked entries count what their requests moved:
/// the request bytes sent on to the server and the response bytes the client got.
/// HAProxy counts its internal (HTX) sizes, which differ from the wire by a few bytes a
/// request, so only the request count is compared with it exactly.
@Suite(.serialized) struct TrackedBytesTests {
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func trackedEntriesCountBytes() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-bytes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, which in
            "global\n  stats socket \(sockets[which]) level admin\n" + HTTPProxyTests.httpDefaults() + """
                frontend web
                  bind 127.0.0.1:\(port)
                  stick-table type ip size 1k expire 1m store http_req_cnt,bytes_in_cnt,bytes_out_cnt
                  http-request track-sc0 src
                  default_backend app
                backend app
                  server a 127.0.0.1:\(backends[0])

                """
        }
        var entries: [[String: Int]] = []
        var received = 0
        for (k, port) in ports.enumerated() {
            for path in ["/13", "/a-longer-path", "/x"] {
                let c = try HTTPTestConnection(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\n\r\n")
                let r = try #require(try c.readResponse())
                if k == 0 { received += r.raw.count }
            }
            usleep(100_000)
            let shown = try RuntimeAPITests.ask(sockets[k], "show table web")
            let line = shown.split(separator: "\n").first { $0.contains("key=127.0.0.1") } ?? ""
            var fields: [String: Int] = [:]
            for word in line.split(separator: " ") {
                let pair = word.split(separator: "=", maxSplits: 1)
                if pair.count == 2, let n = Int(pair[1]) { fields[String(pair[0])] = n }
            }
            entries.append(fields)
        }
        #expect(entries[0]["http_req_cnt"] == 3 && entries[1]["http_req_cnt"] == 3)
        let sent = ["/13", "/a-longer-path", "/x"].reduce(0) { $0 + "GET \($1) HTTP/1.1\r\nHost: h\r\n\r\n".utf8.count }
        #expect(entries[0]["bytes_in_cnt"] == sent, "\(entries[0])")
        #expect(entries[0]["bytes_out_cnt"] == received, "\(entries[0]), client received \(received)")
        #expect((entries[1]["bytes_in_cnt"] ?? 0) > 0 && (entries[1]["bytes_out_cnt"] ?? 0) > 0, "HAProxy counts too: \(entries[1])")
    }
}
