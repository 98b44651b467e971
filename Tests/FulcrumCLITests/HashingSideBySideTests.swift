import Foundation
import Testing

/// The hashing algorithms next to HAProxy 2.6 on the same configuration and the same
/// keys: every key must reach the same server through both, whatever the method
/// (map-based with unequal weights, consistent), the function (sdbm, wt6, crc32 with
/// avalanche) or the key (URI, header, integer sample, client address, form body).
@Suite(.serialized) struct HashingSideBySideTests {
    static let haproxy = FulcrumProcess.which("haproxy")

    @Test(.enabled(if: haproxy != nil)) func everyKeyReachesTheServerHAProxyPicks() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a", "b", "c"])
        let names = ["mapped", "ring", "wt6", "integer", "source", "post", "ringgaps"]
        let ports = [names.map { _ in Loopback.freePort() }, names.map { _ in Loopback.freePort() }]
        let three = (0..<3).map { "  server \(["a", "b", "c"][$0]) 127.0.0.1:\(backends[$0])\n" }.joined()
        let weighted = "  server a 127.0.0.1:\(backends[0]) weight 2\n  server b 127.0.0.1:\(backends[1]) weight 3\n  server c 127.0.0.1:\(backends[2]) weight 1\n"
        _ = try ACLIntegrationTests.startSideBySide(running) { port, k in
            let p = ports[k]
            return HTTPProxyTests.httpDefaults()
                + "frontend first\n  bind 127.0.0.1:\(port)\n  default_backend mapped\n"
                + "listen mapped\n  bind 127.0.0.1:\(p[0])\n  balance uri\n" + weighted
                + "listen ring\n  bind 127.0.0.1:\(p[1])\n  balance uri whole\n  hash-type consistent\n" + weighted
                + "listen wt6\n  bind 127.0.0.1:\(p[2])\n  balance hash req.hdr(x-user)\n  hash-type map-based wt6\n" + three
                + "listen integer\n  bind 127.0.0.1:\(p[3])\n  balance hash req.hdr_val(x-id)\n  hash-type map-based crc32 avalanche\n" + three
                + "listen source\n  bind 127.0.0.1:\(p[4])\n  balance source\n" + three
                + "listen post\n  bind 127.0.0.1:\(p[5])\n  balance url_param user check_post\n" + three
                + "listen ringgaps\n  bind 127.0.0.1:\(p[6])\n  balance hdr(x-user)\n  hash-type consistent djb2 avalanche\n"
                + "  server a 127.0.0.1:\(backends[0])\n  server off 127.0.0.1:\(backends[1]) disabled\n"
                + "  server b 127.0.0.1:\(backends[1]) weight 2\n  server c 127.0.0.1:\(backends[2])\n"
        }
        for p in ports[0] + ports[1] { try running.waitForListener(p) }

        func server(_ port: Int, _ request: String, source: String = "127.0.0.1") throws -> String {
            let c = try HTTPTestConnection(port: port, source: source)
            // A body comes 50 ms after its head: check_post must wait for it.
            let parts = request.components(separatedBy: "\r\n\r\n")
            if parts.count == 2 && !parts[1].isEmpty {
                c.send(parts[0] + "\r\n\r\n")
                usleep(50_000)
                c.send(parts[1])
            } else {
                c.send(request)
            }
            return HTTPProxyTests.backendName(try c.readResponse())
        }
        func get(_ path: String, _ headers: String = "") -> String {
            "GET \(path) HTTP/1.1\r\nHost: h\r\n\(headers)Connection: close\r\n\r\n"
        }
        func post(_ path: String, _ body: String) -> String {
            "POST \(path) HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        }
        let cases: [(Int, (Int) -> String)] = [
            (0, { get("/obj/\($0)?v=1") }),
            (1, { get("/obj/\($0)?v=\($0 % 3)") }),
            (2, { get("/", "X-User: user\($0)\r\n") }),
            (3, { get("/", "X-Id: \($0 * 7919)\r\n") }),
            (5, { $0 % 2 == 0 ? post("/form", "a=1&user=u\($0)&z=2") : get("/form?user=u\($0)") }),
            (6, { get("/", "X-User: user\($0)\r\n") }),
        ]
        for (listener, request) in cases {
            var seen: Set<String> = []
            for k in 0..<40 {
                let mine = try server(ports[0][listener], request(k)), reference = try server(ports[1][listener], request(k))
                #expect(mine == reference && mine != "none", "\(names[listener]) key \(k): Fulcrum \(mine), HAProxy \(reference)")
                seen.insert(mine)
            }
            #expect(seen.count == 3, "\(names[listener]): the keys spread over every server (\(seen))")
        }
        for k in 2..<30 {
            let source = "127.0.\(k).\(k * 7 % 250 + 1)"
            let mine = try server(ports[0][4], get("/"), source: source), reference = try server(ports[1][4], get("/"), source: source)
            #expect(mine == reference && mine != "none", "source \(source): Fulcrum \(mine), HAProxy \(reference)")
        }
    }
}
