import Foundation
import Testing

/// Distribution per algorithm, measured through real sockets against real backends.
@Suite(.serialized) struct BalancingIntegrationTests {
    let http = HTTPProxyTests()

    func counts(_ port: Int, _ n: Int, path: (Int) -> String = { _ in "/echo" }, headers: (Int) -> String = { _ in "" }) throws -> [String: Int] {
        var seen: [String: Int] = [:]
        for k in 0..<n {
            seen[HTTPProxyTests.backendName(try HTTPTestConnection.get(port, path(k), headers: headers(k))), default: 0] += 1
        }
        return seen
    }

    @Test func weightsHashesAndLeastConnections() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b", "c"])
        let rr = Loopback.freePort(), uri = Loopback.freePort(), lc = Loopback.freePort(), hdr = Loopback.freePort(), param = Loopback.freePort()
        let servers = "  server a 127.0.0.1:\(ports[0])\n  server b 127.0.0.1:\(ports[1])\n  server c 127.0.0.1:\(ports[2])\n"
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults()
            + "listen rr\n  bind 127.0.0.1:\(rr)\n  server a 127.0.0.1:\(ports[0]) weight 1\n  server b 127.0.0.1:\(ports[1]) weight 3\n"
            + "listen uri\n  bind 127.0.0.1:\(uri)\n  balance uri\n  hash-type consistent sdbm avalanche\n" + servers
            + "listen lc\n  bind 127.0.0.1:\(lc)\n  balance leastconn\n  server a 127.0.0.1:\(ports[0])\n  server b 127.0.0.1:\(ports[1])\n"
            + "listen hdr\n  bind 127.0.0.1:\(hdr)\n  balance hdr(X-Tenant)\n" + servers
            + "listen param\n  bind 127.0.0.1:\(param)\n  balance url_param user\n" + servers, waitFor: param)

        #expect(try counts(rr, 400) == ["a": 100, "b": 300], "weights 1:3 over 400 requests")

        // The same URI always reaches the same server; different URIs spread.
        var owners: [String: String] = [:]
        for round in 0..<3 {
            for k in 0..<30 {
                let name = HTTPProxyTests.backendName(try HTTPTestConnection.get(uri, "/object/\(k)?v=\(round)"))
                if let known = owners["/object/\(k)"] { #expect(known == name, "/object/\(k)") } else { owners["/object/\(k)"] = name }
            }
        }
        #expect(Set(owners.values).count == 3, "30 URIs use all three servers")

        for tenant in ["alpha", "beta", "gamma"] {
            let seen = try counts(hdr, 6, headers: { _ in "X-Tenant: \(tenant)\r\n" })
            #expect(seen.count == 1, "a tenant sticks to one server: \(seen)")
        }
        #expect(try counts(param, 6, path: { _ in "/echo?user=7&x=1" }).count == 1)
        #expect(try counts(param, 9, path: { _ in "/echo" }).count == 3, "no parameter: round robin")

        // leastconn: while a slow request holds one server, new ones go to the other.
        let slow = try HTTPTestConnection(port: lc)
        slow.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(200_000)
        let during = try counts(lc, 6)
        #expect(during.count == 1, "every new request avoids the busy server: \(during)")
        #expect(try slow.readResponse()?.status == 200)
    }

    @Test func consistentHashingKeepsSurvivorsKeysWhenAServerDies() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b", "c"])
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    retries 1\n    option redispatch\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  balance uri\n  hash-type consistent sdbm avalanche\n"
            + (0..<3).map { "  server \(["a", "b", "c"][$0]) 127.0.0.1:\(ports[$0]) check inter 100ms fall 1\n" }.joined(), waitFor: front)
        let paths = (0..<60).map { "/object/\($0)" }
        let before = try paths.map { HTTPProxyTests.backendName(try HTTPTestConnection.get(front, $0)) }
        #expect(Set(before).count == 3)
        running.processes[1].terminate()
        running.processes[1].waitUntilExit()
        usleep(600_000)
        let after = try paths.map { HTTPProxyTests.backendName(try HTTPTestConnection.get(front, $0)) }
        for (k, owner) in before.enumerated() where owner != "b" {
            #expect(after[k] == owner, "\(paths[k]) stayed on \(owner)")
        }
        #expect(!after.contains("b") && !after.contains("none"), "b's keys moved to the survivors and every request was served")
    }
}

extension BalancingIntegrationTests {
    @Test func cookiePersistence() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b"])
        let insert = Loopback.freePort(), prefix = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    option redispatch\n")
            + "listen insert\n  bind 127.0.0.1:\(insert)\n  cookie SRV insert indirect nocache\n"
            + "  server a 127.0.0.1:\(ports[0]) cookie s1 check inter 100ms fall 1\n  server b 127.0.0.1:\(ports[1]) cookie s2 check inter 100ms fall 1\n"
            + "listen prefix\n  bind 127.0.0.1:\(prefix)\n  cookie JSESSIONID prefix\n"
            + "  server a 127.0.0.1:\(ports[0]) cookie s1\n  server b 127.0.0.1:\(ports[1]) cookie s2\n", waitFor: prefix)

        let first = try #require(try HTTPTestConnection.get(insert, "/echo"))
        let owner = HTTPProxyTests.backendName(first)
        let cookie = try #require(first.header("Set-Cookie"))
        let value = owner == "a" ? "s1" : "s2"
        #expect(cookie == "SRV=\(value); path=/")
        #expect(first.header("Cache-Control") == "private", "nocache")
        for _ in 0..<6 {
            let again = try HTTPTestConnection.get(insert, "/echo", headers: "Cookie: SRV=\(value); lang=fr\r\n")
            #expect(HTTPProxyTests.backendName(again) == owner, "the cookie holds the client to its server")
            #expect(again?.header("Set-Cookie") == nil, "no new cookie while it holds")
            let seen = again?.receivedHeaders.first { $0.0.lowercased() == "cookie" }?.1
            #expect(seen == "lang=fr", "indirect: the server never sees SRV (saw \(seen ?? "nothing"))")
        }
        // Its server goes away: the client is sent elsewhere and given a new cookie.
        running.processes[owner == "a" ? 0 : 1].terminate()
        running.processes[owner == "a" ? 0 : 1].waitUntilExit()
        usleep(500_000)
        let moved = try HTTPTestConnection.get(insert, "/echo", headers: "Cookie: SRV=\(value)\r\n")
        #expect(moved?.status == 200 && HTTPProxyTests.backendName(moved) != owner)
        #expect(moved?.header("Set-Cookie") == "SRV=\(value == "s1" ? "s2" : "s1"); path=/")

        // prefix: the server's own session cookie carries the server's value in front.
        let survivor = owner == "a" ? "b" : "a", survivorValue = owner == "a" ? "s2" : "s1"
        let set = try HTTPTestConnection.get(prefix, "/set-cookie?name=JSESSIONID&value=abc")
        #expect(set?.header("Set-Cookie") == "JSESSIONID=\(survivorValue)~abc; Path=/")
        let back = try HTTPTestConnection.get(prefix, "/echo", headers: "Cookie: JSESSIONID=\(survivorValue)~abc\r\n")
        #expect(HTTPProxyTests.backendName(back) == survivor)
        #expect(back?.receivedHeaders.first { $0.0.lowercased() == "cookie" }?.1 == "JSESSIONID=abc", "the server gets its own value back")
    }
}
