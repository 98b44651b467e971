import Foundation
import Testing

/// `tune.park-idle-clients`: a keep-alive client connection idle between requests
/// gives its session up for a small record and gets a new one when the client sends
/// again. Each test checks that parking happened (`show info`'s ParkedConns) and that
/// the connection behaves as one that kept its session would.
@Suite(.serialized) struct ParkingTests {
    struct Setup {
        let running = RunningProcesses()
        let sockets: RuntimeAPICommandTests.Sockets
        let front: Int
        let syslog: AccessLogTests.SyslogListener

        init(park: String = "50ms", global: String = "", defaults: String = "") throws {
            sockets = try RuntimeAPICommandTests.Sockets()
            syslog = try AccessLogTests.SyslogListener()
            let ports = try HTTPProxyTests().startBackends(running, ["a"])
            front = Loopback.freePort()
            _ = try HTTPProxyTests().startFulcrum(running, sockets.global + "  tune.park-idle-clients \(park)\n"
                + "  log 127.0.0.1:\(syslog.port) local0\n" + global
                + HTTPProxyTests.httpDefaults(extra: "    log global\n    log-format \"%ci:%cp %Ti %ST %B %r\"\n" + defaults)
                + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
            _ = syslog.drain()
        }

        func info(_ field: String) throws -> Int {
            let text = try RuntimeAPICommandTests.ask(sockets.admin, "show info")
            let line = text.split(separator: "\n").first { $0.hasPrefix("\(field): ") }
            return line.flatMap { Int($0.dropFirst(field.count + 2)) } ?? -1
        }

        /// The `show sess` identifier of a client's connection.
        func sessionID(_ client: HTTPTestConnection) throws -> String {
            let sessions = try RuntimeAPICommandTests.ask(sockets.admin, "show sess")
            let line = sessions.split(separator: "\n").first { $0.contains("src=127.0.0.1:\(client.localPort) ") }
            return line.map { String($0.prefix { $0 != ":" }) } ?? "0x0"
        }

        /// Waits (up to two seconds) for `count` connections to be parked.
        func parked(_ count: Int) throws -> Bool {
            try RuntimeAPICommandTests.eventually { try info("ParkedConns") == count }
        }
    }

    @Test func parkedConnectionServesLaterRequestsWithBodiesAndLogsThem() throws {
        let s = try Setup()
        defer { s.running.stopAll() }
        let c = try HTTPTestConnection(port: s.front)
        c.send("GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        #expect(try s.parked(1), "parked once idle")
        #expect(try s.info("CurrConns") == 1, "still counted as open")
        let sessions = try RuntimeAPICommandTests.ask(s.sockets.admin, "show sess")
        #expect(sessions.contains("src=127.0.0.1:\(c.localPort)") && sessions.contains("be=<NONE>"), "\(sessions)")
        usleep(200_000)
        // A body larger than the first read, sent as the connection comes back.
        let body = [UInt8](repeating: UInt8(ascii: "b"), count: 300_000)
        c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
        c.send(body)
        let upload = try c.readResponse()
        #expect(upload?.status == 200)
        let answer = String(decoding: upload?.body ?? [], as: UTF8.self)
        #expect(answer.contains("\"size\": 300000"), "the whole body arrived: \(answer)")
        #expect(try s.parked(1), "parked again after the next request")
        c.send("GET /download?n=200000 HTTP/1.1\r\nHost: x\r\n\r\n")
        let download = try c.readResponse()
        #expect(download?.status == 200 && download?.body.count == 200_000)
        usleep(300_000)
        let lines = s.syslog.drain()
        #expect(lines.count == 3, "\(lines)")
        // One connection throughout (the same client port), and the idle time of a
        // request after a parked wait is that wait.
        #expect(lines.allSatisfy { $0.contains("127.0.0.1:\(c.localPort) ") }, "\(lines)")
        if lines.count == 3 {
            let fields = lines[1].split(separator: " ")
            let idle = fields.firstIndex { $0.hasPrefix("127.0.0.1:") }.flatMap { Int(fields[$0 + 1]) } ?? -1
            #expect(idle >= 200, "%Ti of the request after parking: \(lines[1])")
            #expect(lines[1].contains("POST /upload") && lines[2].contains("GET /download"), "\(lines)")
        }
    }

    /// A client that reads a large response slowly gets every byte, and is parked only
    /// once it has drained it. (Whether bytes are still queued in the socket when the
    /// exchange ends depends on the kernel's socket buffers, so this does not reach the
    /// guard that declines to park with queued bytes every time.)
    @Test func aSlowReaderGetsItsWholeResponse() throws {
        let s = try Setup()
        defer { s.running.stopAll() }
        let c = try HTTPTestConnection(port: s.front)
        let size = 24 << 20
        c.send("GET /download?n=\(size) HTTP/1.1\r\nHost: x\r\n\r\n")
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) { head += try c.readBytes(1) }
        var received = 0
        while received < size {
            let chunk = try c.readBytes(min(65536, size - received))
            if chunk.isEmpty { break }
            received += chunk.count
            usleep(3_000)
        }
        #expect(received == size, "every byte of the body")
        #expect(try s.parked(1), "parked once drained and idle")
        c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200, "and served again")
    }

    @Test func keepAliveTimeoutClosesAParkedConnection() throws {
        let s = try Setup(defaults: "    timeout http-keep-alive 600ms\n")
        defer { s.running.stopAll() }
        let c = try HTTPTestConnection(port: s.front)
        c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        #expect(try s.parked(1))
        let start = Date()
        #expect(try c.readToEnd().isEmpty, "closed without a byte")
        let waited = Date().timeIntervalSince(start)
        #expect(waited > 0.3 && waited < 2, "closed at the keep-alive timeout, after \(waited) s")
        #expect(try RuntimeAPICommandTests.eventually { try s.info("CurrConns") == 0 })
        #expect(try s.info("ParkedConns") == 0)
    }

    @Test func shutdownSessionAndClientCloseEndParkedConnections() throws {
        let s = try Setup()
        defer { s.running.stopAll() }
        let cut = try HTTPTestConnection(port: s.front)
        let leaving = try HTTPTestConnection(port: s.front)
        for c in [cut, leaving] {
            c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse()?.status == 200)
        }
        #expect(try s.parked(2))
        let id = try s.sessionID(cut)
        _ = try RuntimeAPICommandTests.ask(s.sockets.admin, "shutdown session \(id)")
        #expect(try cut.readToEnd().isEmpty, "cut")
        #expect(try s.parked(1))
        leaving.disconnect()
        #expect(try RuntimeAPICommandTests.eventually { try s.info("CurrConns") == 0 }, "the client's close ends the parked session")
        #expect(try s.info("ParkedConns") == 0)
        usleep(300_000)
        #expect(s.syslog.drain().count == 2, "an idle keep-alive connection's end is not logged")
    }

    /// The registry keeps sessions, not sockets: an HTTP connection turned tunnel (its
    /// session has handed both sockets to a relay) is still cut by `shutdown session`.
    @Test func shutdownSessionCutsAnUpgradedConnection() throws {
        let s = try Setup()
        defer { s.running.stopAll() }
        let c = try HTTPTestConnection(port: s.front)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(try c.readResponse()?.status == 101)
        c.send("ping")
        #expect(String(decoding: try c.readBytes(4), as: UTF8.self) == "ping")
        let id = try s.sessionID(c)
        #expect(try RuntimeAPICommandTests.ask(s.sockets.admin, "shutdown session \(id)") == "\n")
        let start = Date()
        #expect(c.isClosedByPeer(), "the tunnel is cut")
        #expect(Date().timeIntervalSince(start) < 1, "at once, not at its timeout")
    }

    @Test func aParkedConnectionKeepsItsMaxconnPlace() throws {
        let s = try Setup(global: "  maxconn 1\n")
        defer { s.running.stopAll() }
        let first = try HTTPTestConnection(port: s.front)
        first.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try first.readResponse()?.status == 200)
        #expect(try s.parked(1))
        _ = s.syslog.drain()
        let second = try HTTPTestConnection(port: s.front, timeout: 5)
        second.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(300_000)
        #expect(s.syslog.drain().isEmpty, "the second connection waits for the place")
        first.disconnect()
        #expect(try second.readResponse()?.status == 200, "served once the parked connection is gone")
    }

    @Test func offKeepsIdleConnectionsOnTheirChannels() throws {
        let s = try Setup(park: "off")
        defer { s.running.stopAll() }
        let c = try HTTPTestConnection(port: s.front)
        c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        usleep(400_000)
        #expect(try s.info("ParkedConns") == 0)
        c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
    }

    @Test func badValueIsRefusedWithItsLine() throws {
        let config = try FulcrumProcess.temporaryFile("global\n  tune.park-idle-clients soon\n")
        let result = try FulcrumProcess.run(["-c", "-f", config.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains(":2") && result.stderr.contains("tune.park-idle-clients"), "\(result.stderr)")
    }
}
