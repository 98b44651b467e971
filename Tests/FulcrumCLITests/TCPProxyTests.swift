import Foundation
import Testing

/// TCP mode carried by the real `fulcrum` process, with real backends (a small Python
/// server that greets with its name, echoes, and answers BYE to end of input).
@Suite(.serialized) struct TCPProxyTests {
    /// The defaults block every TCP test starts from; `splice` relays with splice(2)
    /// (the tests that take it run both ways).
    static func tcpDefaults(connect: String = "1s", client: String = "5s", server: String = "5s", extra: String = "", splice: Bool = false) -> String {
        "defaults\n    mode tcp\n    timeout connect \(connect)\n    timeout client \(client)\n    timeout server \(server)\n"
            + (splice ? "    option splice-auto\n" : "") + extra
    }

    func startBackends(_ running: RunningProcesses, names: [String]) throws -> [Int] {
        let script = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/tcp_backend.py").path
        var ports: [Int] = []
        for name in names {
            let port = Loopback.freePort()
            try running.start("/usr/bin/env", ["python3", script, name, String(port)])
            ports.append(port)
        }
        for port in ports { try Loopback.waitForPort(port) }
        return ports
    }

    func startFulcrum(_ running: RunningProcesses, config: String) throws -> URL {
        let file = try FulcrumProcess.temporaryFile(config)
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
        return file
    }

    @Test(arguments: [false, true]) func relaysBothWaysWithHalfCloseAndRoundRobin(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, names: ["s1", "s2", "s3"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(splice: splice) + """
        listen relay
            bind 127.0.0.1:\(front)
            balance roundrobin
            server s1 127.0.0.1:\(ports[0])
            server s2 127.0.0.1:\(ports[1])
            server s3 127.0.0.1:\(ports[2])
        """)
        try Loopback.waitForPort(front)
        var seen: [String] = []
        for i in 0..<6 {
            let reply = try Loopback.exchange(port: front, send: "hello \(i)")
            let lines = reply.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[1] == "hello \(i)BYE", "reply \(reply)")
            seen.append(lines[0])
        }
        // waitForPort itself took one connection, so the rotation may start anywhere.
        let counts = Dictionary(grouping: seen, by: { $0 }).mapValues(\.count)
        #expect(counts == ["s1": 2, "s2": 2, "s3": 2], "\(seen)")
        #expect(seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2])
    }

    @Test(arguments: [false, true]) func largeTransferArrivesIntact(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, names: ["big"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(splice: splice) + "frontend f\n  bind 127.0.0.1:\(front)\n  default_backend b\nbackend b\n  server big 127.0.0.1:\(ports[0])\n")
        try Loopback.waitForPort(front)
        let payload = String(repeating: "0123456789abcdef", count: 256 * 1024)
        let reply = try Loopback.exchange(port: front, send: payload)
        #expect(reply == "big\n" + payload + "BYE\n")
    }

    @Test(arguments: [false, true]) func deadServerIsRetriedThenRedispatched(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, names: ["alive"])
        let front = Loopback.freePort(), dead = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(extra: "    retries 2\n    option redispatch\n", splice: splice) + """
        listen relay
            bind 127.0.0.1:\(front)
            server dead 127.0.0.1:\(dead)
            server alive 127.0.0.1:\(ports[0])
        """)
        try Loopback.waitForPort(front)
        for _ in 0..<4 {
            #expect(try Loopback.exchange(port: front, send: "x") == "alive\nxBYE\n")
        }
    }

    @Test(arguments: [false, true]) func noUsableServerClosesTheClient(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let front = Loopback.freePort(), dead = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(connect: "500ms", extra: "  retries 1\n", splice: splice) + "listen l\n  bind 127.0.0.1:\(front)\n  server dead 127.0.0.1:\(dead)\n")
        var connected = false
        for _ in 0..<100 where !connected {
            if (try? Loopback.exchange(port: front, send: "x")) == "" { connected = true } else { usleep(50_000) }
        }
        #expect(connected, "the client is accepted, then closed without data")
    }

    @Test(arguments: [false, true]) func idleClientIsClosedAtTimeoutClient(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, names: ["idle"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(client: "300ms", splice: splice) + "listen l\n  bind 127.0.0.1:\(front)\n  server idle 127.0.0.1:\(ports[0])\n")
        try Loopback.waitForPort(front)
        let start = Date()
        let reply = try Loopback.exchange(port: front, send: nil)
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply == "idle\n")
        #expect(elapsed >= 0.25 && elapsed < 3, "closed after \(elapsed) s")
    }

    /// After the client's FIN, a server that never closes its side is dropped at
    /// `timeout server-fin` (and the client at `timeout client-fin`), not at the long
    /// full-duplex timeouts.
    @Test(arguments: [false, true]) func halfClosedConnectionsUseTheFinTimeouts(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = Loopback.freePort()
        _ = try startFulcrum(running, config: Self.tcpDefaults(client: "30s", server: "30s", extra: "    timeout client-fin 400ms\n    timeout server-fin 400ms\n", splice: splice)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(backend.port)\n")
        try running.waitForListener(front)
        // The readiness probe was relayed to the backend too.
        backend.accept(timeout: 2000)?.disconnect()
        let client = try HTTPTestConnection(port: front)
        let server = try #require(backend.accept())
        client.send("last words")
        client.shutdownWrite()
        #expect(String(decoding: try server.readBytes(10), as: UTF8.self) == "last words")
        #expect(server.isClosedByPeer(), "the client's FIN is passed on")
        server.send("reply after FIN")
        #expect(String(decoding: try client.readBytes(15), as: UTF8.self) == "reply after FIN", "the other direction still works")
        // The server now keeps its side open and silent.
        let start = Date()
        #expect(client.isClosedByPeer())
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed > 0.3 && elapsed < 3, "closed after \(elapsed) s, not after timeout server")
    }

    /// A server that stops reading must stop the client too (backpressure through
    /// Fulcrum), not make Fulcrum hold what the client keeps sending.
    @Test(arguments: [false, true]) func slowServerDoesNotMakeFulcrumBuffer(splice: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort(), front = Loopback.freePort()
        let script = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/slow_backend.py").path
        try running.start("/usr/bin/env", ["python3", script, String(backend), "2.5"])
        usleep(300_000)
        _ = try startFulcrum(running, config: Self.tcpDefaults(client: "20s", server: "20s", splice: splice) + "listen l\n  bind 127.0.0.1:\(front)\n  server slow 127.0.0.1:\(backend)\n")
        let fulcrumPID = running.processes.last!.processIdentifier
        var listening = false
        for _ in 0..<100 where !listening {
            if let fd = Loopback.connectLoopback(front) {
                listening = true
                let total = 256 * 1024 * 1024
                let sender = DispatchQueue(label: "sender")
                let done = DispatchSemaphore(value: 0)
                sender.async {
                    var chunk = [UInt8](repeating: 0x61, count: 1 << 20)
                    var sent = 0
                    while sent < total {
                        let n = chunk.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress, min($0.count, total - sent), Int32(MSG_NOSIGNAL)) }
                        if n <= 0 { break }
                        sent += n
                    }
                    shutdown(fd, Int32(SHUT_WR))
                    done.signal()
                }
                usleep(1_500_000)
                let rss = Loopback.residentKiB(fulcrumPID) ?? 0
                #expect(rss > 0 && rss < 64 * 1024, "Fulcrum holds \(rss) KiB while its server does not read")
                #expect(done.wait(timeout: .now() + 30) == .success, "the transfer completes once the server reads")
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                var buf = [UInt8](repeating: 0, count: 64)
                let n = recv(fd, &buf, buf.count, 0)
                #expect(String(decoding: buf[0..<max(0, n)], as: UTF8.self) == String(total), "every byte arrived")
                close(fd)
            } else {
                usleep(50_000)
            }
        }
        #expect(listening)
    }
}
