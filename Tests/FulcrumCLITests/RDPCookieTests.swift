import Foundation
import Testing

/// `balance rdp-cookie`, `persist rdp-cookie` and `stick on req.rdp_cookie(...)` with
/// real RDP connection requests (TPKT + X.224 Connection Request + cookie line + RDP
/// negotiation request), sent in two segments so the cookie has to be waited for
/// under `tcp-request inspect-delay`. HAProxy 2.6 runs the same configuration.
@Suite(.serialized) struct RDPCookieTests {
    static let haproxy = FulcrumProcess.which("haproxy")

    /// The first packet an RDP client sends, with `cookie` as its routing line.
    static func connectionRequest(_ cookie: String) -> [UInt8] {
        let line = Array(cookie.utf8) + [13, 10]
        let negotiation: [UInt8] = [0x01, 0x00, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x00]
        let x224: [UInt8] = [UInt8(6 + line.count + negotiation.count), 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00]
        let length = 4 + x224.count + line.count + negotiation.count
        return [0x03, 0x00, UInt8(length >> 8), UInt8(length & 0xFF)] + x224 + line + negotiation
    }

    /// A session broker's token for 127.0.0.1:`port`.
    static func routingToken(port: Int) -> String {
        "16777343.\(UInt16(port).byteSwapped).0000"
    }

    /// Sends the request in two parts 50 ms apart, then reads the greeting of the
    /// server the proxy connected (the test backend says its name first).
    static func serverFor(_ port: Int, _ request: [UInt8]) throws -> String {
        guard let fd = Loopback.connectLoopback(port) else { throw POSIXError(.ECONNREFUSED) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 8, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let cut = 15
        _ = request[..<cut].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, 0) }
        usleep(50_000)
        _ = request[cut...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        var out: [UInt8] = []
        while !out.contains(10) {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out.prefix { $0 != 10 }, as: UTF8.self)
    }

    @Test(.enabled(if: haproxy != nil)) func cookiesHashPersistAndStickAsInHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try TCPProxyTests().startBackends(running, names: ["a", "b", "c"])
        let sticky = [Loopback.freePort(), Loopback.freePort()]
        let servers = (0..<3).map { "    server \(["a", "b", "c"][$0]) 127.0.0.1:\(backends[$0])\n" }.joined()
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, k in
            TCPProxyTests.tcpDefaults() + """
            listen tse-farm
                bind 127.0.0.1:\(port)
                tcp-request inspect-delay 5s
                tcp-request content accept if RDP_COOKIE
                persist rdp-cookie
                balance rdp-cookie
            \(servers)listen sticky
                bind 127.0.0.1:\(sticky[k])
                tcp-request inspect-delay 5s
                tcp-request content accept if RDP_COOKIE
                balance roundrobin
                stick-table type string size 1k
                stick on req.rdp_cookie(mstshash)
            \(servers)
            """
        }
        try running.waitForListener(sticky[0])
        try running.waitForListener(sticky[1])

        // balance rdp-cookie: each user's hash lands on the server HAProxy picks.
        var seen: Set<String> = []
        for k in 0..<24 {
            let request = Self.connectionRequest("Cookie: mstshash=user\(k)")
            let mine = try Self.serverFor(ports[0], request), reference = try Self.serverFor(ports[1], request)
            #expect(mine == reference && !mine.isEmpty, "user\(k): Fulcrum \(mine), HAProxy \(reference)")
            #expect(try Self.serverFor(ports[0], request) == mine, "user\(k) comes back to the same server")
            seen.insert(mine)
        }
        #expect(seen == ["a", "b", "c"], "the users spread over the farm: \(seen)")

        // persist rdp-cookie: a broker's routing token names the server outright.
        for (k, name) in ["a", "b", "c"].enumerated() {
            let request = Self.connectionRequest("Cookie: msts=\(Self.routingToken(port: backends[k]))")
            #expect(try Self.serverFor(ports[0], request) == name)
            #expect(try Self.serverFor(ports[1], request) == name)
        }

        // stick on req.rdp_cookie(mstshash): the first connection of a user is balanced,
        // the next ones follow it.
        for user in ["alice", "bob", "carol", "dave"] {
            let request = Self.connectionRequest("Cookie: mstshash=\(user)")
            for port in sticky {
                let first = try Self.serverFor(port, request)
                for _ in 0..<3 { #expect(try Self.serverFor(port, request) == first, "\(user) sticks to \(first) on port \(port)") }
            }
        }
    }
}
