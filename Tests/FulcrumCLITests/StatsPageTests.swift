import Foundation
import Testing

/// The statistics page in a real headless browser (Chromium driven over its DevTools
/// pipe), its CSV and access control with raw requests, and the Prometheus exporter
/// next to HAProxy 2.6's on the same configuration and traffic.
@Suite(.serialized) struct StatsPageTests {
    static let browserScript = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/browser.py").path

    struct BrowserRow: Decodable { let name: String; let css: String; let status: String }
    struct BrowserTable: Decodable { let id: String; let rows: [BrowserRow] }
    struct BrowserReport: Decodable {
        let title: String
        let tables: [BrowserTable]
        let clicked: Bool?
        let landed: String?
        let outcome: String?
        let after: [BrowserTable]?
    }

    static func browse(_ url: String, server: String? = nil, action: String? = nil) throws -> (BrowserReport, Data) {
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-stats-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: shot) }
        let out = try ListenerTests.run("/usr/bin/timeout", ["90", "python3", browserScript, url, shot.path] + (server.map { [$0, action ?? ""] } ?? []))
        let report = try JSONDecoder().decode(BrowserReport.self, from: Data(out.utf8))
        return (report, (try? Data(contentsOf: shot)) ?? Data())
    }

    @Test func statsPageInAHeadlessBrowser() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let front = Loopback.freePort(), statsPort = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, HTTPProxyTests.httpDefaults() + """
            frontend web
              bind 127.0.0.1:\(front)
              default_backend app
            backend app
              server a 127.0.0.1:\(ports[0]) check inter 200
              server b 127.0.0.1:\(ports[1]) check inter 200
              server gone 127.0.0.1:\(Loopback.freePort()) check inter 200
            listen stats
              bind 127.0.0.1:\(statsPort)
              stats enable
              stats uri /admin?stats
              stats refresh 5s
              stats show-legends
              stats admin if { src 127.0.0.1 }

            """, waitFor: statsPort)
        for _ in 0..<4 { _ = try HTTPTestConnection.get(front, "/") }
        usleep(700_000)

        let (report, png) = try Self.browse("http://127.0.0.1:\(statsPort)/admin?stats")
        #expect(report.title == "Statistics Report for Fulcrum")
        #expect(png.count > 5000 && png.prefix(4) == Data([0x89, 0x50, 0x4e, 0x47]), "a PNG screenshot of the rendered page")
        let app = try #require(report.tables.first { $0.id == "px-app" })
        #expect(app.rows.map(\.name) == ["a", "b", "gone", "BACKEND"])
        #expect(app.rows.map(\.css) == ["up", "up", "down", "backend"], "\(app.rows)")
        #expect(app.rows[2].status.hasPrefix("DOWN"))
        #expect(report.tables.contains { $0.id == "px-web" && $0.rows.map(\.name) == ["FRONTEND"] })

        // The admin form: tick a, choose MAINT, Apply; the browser lands on ;st=DONE.
        let (changed, _) = try Self.browse("http://127.0.0.1:\(statsPort)/admin?stats", server: "a", action: "maint")
        #expect(changed.clicked == true)
        #expect(changed.landed == "http://127.0.0.1:\(statsPort)/admin?stats;st=DONE")
        #expect(changed.outcome == "Action processed successfully.")
        #expect(changed.after?.first { $0.id == "px-app" }?.rows.first?.css == "maint")
        var seen = Set<String>()
        for _ in 0..<6 { seen.insert(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/"))) }
        #expect(seen == ["b"], "a is in maintenance: traffic avoids it")

        let (back, _) = try Self.browse("http://127.0.0.1:\(statsPort)/admin?stats", server: "a", action: "ready")
        #expect(back.outcome == "Action processed successfully.")
        seen = []
        for _ in 0..<6 { seen.insert(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/"))) }
        #expect(seen == ["a", "b"])
    }

    @Test func statsPageCSVAuthScopeAndRefusals() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let front = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, HTTPProxyTests.httpDefaults() + """
            frontend web
              bind 127.0.0.1:\(front)
              default_backend app
              stats enable
              stats uri /st
              stats auth admin:secret
              stats realm Fulcrum\\ stats
              stats scope app
              stats http-request deny if { hdr(x-block) -m found }
            backend app
              server a 127.0.0.1:\(ports[0])
            backend other
              server o 127.0.0.1:\(ports[0])

            """, waitFor: front)
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/x")) == "a", "other paths are proxied")
        let anonymous = try #require(try HTTPTestConnection.get(front, "/st"))
        #expect(anonymous.status == 401)
        #expect(anonymous.header("www-authenticate") == "Basic realm=\"Fulcrum stats\"")
        let wrong = try #require(try HTTPTestConnection.get(front, "/st", headers: "Authorization: Basic YWRtaW46bm9wZQ==\r\n"))
        #expect(wrong.status == 401)
        let auth = "Authorization: Basic YWRtaW46c2VjcmV0\r\n"
        let denied = try #require(try HTTPTestConnection.get(front, "/st", headers: auth + "X-Block: 1\r\n"))
        #expect(denied.status == 403, "stats http-request deny")

        let csv = try #require(try HTTPTestConnection.get(front, "/st;csv", headers: auth))
        #expect(csv.status == 200 && csv.header("content-type") == "text/plain")
        let lines = csv.text.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("# pxname,svname,qcur,qmax,scur,smax,slim,stot,") == true)
        #expect(lines.dropFirst().map { String($0.prefix { $0 != "," }) } == ["app", "app"], "stats scope app: only that proxy's rows: \(lines)")

        let html = try #require(try HTTPTestConnection.get(front, "/st", headers: auth))
        #expect(html.status == 200 && html.header("content-type") == "text/html" && html.header("refresh") == nil)
        #expect(html.text.contains("id=\"px-app\"") && !html.text.contains("id=\"px-other\""))
        #expect(!html.text.contains("<form"), "no admin form without 'stats admin'")

        // A POST without admin rights changes nothing and says so.
        let c = try HTTPTestConnection(port: front)
        c.send("POST /st HTTP/1.1\r\nHost: x\r\n\(auth)Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\ns=a&action=maint&b=#2")
        let post = try #require(try c.readResponse())
        #expect(post.status == 303 && post.header("location") == "/st;st=DENY")
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/x")) == "a")
    }

    /// The same configuration and requests through Fulcrum and HAProxy 2.6: the series
    /// Fulcrum exports exist in HAProxy's output under the same names and labels, and
    /// the counters both can know agree.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func prometheusExporterMatchesHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let dead = Loopback.freePort()
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, _ in
            HTTPProxyTests.httpDefaults() + """
                frontend web
                  bind 127.0.0.1:\(port)
                  http-request use-service prometheus-exporter if { path /metrics }
                  http-request deny if { path /forbidden }
                  default_backend app
                backend app
                  server a 127.0.0.1:\(backends[0]) check inter 200
                  server b 127.0.0.1:\(backends[1]) check inter 200
                  server c 127.0.0.1:\(dead) check inter 200

                """
        }
        usleep(800_000)
        for port in ports {
            for _ in 0..<6 { _ = try HTTPTestConnection.get(port, "/") }
            _ = try HTTPTestConnection.get(port, "/forbidden")
        }
        func scrape(_ port: Int) throws -> [String: String] {
            let r = try #require(try HTTPTestConnection.get(port, "/metrics"))
            #expect(r.status == 200)
            var series: [String: String] = [:]
            for line in r.text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                series[String(line[..<space])] = String(line[line.index(after: space)...])
            }
            return series
        }
        let fulcrumText = try #require(try HTTPTestConnection.get(ports[0], "/metrics")).text
        _ = try HTTPTestConnection.get(ports[1], "/metrics")
        let file = try FulcrumProcess.temporaryFile(fulcrumText)
        let check = try ListenerTests.run("/bin/sh", ["-c", "promtool check metrics < \(file.path) 2>&1; echo rc=$?"])
        #expect(check.hasSuffix("rc=0\n"), "promtool accepts the exposition: \(check)")

        let ours = try scrape(ports[0]), theirs = try scrape(ports[1])
        // The version label differs by nature.
        let missing = ours.keys.filter { theirs[$0] == nil && !$0.hasPrefix("haproxy_process_build_info") }.sorted()
        #expect(missing.isEmpty, "every Fulcrum series has HAProxy's name and labels: \(missing)")
        for key in [
            "haproxy_server_status{proxy=\"app\",server=\"a\",state=\"UP\"}", "haproxy_server_status{proxy=\"app\",server=\"c\",state=\"DOWN\"}",
            "haproxy_server_check_status{proxy=\"app\",server=\"a\",state=\"L4OK\"}", "haproxy_server_check_status{proxy=\"app\",server=\"c\",state=\"L4CON\"}",
            "haproxy_backend_status{proxy=\"app\",state=\"UP\"}", "haproxy_backend_active_servers{proxy=\"app\"}",
            "haproxy_backend_http_responses_total{proxy=\"app\",code=\"2xx\"}", "haproxy_server_sessions_total{proxy=\"app\",server=\"a\"}",
            // Not 4xx: HAProxy counts a connection closed before any request (the test's
            // readiness probe) as a 4xx response it never sent; Fulcrum does not.
            "haproxy_frontend_requests_denied_total{proxy=\"web\"}",
            "haproxy_frontend_http_responses_total{proxy=\"web\",code=\"2xx\"}", "haproxy_process_nbproc",
        ] {
            #expect(ours[key] == theirs[key], "\(key): Fulcrum \(ours[key] ?? "-"), HAProxy \(theirs[key] ?? "-")")
        }
        #expect(Set(ours.keys.map { String($0.prefix { $0 != "{" }) }).count >= 60, "a wide set of metrics")
    }

    /// Seed 000 as printed, plus a stats listener and a Prometheus frontend: `show stat`
    /// on its runtime socket counts what each Swift proxy served, `disable server`,
    /// `set server ... state maint` and `enable server` take effect on the next request,
    /// and the stats page and /metrics answer with the seed's proxies and servers.
    @Test func seed000RuntimeAPIStatsPageAndMetrics() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let statsPort = Loopback.freePort(), metricsPort = Loopback.freePort()
        var socket = ""
        let (swiftPort, _) = try HTTPProxyTests().startSeed000(running) { config in
            if let line = config.split(separator: "\n").first(where: { $0.contains("stats socket ") }) {
                socket = String(line.split(separator: " ", omittingEmptySubsequences: true)[2])
            }
            return config + """

                listen stats
                    mode http
                    bind 127.0.0.1:\(statsPort)
                    stats enable
                    stats uri /stats
                frontend prometheus
                    mode http
                    bind 127.0.0.1:\(metricsPort)
                    http-request use-service prometheus-exporter if { path /metrics }

                """
        }
        try running.waitForListener(statsPort)
        func spread(_ n: Int) throws -> [String: Int] {
            var seen: [String: Int] = [:]
            for _ in 0..<n { seen[HTTPProxyTests.backendName(try HTTPTestConnection.get(swiftPort, "/echo")), default: 0] += 1 }
            return seen
        }
        #expect(try spread(30) == ["swift-proxy1": 10, "swift-proxy2": 10, "swift-proxy3": 10])
        let csv = try RuntimeAPITests.ask(socket, "show stat").split(separator: "\n").map(String.init)
        for name in ["swift-proxy1", "swift-proxy2", "swift-proxy3"] {
            let row = csv.first { $0.hasPrefix("swift-backend,\(name),") }?.split(separator: ",", omittingEmptySubsequences: false) ?? []
            #expect(row.count > 7 && row[7] == "10", "stot of \(name): \(row.prefix(10))")
        }
        #expect(try RuntimeAPITests.ask(socket, "disable server swift-backend/swift-proxy2") == "\n")
        #expect(try spread(6) == ["swift-proxy1": 3, "swift-proxy3": 3])
        #expect(try RuntimeAPITests.ask(socket, "set server swift-backend/swift-proxy3 state maint") == "\n")
        #expect(try spread(4) == ["swift-proxy1": 4])
        #expect(try RuntimeAPITests.ask(socket, "enable server swift-backend/swift-proxy2; set server swift-backend/swift-proxy3 state ready") == "\n\n")
        #expect(try spread(6) == ["swift-proxy1": 2, "swift-proxy2": 2, "swift-proxy3": 2])

        let page = try #require(try HTTPTestConnection.get(statsPort, "/stats"))
        #expect(page.status == 200)
        for id in ["px-swift-public", "px-swift-backend", "px-conscience", "px-conscience-backend"] {
            #expect(page.text.contains("id=\"\(id)\""), "the page lists \(id)")
        }
        let metrics = try #require(try HTTPTestConnection.get(metricsPort, "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("haproxy_server_status{proxy=\"swift-backend\",server=\"swift-proxy2\",state=\"UP\"} 1"))
        #expect(metrics.text.contains("haproxy_frontend_http_requests_total{proxy=\"swift-public\"} 46"))
    }
}
