import Foundation
import Testing

/// `option splice-auto` (and `-request`, `-response`) in TCP mode: the real binary hands
/// connected pairs to its splice engine. The relay's behaviours (half-close, timeouts,
/// retries, backpressure, large transfers) are covered by TCPProxyTests, which run each
/// case with and without splicing; these cover what splicing changes around the relay:
/// the bytes really move through pipes, and the session (counts, `maxconn`, `show sess`,
/// `shutdown session`, the log line) lasts until the engine ends it.
@Suite(.serialized) struct SpliceTests {
    typealias SyslogListener = AccessLogTests.SyslogListener

    /// Pipes the process holds (its standard streams aside): two per spliced direction.
    static func pipes(_ pid: Int32) -> Int {
        pipeDescriptors(pid).count
    }

    static func pipeDescriptors(_ pid: Int32) -> [String] {
        let dir = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return entries.filter { (Int($0) ?? 0) > 2 && ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\($0)")) ?? "").hasPrefix("pipe:") }
    }

    /// The capacity of each of the process's pipes, read by opening them again through
    /// /proc (F_GETPIPE_SZ, which the Glibc module does not name, is 1032).
    static func pipeSizes(_ pid: Int32) -> [Int32] {
        pipeDescriptors(pid).map { name in
            let fd = open("/proc/\(pid)/fd/\(name)", O_RDWR | O_NONBLOCK)
            defer { if fd >= 0 { close(fd) } }
            return fd >= 0 ? fcntl(fd, 1032) : -1
        }
    }

    /// Starts Fulcrum and waits until the listener probe's own connection (spliced too)
    /// has ended, so that the pipes counted are the test's.
    func start(_ running: RunningProcesses, _ config: String, front: Int) throws -> Int32 {
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config).path])
        try running.waitForListener(front)
        let pid = running.processes.last!.processIdentifier
        usleep(100_000)
        for _ in 0..<60 where Self.pipes(pid) > 0 { usleep(50_000) }
        return pid
    }

    /// With splicing, an open connection holds two pipes; `nosplice` turns it off. Both
    /// relay the same bytes and log the same line.
    @Test(arguments: [true, false]) func bytesMoveThroughPipesAndAreLogged(splicing: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["sp"])
        let syslog = try SyslogListener()
        let front = Loopback.freePort()
        let pid = try start(running, "global\n  log 127.0.0.1:\(syslog.port) local0\n" + (splicing ? "" : "  nosplice\n")
            + TCPProxyTests.tcpDefaults(extra: "    option tcplog\n    log global\n", splice: true)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server sp 127.0.0.1:\(ports[0])\n", front: front)
        usleep(200_000)
        _ = syslog.drain()
        let client = try HTTPTestConnection(port: front)
        #expect(String(decoding: try client.readBytes(3), as: UTF8.self) == "sp\n")
        #expect(Self.pipes(pid) == (splicing ? 4 : 0), "pipes while the connection is open")
        client.send("abc")
        #expect(String(decoding: try client.readBytes(3), as: UTF8.self) == "abc")
        client.shutdownWrite()
        #expect(String(decoding: try client.readToEnd(), as: UTF8.self) == "BYE\n")
        usleep(300_000)
        #expect(Self.pipes(pid) == 0, "pipes closed with the connection")
        let lines = syslog.drain().filter { $0.contains(" l l/sp ") }
        // 3 bytes up, 10 down ("sp\n", "abc", "BYE\n"), a normal end.
        #expect(lines.count == 1 && lines[0].contains(" 10 -- "), "\(lines)")
    }

    /// Bytes read for content inspection are sent before the spliced ones.
    @Test func inspectedBytesGoFirst() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["in"])
        let front = Loopback.freePort()
        let pid = try start(running, TCPProxyTests.tcpDefaults(splice: true) + """
            frontend f
                bind 127.0.0.1:\(front)
                tcp-request inspect-delay 2s
                tcp-request content accept if { req.len ge 5 }
                default_backend b
            backend b
                server in 127.0.0.1:\(ports[0])

            """, front: front)
        let client = try HTTPTestConnection(port: front)
        client.send("hello world")
        #expect(String(decoding: try client.readBytes(14), as: UTF8.self) == "in\nhello world")
        #expect(Self.pipes(pid) == 4)
        #expect(Self.pipeSizes(pid) == [262144, 262144, 262144, 262144], "Fulcrum's default pipe size")
        let big = [UInt8](repeating: 0x7a, count: 1 << 20)
        client.send(big)
        #expect(try client.readBytes(big.count) == big)
        client.shutdownWrite()
        #expect(String(decoding: try client.readToEnd(), as: UTF8.self) == "BYE\n")
    }

    /// A spliced connection is listed and counted until it ends, can be cut from the
    /// runtime API (logged `K`), and a client gone idle is cut at `timeout client`
    /// (logged `cD`); a connection relayed without splicing (`nosplice`) the same.
    @Test(arguments: [true, false]) func sessionsAreListedCountedAndCut(splicing: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["s"])
        let sockets = try RuntimeAPICommandTests.Sockets()
        let syslog = try SyslogListener()
        let front = Loopback.freePort()
        _ = try start(running, sockets.global + "  log 127.0.0.1:\(syslog.port) local0\n" + (splicing ? "" : "  nosplice\n")
            + TCPProxyTests.tcpDefaults(client: "600ms", extra: "    option tcplog\n    log global\n", splice: true)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(ports[0])\n", front: front)
        let admin = sockets.admin
        // The listener probe's own line.
        usleep(200_000)
        _ = syslog.drain()
        let client = try HTTPTestConnection(port: front)
        #expect(String(decoding: try client.readBytes(2), as: UTF8.self) == "s\n")
        let source = "src=127.0.0.1:\(client.localPort) "
        let sessions = try RuntimeAPICommandTests.ask(admin, "show sess")
        let line = try #require(sessions.split(separator: "\n").first { $0.contains(source) }, "\(sessions)")
        #expect(line.contains(": proto=tcpv4 ") && line.contains(" fe=l be=l srv=s "), "\(line)")
        #expect(try RuntimeAPICommandTests.ask(admin, "show info").contains("\nCurrConns: 1\n"))
        let id = String(line.prefix { $0 != ":" })
        #expect(try RuntimeAPICommandTests.ask(admin, "shutdown session \(id)") == "\n")
        #expect(client.isClosedByPeer(), "cut")
        #expect(try RuntimeAPICommandTests.eventually { try !RuntimeAPICommandTests.ask(admin, "show sess").contains(source) })
        #expect(try RuntimeAPICommandTests.eventually { try RuntimeAPICommandTests.ask(admin, "show info").contains("\nCurrConns: 0\n") })

        let idle = try HTTPTestConnection(port: front)
        #expect(String(decoding: try idle.readBytes(2), as: UTF8.self) == "s\n")
        let started = Date()
        #expect(idle.isClosedByPeer())
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed > 0.4 && elapsed < 3, "cut after \(elapsed) s")
        usleep(200_000)
        let lines = syslog.drain().filter { $0.contains(" l l/s ") }
        #expect(lines.count == 2 && lines[0].contains(" KD ") && lines[1].contains(" cD "), "\(lines)")
    }

    /// `maxconn` keeps counting a spliced connection after NIO let go of its socket.
    @Test func maxconnCountsSplicedConnections() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["m"])
        let front = Loopback.freePort()
        _ = try start(running, TCPProxyTests.tcpDefaults(splice: true)
            + "frontend f\n  bind 127.0.0.1:\(front)\n  maxconn 1\n  default_backend b\nbackend b\n  server m 127.0.0.1:\(ports[0])\n", front: front)
        usleep(200_000)
        let first = try HTTPTestConnection(port: front)
        #expect(String(decoding: try first.readBytes(2), as: UTF8.self) == "m\n")
        let second = try HTTPTestConnection(port: front, timeout: 1)
        #expect(throws: (any Error).self, "the second connection waits in the listen queue") { try second.readBytes(2) }
        first.shutdownWrite()
        #expect(String(decoding: try first.readToEnd(), as: UTF8.self) == "BYE\n")
        #expect(String(decoding: try second.readBytes(2), as: UTF8.self) == "m\n", "served once the first has ended")
    }
}

extension SpliceTests {
    /// `maxpipes` caps the spliced connections (two pipes each): one past it is relayed
    /// through user space and works the same. `tune.pipesize` sets the pipes' capacity.
    @Test func maxpipesAndPipesize() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["p"])
        let front = Loopback.freePort()
        let pid = try start(running, "global\n  maxpipes 2\n  tune.pipesize 128k\n" + TCPProxyTests.tcpDefaults(splice: true)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server p 127.0.0.1:\(ports[0])\n", front: front)
        let first = try HTTPTestConnection(port: front)
        #expect(String(decoding: try first.readBytes(2), as: UTF8.self) == "p\n")
        let second = try HTTPTestConnection(port: front)
        #expect(String(decoding: try second.readBytes(2), as: UTF8.self) == "p\n")
        #expect(Self.pipes(pid) == 4, "one connection spliced, the other not")
        #expect(Self.pipeSizes(pid) == [131072, 131072, 131072, 131072], "tune.pipesize")
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for connection in [first, second] {
            connection.send(big)
            #expect(try connection.readBytes(big.count) == big)
            connection.shutdownWrite()
            #expect(String(decoding: try connection.readToEnd(), as: UTF8.self) == "BYE\n")
        }
        usleep(200_000)
        let third = try HTTPTestConnection(port: front)
        #expect(String(decoding: try third.readBytes(2), as: UTF8.self) == "p\n")
        #expect(Self.pipes(pid) == 4, "the pipes are free again")
    }
}

extension SpliceTests {
    /// A reset on either side cuts the other and is logged as that side's (`SD`, `CD`),
    /// spliced or not.
    @Test(arguments: [true, false]) func resetsAreLoggedForTheirSide(splicing: Bool) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let syslog = try SyslogListener()
        let front = Loopback.freePort()
        _ = try start(running, "global\n  log 127.0.0.1:\(syslog.port) local0\n" + (splicing ? "" : "  nosplice\n")
            + TCPProxyTests.tcpDefaults(extra: "    option tcplog\n    log global\n", splice: true)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(backend.port)\n", front: front)
        backend.accept(timeout: 2000)?.disconnect()
        usleep(200_000)
        _ = syslog.drain()
        let client = try HTTPTestConnection(port: front)
        let server = try #require(backend.accept())
        server.send("hi")
        #expect(String(decoding: try client.readBytes(2), as: UTF8.self) == "hi")
        server.reset()
        #expect(client.isClosedByPeer(), "the server's reset cuts the client")

        let second = try HTTPTestConnection(port: front)
        let other = try #require(backend.accept())
        second.send("up")
        #expect(String(decoding: try other.readBytes(2), as: UTF8.self) == "up")
        second.reset()
        #expect(other.isClosedByPeer(), "the client's reset cuts the server")
        usleep(300_000)
        let lines = syslog.drain().filter { $0.contains(" l l/s ") }
        #expect(lines.count == 2 && lines[0].contains(" SD ") && lines[1].contains(" CD "), "\(lines)")
    }
}

extension SpliceTests {
    /// What `tcp-request connection` rules track lasts as long as the spliced session,
    /// not as its channel: a second connection from the same source is refused while the
    /// first is spliced.
    @Test func connectionTrackingOutlivesTheChannel() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try TCPProxyTests().startBackends(running, names: ["t"])
        let front = Loopback.freePort()
        _ = try start(running, TCPProxyTests.tcpDefaults(splice: true) + """
            frontend f
                bind 127.0.0.1:\(front)
                stick-table type ip size 100 store conn_cur
                tcp-request connection track-sc0 src
                tcp-request connection reject if { sc0_conn_cur gt 1 }
                default_backend b
            backend b
                server t 127.0.0.1:\(ports[0])

            """, front: front)
        let first = try HTTPTestConnection(port: front)
        #expect(String(decoding: try first.readBytes(2), as: UTF8.self) == "t\n")
        let second = try HTTPTestConnection(port: front)
        #expect(second.isClosedByPeer(), "refused while the first is open")
        first.shutdownWrite()
        #expect(String(decoding: try first.readToEnd(), as: UTF8.self) == "BYE\n")
        usleep(200_000)
        let third = try HTTPTestConnection(port: front)
        #expect(String(decoding: try third.readBytes(2), as: UTF8.self) == "t\n", "accepted once the first has ended")
    }

    /// A client that sends its FIN and then a reset, while the server is silent, ends the
    /// session at once (not at a timeout): the engine reads the socket's error.
    @Test func resetAfterFinIsNoticed() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let syslog = try SyslogListener()
        let front = Loopback.freePort()
        _ = try start(running, "global\n  log 127.0.0.1:\(syslog.port) local0\n"
            + TCPProxyTests.tcpDefaults(client: "20s", server: "20s", extra: "    option tcplog\n    log global\n", splice: true)
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(backend.port)\n", front: front)
        backend.accept(timeout: 2000)?.disconnect()
        usleep(200_000)
        _ = syslog.drain()
        let client = try HTTPTestConnection(port: front)
        let server = try #require(backend.accept())
        client.send("x")
        client.shutdownWrite()
        #expect(String(decoding: try server.readBytes(1), as: UTF8.self) == "x")
        #expect(server.isClosedByPeer(), "the client's FIN is passed on")
        usleep(100_000)
        client.reset()
        let started = Date()
        // The session ends (and is logged) at the reset, not at a timeout 20 s later.
        var cut = false
        for _ in 0..<40 where !cut {
            usleep(50_000)
            cut = syslog.drain().contains { $0.contains(" l l/s ") && $0.contains(" CD ") }
        }
        #expect(cut, "logged CD within 2 s, after \(Date().timeIntervalSince(started)) s")
    }
}
