import Foundation
import Testing

/// `cookie ... maxidle|maxlife` and `option persist` on the real process, next to
/// HAProxy 2.6 with the same configuration: the same cookie format and dates, the same
/// expiry, and a cookie naming a server the checks marked down still reaches it (until
/// it refuses connections, then `option redispatch` moves the client).
@Suite(.serialized) struct CookieDatesAndPersistTests {
    static let haproxy = FulcrumProcess.which("haproxy")
    static let digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    static func date(_ seconds: Int) -> String {
        var v = (seconds + 3) >> 2
        var out = ""
        for _ in 0..<5 { out.append(digits[(v >> 24) & 0x3F]); v <<= 6 }
        return out
    }

    static func seconds(_ text: Substring) -> Int? {
        var v = 0
        for c in text { guard let d = digits.firstIndex(of: c) else { return nil }; v = v << 6 | d }
        return v << 2
    }

    @Test(.enabled(if: haproxy != nil)) func datesExpiryAndPersistenceOnADownServer() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let other = [Loopback.freePort(), Loopback.freePort()], posted = [Loopback.freePort(), Loopback.freePort()]
        let servers = "  option httpchk GET /health\n"
            + "  server a 127.0.0.1:\(backends[0]) cookie s1 check inter 100ms fall 1 rise 1\n"
            + "  server b 127.0.0.1:\(backends[1]) cookie s2 check inter 100ms fall 1 rise 1\n"
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, k in
            HTTPProxyTests.httpDefaults(extra: "    retries 1\n    option redispatch\n")
                + "listen persist\n  bind 127.0.0.1:\(port)\n  option persist\n  cookie SRV insert indirect maxidle 30m maxlife 1h\n" + servers
                + "listen plain\n  bind 127.0.0.1:\(other[k])\n  cookie SRV insert indirect\n" + servers
                + "listen posted\n  bind 127.0.0.1:\(posted[k])\n  cookie SRV insert postonly\n" + servers
        }
        try running.waitForListener(other[0])
        try running.waitForListener(other[1])
        try running.waitForListener(posted[1])
        usleep(300_000)
        let now = Int(Date().timeIntervalSince1970)

        func ask(_ port: Int, _ cookie: String?) throws -> (server: String, setCookie: String?) {
            let r = try HTTPTestConnection.get(port, "/echo", headers: cookie.map { "Cookie: \($0)\r\n" } ?? "")
            return (HTTPProxyTests.backendName(r), r?.header("Set-Cookie"))
        }
        func both(_ port: (Int) -> Int, _ cookie: String?) throws -> [(server: String, setCookie: String?)] {
            [try ask(port(0), cookie), try ask(port(1), cookie)]
        }

        // A new client gets the server's value, its last-seen and first-seen dates.
        for (k, seen) in try both({ ports[$0] }, nil).enumerated() {
            let set = try #require(seen.setCookie, "proxy \(k)")
            let parts = set.split(separator: ";")[0].split(separator: "|")
            #expect(parts.count == 3 && set.hasSuffix("; path=/"), "proxy \(k): \(set)")
            for part in parts.dropFirst() {
                let when = try #require(Self.seconds(part))
                #expect(abs(when - now) <= 8, "proxy \(k): date \(part) is now")
            }
        }
        let ahead = Self.date(now + 8), recent = Self.date(now - 60)
        // Valid dates still ahead: the cookie holds, nothing to refresh.
        for seen in try both({ ports[$0] }, "SRV=s2|\(ahead)|\(recent)") {
            #expect(seen.server == "b" && seen.setCookie == nil, "\(seen)")
        }
        // Idle for 31 minutes: the cookie no longer counts; a fresh one is set.
        for seen in try both({ ports[$0] }, "SRV=s2|\(Self.date(now - 1860))|\(Self.date(now - 1900))") {
            #expect(seen.setCookie?.hasPrefix("SRV=s") == true && seen.setCookie?.contains("|\(Self.date(now - 1900))") == false, "\(seen)")
        }
        // Alive for over an hour (though recently used): the same.
        for seen in try both({ ports[$0] }, "SRV=s2|\(ahead)|\(Self.date(now - 3700))") {
            #expect(seen.setCookie != nil, "\(seen)")
        }
        // No dates: accepted, and given dates (the first date is now).
        for seen in try both({ ports[$0] }, "SRV=s1") {
            #expect(seen.server == "a" && seen.setCookie?.hasPrefix("SRV=s1|") == true, "\(seen)")
        }
        // postonly: only a response to a POST sets the cookie.
        for port in posted {
            #expect(try HTTPTestConnection.get(port, "/echo")?.header("Set-Cookie") == nil, "GET, port \(port)")
            let c = try HTTPTestConnection(port: port)
            c.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            #expect(try c.readResponse()?.header("Set-Cookie")?.hasPrefix("SRV=s") == true, "POST, port \(port)")
        }
        // Server a fails its checks but still answers: option persist keeps sending the
        // client there; without it the client moves to b.
        _ = try HTTPTestConnection.get(backends[0], "/set-health?code=500")
        usleep(600_000)
        for seen in try both({ ports[$0] }, "SRV=s1|\(ahead)|\(recent)") {
            #expect(seen.server == "a", "option persist: \(seen)")
        }
        for seen in try both({ other[$0] }, "SRV=s1") {
            #expect(seen.server == "b" && seen.setCookie == "SRV=s2; path=/", "no option persist: \(seen)")
        }
        // a stops: the connection fails, the retry is redispatched to b.
        running.processes[0].terminate()
        running.processes[0].waitUntilExit()
        for seen in try both({ ports[$0] }, "SRV=s1|\(ahead)|\(recent)") {
            #expect(seen.server == "b" && seen.setCookie?.hasPrefix("SRV=s2|") == true, "redispatched: \(seen)")
        }
    }
}
