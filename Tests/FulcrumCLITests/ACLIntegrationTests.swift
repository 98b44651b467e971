import Foundation
import Testing

/// ACLs, content switching and rule actions on the real `fulcrum` process, each request
/// also sent to HAProxy 2.6 running the same configuration: what the client sees must
/// agree (status, Location, body, which backend answered, the headers it received).
@Suite(.serialized) struct ACLIntegrationTests {
    static let haproxy = FulcrumProcess.which("haproxy")

    /// The frontend under test; `PORT`, `WWW`, `API` and `STATIC` are filled in.
    static let config = """
        defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s
        frontend fe
            bind 127.0.0.1:PORT
            acl is_api path_beg /api/
            acl is_static path_end .css .js .png
            acl host_static hdr(host) -i static.example.com
            acl is_local src 127.0.0.1
            acl is_post method POST
            http-request deny if { path_beg /admin } !is_local
            http-request deny if { path /private }
            http-request deny deny_status 429 if { path /slow-down }
            http-request redirect scheme https code 301 if { hdr(host) -i secure.example.com }
            http-request redirect location /new-home code 302 if { path /old-home }
            http-request redirect prefix /v2 if { path_beg /v1/ }
            http-request return status 200 content-type text/plain string "pong" if { path /ping }
            http-request set-header X-Route api if is_api
            http-request del-header X-Internal if is_api
            http-request set-header X-Client %[src] if is_api
            use_backend api if is_api
            use_backend static if is_static || host_static
            use_backend api if is_post
            use_backend %[req.hdr(x-pick)] if { req.hdr(x-pick) -m found }
            default_backend www
        backend www
            server w1 127.0.0.1:WWW
        backend api
            http-request set-path %[path,regsub(^/api/,/)]
            server a1 127.0.0.1:API
        backend static
            server s1 127.0.0.1:STATIC
        """

    /// Fulcrum, then HAProxy, each on a free port with the configuration `config` makes
    /// for that port (and the proxy's index, 0 or 1); their ports.
    static func startSideBySide(_ running: RunningProcesses, _ config: (Int, Int) throws -> String) throws -> [Int] {
        let ports = [Loopback.freePort(), Loopback.freePort()]
        _ = try HTTPProxyTests().startFulcrum(running, try config(ports[0], 0), waitFor: ports[0])
        try running.start(haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(try config(ports[1], 1)).path])
        try running.waitForListener(ports[1])
        return ports
    }

    struct Seen: Equatable, CustomStringConvertible {
        var status: Int
        var backend: String
        var location: String?
        var contentType: String?
        var body: String?
        var path: String?
        var headers: [String]

        var description: String { "\(status) \(backend) loc=\(location ?? "-") ct=\(contentType ?? "-") body=\(body ?? "-") path=\(path ?? "-") \(headers)" }
    }

    /// What a client sees for one raw request: status, backend, location, the echoed
    /// path and the request headers that reached the backend (names lower-cased, as
    /// HAProxy's HTTP layer sends them).
    static func see(_ port: Int, _ request: String, source: String = "127.0.0.1") throws -> Seen {
        let c = try HTTPTestConnection(port: port, source: source)
        c.send(request)
        guard let r = try c.readResponse() else { return Seen(status: 0, backend: "", headers: []) }
        let json = r.header("X-Backend") == nil ? nil : r.json
        // Error pages differ in their prose only (each proxy words its own).
        let body = r.header("X-Backend") == nil && r.header("content-type") != "text/html" ? r.text : nil
        let headers = r.receivedHeaders.map { "\($0.0.lowercased()): \($0.1)" }.filter { !$0.hasPrefix("user-agent") }
        return Seen(status: r.status, backend: r.header("X-Backend") ?? "-", location: r.header("location"),
                    contentType: r.header("content-type"), body: body, path: json?["path"] as? String, headers: headers)
    }

    static let requests: [(String, String, String)] = [
        ("/", "www.example.com", ""),
        ("/api/users?id=7", "www.example.com", "X-Internal: secret\r\n"),
        ("/img/logo.png", "www.example.com", ""),
        ("/", "STATIC.example.com", ""),
        ("/admin/panel", "www.example.com", ""),
        ("/private", "www.example.com", ""),
        ("/slow-down", "www.example.com", ""),
        ("/a/b?c=d&e=f", "secure.example.com", ""),
        ("/old-home", "www.example.com", ""),
        ("/v1/items?x=1", "www.example.com", ""),
        ("/ping", "www.example.com", ""),
        ("/echo", "www.example.com", "X-Pick: static\r\n"),
        ("/echo", "www.example.com", "X-Pick: nosuchbackend\r\n"),
    ]

    @Test(.enabled(if: haproxy != nil)) func routingAndRulesAgreeWithHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www", "api", "static"])
        func text(_ port: Int) -> String {
            (Self.config + "\n").replacingOccurrences(of: "PORT", with: String(port)).replacingOccurrences(of: "WWW", with: String(backends[0]))
                .replacingOccurrences(of: "API", with: String(backends[1])).replacingOccurrences(of: "STATIC", with: String(backends[2]))
        }
        let fulcrumPort = Loopback.freePort(), haproxyPort = Loopback.freePort()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("acl-haproxy-\(UUID().uuidString).log")
        try running.start(Self.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(text(haproxyPort)).path], stderr: errors)
        do { try running.waitForListener(haproxyPort) } catch {
            let p = running.processes.last!
            Issue.record("haproxy did not start (running: \(p.isRunning)): \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            throw error
        }
        _ = try tests.startFulcrum(running, text(fulcrumPort), waitFor: fulcrumPort)

        var sent: [(String, String)] = Self.requests.map { path, host, extra in
            (path, "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\(extra)Connection: close\r\n\r\n")
        }
        sent.append(("POST", "POST /form HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"))
        for (label, request) in sent {
            let mine = try Self.see(fulcrumPort, request)
            let reference = try Self.see(haproxyPort, request)
            #expect(mine == reference, "\(label): Fulcrum \(mine) but HAProxy \(reference)")
        }
        // The outcomes themselves, so that a bug shared with a misconfigured reference
        // cannot pass.
        #expect(try Self.see(fulcrumPort, "GET /api/users?id=7 HTTP/1.1\r\nHost: h\r\nX-Internal: s\r\n\r\n").path == "/users?id=7")
        #expect(try Self.see(fulcrumPort, "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n").status == 200)
        #expect(try Self.see(fulcrumPort, "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n", source: "127.0.0.2").status == 403)
        #expect(try Self.see(haproxyPort, "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n", source: "127.0.0.2").status == 403)
        let redirect = try Self.see(fulcrumPort, "GET /a/b?c=d HTTP/1.1\r\nHost: secure.example.com\r\n\r\n")
        #expect(redirect.status == 301 && redirect.location == "https://secure.example.com/a/b?c=d")
        #expect(try Self.see(fulcrumPort, "GET /ping HTTP/1.1\r\nHost: h\r\n\r\n").body == "pong")
        #expect(try Self.see(fulcrumPort, "GET /x.css HTTP/1.1\r\nHost: h\r\n\r\n").backend == "static")
    }

    /// Host-based routing through a map file, changed from the runtime API while both
    /// proxies run: `add map`, `set map`, `del map` take effect on the next request,
    /// and `add acl` on a `-f` pattern list too.
    @Test(.enabled(if: haproxy != nil)) func mapRoutingReloadedFromTheRuntimeAPI() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www", "api", "fallback"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-map-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let map = dir.appendingPathComponent("hosts.map").path, blocked = dir.appendingPathComponent("blocked.lst").path
        try "# host backend\nwww.example.com www\n".write(toFile: map, atomically: true, encoding: .utf8)
        try "/nothing-yet\n".write(toFile: blocked, atomically: true, encoding: .utf8)
        func config(_ port: Int, _ socket: String) -> String {
            "global\n    stats socket \(socket) level admin\n" + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                http-request deny if { path -f \(blocked) }
                use_backend %[req.hdr(host),lower,map(\(map),fallback)]
            backend www
                server w 127.0.0.1:\(backends[0])
            backend api
                server a 127.0.0.1:\(backends[1])
            backend fallback
                server f 127.0.0.1:\(backends[2])

            """
        }
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        let ports = try Self.startSideBySide(running) { port, k in config(port, sockets[k]) }
        let (fulcrumPort, haproxyPort) = (ports[0], ports[1]), (fulcrumSocket, haproxySocket) = (sockets[0], sockets[1])

        func backend(_ port: Int, _ host: String, _ path: String = "/echo") throws -> String {
            let seen = try Self.see(port, "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            return seen.status == 200 ? seen.backend : String(seen.status)
        }
        let steps: [(command: String?, host: String, path: String, expected: String)] = [
            (nil, "WWW.example.com", "/echo", "www"),
            (nil, "api.example.com", "/echo", "fallback"),
            ("add map \(map) api.example.com api", "api.example.com", "/echo", "api"),
            ("set map \(map) api.example.com www", "api.example.com", "/echo", "www"),
            ("del map \(map) api.example.com", "api.example.com", "/echo", "fallback"),
            ("add acl \(blocked) /echo", "www.example.com", "/echo", "403"),
            ("del acl \(blocked) /echo", "www.example.com", "/echo", "www"),
        ]
        for step in steps {
            if let command = step.command {
                #expect(try RuntimeAPITests.ask(fulcrumSocket, command) == "\n", "\(command)")
                #expect(try RuntimeAPITests.ask(haproxySocket, command) == "\n", "\(command)")
            }
            let mine = try backend(fulcrumPort, step.host, step.path), reference = try backend(haproxyPort, step.host, step.path)
            #expect(mine == step.expected && reference == step.expected, "after \(step.command ?? "start"): Fulcrum \(mine), HAProxy \(reference)")
        }
        #expect(try RuntimeAPITests.ask(fulcrumSocket, "show map \(map)").hasSuffix(" www.example.com www\n\n"))
        #expect(try RuntimeAPITests.ask(fulcrumSocket, "get map \(map) www.example.com").contains("found=yes"))
        #expect(try RuntimeAPITests.ask(fulcrumSocket, "del map \(map) nope") == "Key not found.\n\n")
    }

    /// A stick table counts each client's requests: past 5 in the 2 s period the client
    /// gets 429, and once the period and the one after have passed it is served again.
    /// HAProxy runs the same configuration and sees the same statuses.
    @Test(.enabled(if: haproxy != nil)) func rateLimitingWithAStickTable() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-rate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func config(_ port: Int, _ socket: String) -> String {
            "global\n    stats socket \(socket) level admin\n" + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                stick-table type ip size 1k expire 30s store http_req_rate(2s),http_err_cnt,conn_cur
                tcp-request connection reject if { src 127.0.0.3 }
                http-request track-sc0 src
                http-request deny deny_status 429 if { sc_http_req_rate(0) gt 5 }
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])

            """
        }
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        let ports = try Self.startSideBySide(running) { port, k in config(port, sockets[k]) }

        func statuses(_ port: Int, _ n: Int, source: String = "127.0.0.1") throws -> [Int] {
            try (0..<n).map { _ in try Self.see(port, "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", source: source).status }
        }
        let burst = try ports.map { try statuses($0, 8) }
        #expect(burst[0] == [200, 200, 200, 200, 200, 429, 429, 429], "Fulcrum: \(burst[0])")
        #expect(burst[0] == burst[1], "HAProxy: \(burst[1])")
        // Another client has its own entry.
        #expect(try ports.map { try statuses($0, 1, source: "127.0.0.2") } == [[200], [200]])
        for k in 0..<2 {
            let table = try RuntimeAPITests.ask(sockets[k], "show table fe")
            #expect(table.hasPrefix("# table: fe, type: ip, size:1024, used:2\n"), "\(table)")
            #expect(table.contains("key=127.0.0.1 use=0 exp=") && table.contains(" conn_cur=0 http_req_rate(2000)=8 http_err_cnt=3\n"), "\(table)")
        }
        // `tcp-request connection reject`: closed without a response.
        for port in ports {
            let c = try HTTPTestConnection(port: port, source: "127.0.0.3")
            c.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n")
            // Closed at once; bytes the client sent unread make it a reset.
            #expect(((try? c.readToEnd()) ?? []).isEmpty)
        }
        usleep(4_200_000)
        let later = try ports.map { try statuses($0, 2) }
        #expect(later[0] == [200, 200] && later[1] == [200, 200], "after two periods: \(later)")
        #expect(try RuntimeAPITests.ask(sockets[0], "clear table fe") == "\n")
        #expect(try RuntimeAPITests.ask(sockets[0], "show table fe") == "# table: fe, type: ip, size:1024, used:0\n\n")
    }

    /// `monitor-uri` and `monitor fail`, `tarpit`, the `redirect` keyword and
    /// `use-server`, side by side with HAProxy.
    @Test(.enabled(if: haproxy != nil)) func monitorTarpitRedirectAndUseServer() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["one", "two"])
        func config(_ port: Int) -> String {
            HTTPProxyTests.httpDefaults(extra: "    timeout tarpit 1s\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                monitor-uri /health
                monitor fail if { hdr(x-fail) -m found }
                http-request tarpit if { path /trap }
                redirect scheme https code 302 if { path /go }
                redirect prefix /new if { path_beg /old/ }
                default_backend b
            backend b
                use-server s2 if { path_beg /two }
                server s1 127.0.0.1:\(backends[0])
                server s2 127.0.0.1:\(backends[1])

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        let requests = [
            "GET /health HTTP/1.1\r\nHost: h\r\n",
            "GET /health HTTP/1.1\r\nHost: h\r\nX-Fail: 1\r\n",
            "GET /go?x=1 HTTP/1.1\r\nHost: www.example.com\r\n",
            "GET /go HTTP/1.1\r\nHost: www.example.com\r\n",
            "GET /old/page?q HTTP/1.1\r\nHost: h\r\n",
            "GET /two/a HTTP/1.1\r\nHost: h\r\n",
            "GET /two/b HTTP/1.1\r\nHost: h\r\n",
        ]
        for request in requests {
            let seen = try ports.map { try Self.see($0, request + "Connection: close\r\n\r\n") }
            #expect(seen[0].status == seen[1].status && seen[0].location == seen[1].location && seen[0].backend == seen[1].backend,
                    "\(request): Fulcrum \(seen[0]) but HAProxy \(seen[1])")
        }
        #expect(try Self.see(ports[0], "GET /two/x HTTP/1.1\r\nHost: h\r\n\r\n").backend == "two")
        #expect(try Self.see(ports[0], "GET /health HTTP/1.1\r\nHost: h\r\nX-Fail: y\r\n\r\n").status == 503)
        for port in ports {
            let start = Date()
            let trapped = try Self.see(port, "GET /trap HTTP/1.1\r\nHost: h\r\n\r\n")
            let waited = Date().timeIntervalSince(start)
            #expect(trapped.status == 500 && waited > 0.9 && waited < 3, "tarpit: \(trapped.status) after \(waited) s")
        }
    }

    /// `userlist` with a crypt(3) SHA-512 hash and a clear text password, `http_auth`,
    /// `http_auth_group` and `http-request auth`, side by side with HAProxy.
    @Test(.enabled(if: haproxy != nil)) func basicAuthenticationWithAUserlist() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www"])
        // `s3cret`, hashed with SHA-512 crypt.
        let hash = "$6$XD.8LP4uEDNdppZ9$qgXVTedZNstZe5mMAcs1EVCbc/suoocfjOUmuxfhesdJa3ShVUzZk4Aikp6oyi/3ui/ZE2/JHkA0jSCLv2zVu."
        func config(_ port: Int) -> String {
            "userlist admins\n    group ops\n    user alice password \(hash) groups ops\n    user bob insecure-password hunter2\n"
                + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                acl auth_ok http_auth(admins)
                acl is_ops http_auth_group(admins) ops
                http-request auth realm Admin if { path_beg /admin } !auth_ok
                http-request deny if { path_beg /ops } !is_ops
                http-request auth if { path_beg /plain } !auth_ok
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        func basic(_ credentials: String) -> String { "Authorization: Basic \(Data(credentials.utf8).base64EncodedString())\r\n" }
        let cases: [(String, String, Int)] = [
            ("/admin", "", 401), ("/admin", basic("alice:s3cret"), 200), ("/admin", basic("alice:wrong"), 401),
            ("/admin", basic("bob:hunter2"), 200), ("/admin", "Authorization: Basic !!!\r\n", 401), ("/ops", basic("bob:hunter2"), 403),
            ("/ops", basic("alice:s3cret"), 200), ("/plain", "", 401),
        ]
        for (path, header, expected) in cases {
            let request = "GET \(path) HTTP/1.1\r\nHost: h\r\n\(header)Connection: close\r\n\r\n"
            let statuses = try ports.map { port -> Int in
                let c = try HTTPTestConnection(port: port)
                c.send(request)
                return try c.readResponse()?.status ?? 0
            }
            #expect(statuses == [expected, expected], "\(path) \(header): Fulcrum \(statuses[0]), HAProxy \(statuses[1])")
        }
        for (port, realm) in [(ports[0], "Admin"), (ports[1], "Admin")] {
            let c = try HTTPTestConnection(port: port)
            c.send("GET /admin HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c.readResponse()?.header("www-authenticate") == "Basic realm=\"\(realm)\"")
        }
        let plain = try HTTPTestConnection(port: ports[0])
        plain.send("GET /plain HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try plain.readResponse()?.header("www-authenticate") == "Basic realm=\"fe\"", "the proxy's name without a realm, as HAProxy")
    }

    /// Rules that change pattern and map files as they run (`add-acl`, `del-acl`,
    /// `set-map`, `del-map`), and `set-log-level silent`, side by side with HAProxy.
    @Test(.enabled(if: haproxy != nil)) func rulesEditMapsAndPatternFiles() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www"])
        func config(_ port: Int, _ dir: URL) throws -> String {
            let banned = dir.appendingPathComponent("banned.lst").path, map = dir.appendingPathComponent("values.map").path
            try "".write(toFile: banned, atomically: true, encoding: .utf8)
            try "k0 v0\n".write(toFile: map, atomically: true, encoding: .utf8)
            return HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                acl banned src -f \(banned)
                http-request del-acl(\(banned)) %[src] if { path /unban }
                http-request add-acl(\(banned)) %[src] if { path /ban }
                http-request deny if banned
                http-request set-map(\(map)) %[req.hdr(x-key)] %[req.hdr(x-value)] if { path /set }
                http-request del-map(\(map)) %[req.hdr(x-key)] if { path /del }
                http-request set-header X-Mapped %[req.hdr(x-key),map(\(map),none)]
                http-request set-log-level silent if { path /quiet }
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])

            """
        }
        let dirs = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-edit-\(UUID().uuidString)") }
        for dir in dirs { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let ports = try Self.startSideBySide(running) { port, k in try config(port, dirs[k]) }
        let steps: [(String, String, String)] = [
            ("/echo", "X-Key: k0\r\n", "200 v0"),
            ("/set", "X-Key: k1\r\nX-Value: one\r\n", "200 one"),
            ("/echo", "X-Key: k1\r\n", "200 one"),
            ("/set", "X-Key: k1\r\nX-Value: uno\r\n", "200 uno"),
            ("/del", "X-Key: k1\r\n", "200 none"),
            ("/ban", "", "403 -"),
            ("/echo", "", "403 -"),
            // Without X-Key the value has no sample: an empty header, as HAProxy.
            ("/unban", "", "200 "),
            ("/echo", "", "200 "),
        ]
        for (path, headers, expected) in steps {
            let seen = try ports.map { port -> String in
                let r = try Self.see(port, "GET \(path) HTTP/1.1\r\nHost: h\r\n\(headers)Connection: close\r\n\r\n")
                return "\(r.status) \(r.headers.first { $0.hasPrefix("x-mapped: ") }.map { String($0.dropFirst(10)) } ?? "-")"
            }
            #expect(seen == [expected, expected], "\(path) \(headers): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
    }

    /// `http-errors` sections imported with `errorfiles`, and `http-error status`:
    /// the pages Fulcrum answers with, as HAProxy's.
    @Test(.enabled(if: haproxy != nil)) func httpErrorsSectionsAndHTTPError() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nsorry".write(to: dir.appendingPathComponent("503.http"), atomically: true, encoding: .utf8)
        try "HTTP/1.1 403 Forbidden\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nnope".write(to: dir.appendingPathComponent("403.http"), atomically: true, encoding: .utf8)
        try "not here\n".write(to: dir.appendingPathComponent("404.txt"), atomically: true, encoding: .utf8)
        let dead = Loopback.freePort()
        func config(_ port: Int) -> String {
            "http-errors site\n    errorfile 503 \(dir.path)/503.http\n    errorfile 403 \(dir.path)/403.http\n" + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                errorfiles site 503
                http-error status 429 content-type text/plain string "slow down" hdr Retry-After 10
                http-error status 403 errorfiles site
                http-error status 404 content-type text/plain file \(dir.path)/404.txt
                http-request deny deny_status 429 if { path /slow }
                http-request deny deny_status 404 if { path /gone }
                http-request deny if { path /forbid }
                default_backend b
            backend b
                server dead 127.0.0.1:\(dead)

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        for (path, status, body) in [("/slow", 429, "slow down"), ("/forbid", 403, "nope"), ("/gone", 404, "not here\n"), ("/x", 503, "sorry")] {
            let seen = try ports.map { port -> (Int, String?, String?) in
                let c = try HTTPTestConnection(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                let r = try c.readResponse()
                return (r?.status ?? 0, r?.header("content-type") == "text/html" ? nil : r?.text, r?.header("retry-after"))
            }
            #expect(seen[0].0 == status && seen[0].1 == body, "\(path): \(seen[0])")
            #expect(seen[0].0 == seen[1].0 && seen[0].1 == seen[1].1 && seen[0].2 == seen[1].2, "\(path): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
    }

    /// `http-error` pages written as log-formats (`lf-string`, `lf-file`, `hdr` values):
    /// rendered for each request that gets them (`deny`, `auth`, `return ...
    /// default-errorfiles`, a server that cannot be reached), a backend's page over its
    /// frontend's; a request that cannot be parsed gets the plain page. Side by side
    /// with HAProxy, headers in order.
    @Test(.enabled(if: haproxy != nil)) func httpErrorLogFormatPages() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-lf-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "gone: %[path] (%[req.hdr(x-who)])\n".write(to: dir.appendingPathComponent("404.lf"), atomically: true, encoding: .utf8)
        let dead = Loopback.freePort()
        func config(_ port: Int) -> String {
            HTTPProxyTests.httpDefaults() + """
            userlist admins
                user admin insecure-password secret
            frontend fe
                bind 127.0.0.1:\(port)
                http-error status 403 content-type text/plain lf-string "denied %[path] for %[var(txn.who)]\\n" hdr X-Path %[path] hdr X-Fixed yes
                http-error status 404 content-type text/plain lf-file \(dir.path)/404.lf
                http-error status 401 content-type text/plain lf-string "who are you, %[req.hdr(x-who)]?"
                http-error status 400 content-type text/plain lf-string "bad %[path]"
                http-error status 503 content-type text/plain lf-string "frontend page %[path]"
                http-request set-var(txn.who) req.hdr(x-who)
                http-request deny if { path_beg /forbid }
                http-request deny deny_status 404 if { path_beg /gone }
                http-request deny deny_status 400 if { path_beg /bad }
                http-request auth if { path_beg /private } !{ http_auth(admins) }
                http-request return status 404 default-errorfiles if { path_beg /fromreturn }
                default_backend b
            backend b
                http-error status 503 content-type text/plain lf-string "no server for %[path] via %[var(txn.who)]" hdr X-Backend-Page %[path,upper]
                server dead 127.0.0.1:\(dead)

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        let requests = ["/forbid/a", "/gone/b?x=1", "/private", "/bad", "/fromreturn", "/down"]
        for path in requests {
            let seen = try ports.map { port -> String in
                let c = try HTTPTestConnection(port: port)
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\nX-Who: ann\r\nConnection: close\r\n\r\n")
                guard let r = try c.readResponse() else { return "none" }
                let headers = r.headers.map { "\($0.name.lowercased()): \($0.value)" }.filter { $0 != "connection: close" }
                return "\(r.status) \(headers) \(r.text)"
            }
            #expect(seen[0] == seen[1], "\(path): Fulcrum \(seen[0]), HAProxy \(seen[1])")
            #expect(seen[0].contains(path.split(separator: "?")[0]) || path == "/private", "\(path): \(seen[0])")
        }
        // A request that could not be parsed has no path to render: the plain 400.
        for port in ports {
            let c = try HTTPTestConnection(port: port)
            c.send("GARBAGE\r\n\r\n")
            let r = try c.readResponse()
            #expect(r?.status == 400 && r?.header("content-type") == "text/html", "port \(port): \(r.map { "\($0.status) \($0.text)" } ?? "none")")
        }
    }

    /// Response rules that answer in the server's place (`deny`, `return`, `redirect`),
    /// `set-status` and `%[status]` in a header, side by side with HAProxy.
    @Test(.enabled(if: haproxy != nil)) func responseRulesAnswerInPlaceOfTheServer() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["one"])
        func config(_ port: Int) -> String {
            HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                default_backend b
            backend b
                http-response deny if { status 500 }
                http-response deny deny_status 403 if { status 501 }
                http-response return status 200 content-type text/plain string replaced if { status 404 }
                http-response redirect location /elsewhere code 302 if { status 410 }
                http-response set-status 299 reason Fine if { status 204 }
                http-response set-header X-Status %[status]
                server s 127.0.0.1:\(backends[0])

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        for (code, expected) in [(500, 502), (501, 403), (404, 200), (410, 302), (204, 299), (200, 200)] {
            let seen = try ports.map { try Self.see($0, "GET /status?code=\(code) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") }
            #expect(seen[0].status == expected && seen[0].location == seen[1].location && seen[0].body == seen[1].body && seen[0].status == seen[1].status,
                    "\(code): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
    }

    /// `del-header -m beg|reg`, `return lf-string` and `file`, and the proxy-state fetches
    /// (`http_first_req`, `be_conn`, `srv_is_up`), side by side with HAProxy.
    @Test(.enabled(if: haproxy != nil)) func headerMatchReturnFormatsAndProxyState() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["one"])
        let body = try FulcrumProcess.temporaryFile("file body\n", name: "body.txt")
        func config(_ port: Int) -> String {
            HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                http-request del-header x-drop- -m beg
                http-request del-header -id$ -m reg
                http-request return status 200 content-type text/plain lf-string "hello %[req.hdr(x-name)] first=%[http_first_req] conn=%[be_conn(b)] up=%[srv_is_up(b/s)]" if { path /hello }
                http-request return status 200 content-type text/plain file \(body.path) if { path /file }
                default_backend b
            backend b
                server s 127.0.0.1:\(backends[0])

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        for request in ["GET /hello HTTP/1.1\r\nHost: h\r\nX-Name: bob\r\n", "GET /file HTTP/1.1\r\nHost: h\r\n",
                        "GET /echo HTTP/1.1\r\nHost: h\r\nX-Drop-A: 1\r\nX-Keep: 2\r\nReq-Id: 3\r\n"] {
            let seen = try ports.map { try Self.see($0, request + "Connection: close\r\n\r\n") }
            #expect(seen[0] == seen[1], "\(request): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        #expect(try Self.see(ports[0], "GET /hello HTTP/1.1\r\nHost: h\r\nX-Name: bob\r\n\r\n").body == "hello bob first=1 conn=0 up=1")
    }

    /// Every way a tracked request can end lets its stick entry go (`use=0`,
    /// `conn_cur=0`): a close-delimited response, a client gone mid-body, a tunnel.
    @Test func trackedEntriesAreReleasedWhateverTheEnd() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["www"])
        let port = Loopback.freePort()
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-track-\(UUID().uuidString).sock").path
        _ = try HTTPProxyTests().startFulcrum(running, "global\n    stats socket \(socket) level admin\n" + HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                stick-table type string len 32 size 100 expire 1m store conn_cur,http_req_cnt
                http-request track-sc0 path
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])

            """, waitFor: port)
        // A response that ends with the connection.
        let a = try HTTPTestConnection(port: port)
        a.send("GET /noclose-length HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try? a.readToEnd()
        // A client that leaves in the middle of its body.
        let b = try HTTPTestConnection(port: port)
        b.send("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\npartial")
        usleep(200_000)
        b.disconnect()
        // A tunnel (101), then closed.
        let c = try HTTPTestConnection(port: port)
        c.send("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(try c.readResponse()?.status == 101)
        c.disconnect()
        usleep(500_000)
        let table = try RuntimeAPITests.ask(socket, "show table fe")
        let entries = table.split(separator: "\n").filter { $0.hasPrefix("0x") }
        #expect(entries.count == 3 && entries.allSatisfy { $0.contains(" use=0 ") && $0.contains(" conn_cur=0 ") }, "\(table)")
    }

    /// Debian's stock error pages are HTTP/1.0 with `Connection: close` and no length:
    /// after one, the connection closes at once rather than waiting for a timeout.
    @Test func errorfileWithoutLengthEndsTheConnection() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let page = try FulcrumProcess.temporaryFile("HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>no</html>\n", name: "403.http")
        let port = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                errorfile 403 \(page.path)
                http-request deny
                default_backend www
            backend www
                server w 127.0.0.1:1

            """, waitFor: port)
        let start = Date()
        let c = try HTTPTestConnection(port: port)
        c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        let all = String(decoding: try c.readToEnd(), as: UTF8.self)
        #expect(all == "HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>no</html>\n", "sent byte for byte: \(all)")
        #expect(Date().timeIntervalSince(start) < 2, "closed at once, not after timeout client")
    }

    /// `option http-buffer-request`: rules route on the body (`req.body`,
    /// `req.body_param`), and the body still reaches the server whole.
    @Test(.enabled(if: haproxy != nil)) func routingOnTheRequestBody() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["www", "rpc"])
        func config(_ port: Int) -> String {
            HTTPProxyTests.httpDefaults() + """
            frontend fe
                bind 127.0.0.1:\(port)
                option http-buffer-request
                http-request set-header X-Body-Length %[req.body_len]
                use_backend rpc if { req.body -m sub \\"admin\\" }
                use_backend rpc if { req.body_param(action) -m str delete }
                default_backend www
            backend www
                server w 127.0.0.1:\(backends[0])
            backend rpc
                server r 127.0.0.1:\(backends[1])

            """
        }
        let ports = try Self.startSideBySide(running) { port, _ in config(port) }
        for body in ["{\"method\":\"admin\"}", "{\"method\":\"read\"}", "a=1&action=delete", "action=keep"] {
            let request = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            let seen = try ports.map { port -> Seen in
                // The body comes a moment after the head: the rules wait for it.
                let c = try HTTPTestConnection(port: port)
                c.send(request)
                usleep(100_000)
                c.send(body)
                guard let r = try c.readResponse() else { return Seen(status: 0, backend: "", headers: []) }
                return Seen(status: r.status, backend: r.header("X-Backend") ?? "-", headers: r.receivedHeaders.filter { $0.0.lowercased() == "x-body-length" }.map { "\($0.0.lowercased()): \($0.1)" })
            }
            #expect(seen[0] == seen[1], "\(body): Fulcrum \(seen[0]), HAProxy \(seen[1])")
        }
        #expect(try Self.see(ports[0], "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 18\r\n\r\n{\"method\":\"admin\"}").backend == "rpc")
    }

    @Test func localResponsesKeepTheConnectionOpen() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tests = HTTPProxyTests()
        let backends = try tests.startBackends(running, ["www"])
        let port = Loopback.freePort()
        _ = try tests.startFulcrum(running, """
            \(HTTPProxyTests.httpDefaults())
            frontend fe
                bind 127.0.0.1:\(port)
                http-request deny if { path /no }
                http-request return status 200 content-type text/plain string ok if { path /yes }
                default_backend www
            backend www
                server w1 127.0.0.1:\(backends[0])
            """, waitFor: port)
        let c = try HTTPTestConnection(port: port)
        c.send("GET /no HTTP/1.1\r\nHost: h\r\n\r\nGET /yes HTTP/1.1\r\nHost: h\r\n\r\nGET /echo HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try c.readResponse()?.status == 403)
        let ok = try c.readResponse()
        #expect(ok?.status == 200 && ok?.text == "ok")
        #expect(try c.readResponse()?.header("X-Backend") == "www")
        // A refused request with a body it has not finished sending closes the connection.
        let d = try HTTPTestConnection(port: port)
        d.send("POST /no HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n")
        let refused = try d.readResponse()
        #expect(refused?.status == 403 && refused?.header("connection") == "close")
        #expect(d.isClosedByPeer())
    }

    @Test func badRulesAreRefusedWithTheirLine() throws {
        let cases: [(String, String)] = [
            ("acl x path_reg (unclosed", "regular expression"),
            ("acl x nosuchfetch foo", "unknown fetch method 'nosuchfetch'"),
            ("acl x path,nosuchconv foo", "unknown converter 'nosuchconv'"),
            ("acl x src -f /nonexistent/list.acl", "failed to open pattern file"),
            ("http-request deny if ghost", "no such ACL : 'ghost'"),
            ("use_backend b if { path /x", "missing '}'"),
            ("http-request set-header X %[nosuchfetch]", "unknown fetch method"),
            ("http-request auth if !{ http_auth(nobody) }", "no userlist named 'nobody'"),
        ]
        for (line, message) in cases {
            let config = "\(HTTPProxyTests.httpDefaults())frontend fe\n    bind 127.0.0.1:1\n    \(line)\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n"
            let file = try FulcrumProcess.temporaryFile(config)
            let run = try FulcrumProcess.run(["-c", "-f", file.path])
            #expect(run.status != 0, "\(line)")
            #expect(run.stderr.contains("\(file.lastPathComponent):8") || run.stderr.contains("\(file.path):8"), "\(line): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(line): \(run.stderr)")
        }
    }
}
