import Foundation
import Testing

/// Access logs sent to a UDP syslog listener, in HAProxy's layout: seed 000's own
/// log-format lines (HTTP and TCP), `option httplog`/`tcplog`, a bad request's
/// `<BADREQ>` line at `err` (log-separate-errors), and nothing for an empty connection
/// (dontlognull).
@Suite(.serialized) struct AccessLogTests {
    /// A datagram socket that collects log lines: on a free UDP port of loopback (a
    /// syslog server), or at a unix path (a syslog daemon's /dev/log).
    final class SyslogListener {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
            Self.shortTimeout(fd)
        }

        init(unixPath path: String) {
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            port = 0
            var addr = Loopback.unixAddress(path)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            Self.shortTimeout(fd)
        }

        static func shortTimeout(_ fd: Int32) {
            var tv = timeval(tv_sec: 0, tv_usec: 300_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// Every datagram until none has come for 300 ms.
        func drain() -> [String] {
            var lines: [String] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return lines }
                lines.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }
    }

    @Test func seed000LinesInHAProxysLayout() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let syslog = try SyslogListener()
        let (swiftPort, consciencePort) = try HTTPProxyTests().startSeed000(running) {
            $0.replacingOccurrences(of: "log 127.0.0.1 local0 debug", with: "log 127.0.0.1:\(syslog.port) local0 debug")
        }
        _ = syslog.drain()   // the readiness probes: empty connections, not logged (dontlognull)

        let ok = try HTTPTestConnection.get(swiftPort, "/echo?x=1", headers: "X-Client-IP: 10.1.2.3\r\n")
        #expect(ok?.status == 200)
        #expect(Loopback.connectLoopback(swiftPort).map { close($0) } != nil)   // empty: not logged
        usleep(200_000)   // gone before the next line counts the open connections
        let bad = try HTTPTestConnection(port: swiftPort)
        bad.send("NOT HTTP\r\n\r\n")
        #expect(try bad.readResponse()?.status == 400)
        #expect(try Loopback.exchange(port: consciencePort, send: "ping") == "conscience1\npingBYE\n")
        usleep(300_000)
        let lines = syslog.drain()
        let head = "<(\\d+)>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d fulcrum\\[\\d+\\]: "
        let date = "\\[\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\]"
        let http = try Regex(head + "127\\.0\\.0\\.1:\\d+ " + date + " swift-public swift-backend/swift-proxy\\d w=0/c=\\d+/r=\\d+/t=\\d+ 200 \\d+ - - ---- 1/1/0/0/0 0/0 \\{test\\|\\|10\\.1\\.2\\.3\\} \"GET /echo\\?x=1 HTTP/1\\.1\" [0-9A-F:_]+\n")
        let badRequest = try Regex(head + "127\\.0\\.0\\.1:\\d+ " + date + " swift-public swift-public/<NOSRV> w=-1/c=-1/r=-1/t=\\d+ 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\" -\n")
        let tcp = try Regex(head + "127\\.0\\.0\\.1:\\d+ " + date + " conscience conscience-backend/conscience1 w=0/c=\\d+/t=\\d+ 20 -- 1/1/0/0/0 0/0\n")
        #expect(lines.count == 3, "three lines, none for the empty connection: \(lines)")
        let httpLine = lines.first { $0.wholeMatch(of: http) != nil }
        let badLine = lines.first { $0.wholeMatch(of: badRequest) != nil }
        #expect(httpLine != nil, "\(lines)")
        #expect(badLine != nil, "\(lines)")
        #expect(lines.contains { $0.wholeMatch(of: tcp) != nil }, "\(lines)")
        #expect(httpLine?.hasPrefix("<134>") == true, "local0.info")
        #expect(badLine?.hasPrefix("<131>") == true, "log-separate-errors: local0.err")
    }
}

extension AccessLogTests {
    /// Server state changes reach the backend's log targets at HAProxy's levels.
    @Test func serverStateChangesGoToSyslog() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let syslog = try SyslogListener()
        let front = Loopback.freePort(), dead = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, "global\n  log 127.0.0.1:\(syslog.port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(dead) check inter 100ms\n", waitFor: front)
        var lines: [String] = []
        for _ in 0..<10 where lines.count < 2 { lines += syslog.drain() }
        let down = try Regex("<129>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d fulcrum\\[\\d+\\]: Server l/s is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: \\d+ms\\. 0 active and 0 backup servers left\\. 0 sessions active, 0 requeued, 0 remaining in queue\\.\n")
        #expect(lines.contains { $0.wholeMatch(of: down) != nil }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<128>") && $0.hasSuffix("proxy l has no server available!\n") }, "\(lines)")
    }
}

extension AccessLogTests {
    /// Pipelined requests each get their line; a close-delimited response is a normal end.
    @Test func pipelinedAndCloseDelimitedRequestsAreLogged() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let syslog = try SyslogListener()
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let front = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, "global\n  log 127.0.0.1:\(syslog.port) local0\n"
            + HTTPProxyTests.httpDefaults(extra: "    log global\n    option httplog\n    option dontlognull\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        _ = syslog.drain()
        let c = try HTTPTestConnection(port: front)
        c.send("GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        #expect(try c.readResponse()?.status == 200)
        c.send("GET /noclose-length HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try c.readToEnd()
        usleep(300_000)
        let lines = syslog.drain()
        #expect(lines.contains { $0.contains("\"GET /echo?n=1 HTTP/1.1\"") } && lines.contains { $0.contains("\"GET /echo?n=2 HTTP/1.1\"") }, "\(lines)")
        let closing = lines.first { $0.contains("/noclose-length") }
        #expect(closing?.contains(" 200 ") == true && closing?.contains(" ---- ") == true, "a close-delimited response ends normally: \(closing ?? "none")")
    }
}

extension AccessLogTests {
    /// Debian's stock `log /dev/log`: Fulcrum starts without a syslog daemon, and
    /// reaches it once it is there, and again after it restarts.
    @Test func unixLogSocketIsReachedWhenItComesAndAfterARestart() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-log-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        let front = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, "global\n  log \(path) local0\n"
            + HTTPProxyTests.httpDefaults(extra: "    log global\n    option httplog\n    option dontlognull\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        #expect(try HTTPTestConnection.get(front, "/echo?before")?.status == 200, "started and serving without a syslog daemon")
        var syslog: SyslogListener? = SyslogListener(unixPath: path)
        sleep(1)
        #expect(try HTTPTestConnection.get(front, "/echo?first")?.status == 200)
        usleep(1_100_000)
        #expect(try HTTPTestConnection.get(front, "/echo?second")?.status == 200)
        #expect(syslog!.drain().contains { $0.contains("\"GET /echo?second HTTP/1.1\"") }, "reached once the socket exists")
        syslog = nil
        syslog = SyslogListener(unixPath: path)   // the daemon restarts: a new socket at the same path
        for k in 0..<3 {
            _ = try HTTPTestConnection.get(front, "/echo?after\(k)")
            usleep(600_000)
        }
        #expect(syslog!.drain().contains { $0.contains("/echo?after2") }, "reached again after the restart")
    }
}

extension AccessLogTests {
    /// `%[...]` fetches of the transaction in `log-format` (variables, status, names) and
    /// `http-request capture` slots after `capture request header`: the same line as
    /// HAProxy 2.6 prints for the same requests.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func transactionSamplesAndRuleCapturesInLogLines() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let listeners = [try SyslogListener(), try SyslogListener()]
        func config(_ port: Int, _ k: Int) -> String {
            "global\n  log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                capture request header Host len 20
                http-request capture req.hdr(user-agent) len 10
                http-request set-var(txn.route) str(api) if { path_beg /api }
                log-format "%ci %hr route=%[var(txn.route)] st=%[status] be=%[be_name] %{+Q}r"
                default_backend b
            backend b
                server a 127.0.0.1:\(ports[0])

            """
        }
        let fronts = try ACLIntegrationTests.startSideBySide(running, config)
        var bodies: [[String]] = []
        for k in 0..<2 {
            _ = listeners[k].drain()
            for request in ["GET /api/x HTTP/1.1\r\nHost: WWW.Ex.com\r\nUser-Agent: agent-long-name\r\n", "GET /x HTTP/1.1\r\nHost: h\r\n"] {
                let c = try HTTPTestConnection(port: fronts[k])
                c.send(request + "Connection: close\r\n\r\n")
                _ = try c.readResponse()
            }
            usleep(300_000)
            // The message after the syslog header (`<134>date tag[pid]: `).
            bodies.append(listeners[k].drain().compactMap { $0.split(separator: ":", maxSplits: 3).last.map { String($0.dropFirst()).trimmingCharacters(in: .newlines) } })
        }
        #expect(bodies[0] == ["127.0.0.1 {WWW.Ex.com|agent-long} route=api st=200 be=b \"GET /api/x HTTP/1.1\"",
                              "127.0.0.1 {h|} route=- st=200 be=b \"GET /x HTTP/1.1\""], "\(bodies[0])")
        #expect(bodies[0] == bodies[1], "HAProxy: \(bodies[1])")
    }
}

extension AccessLogTests {
    /// `set-log-level` changes the syslog level of the request's line (`silent`: no
    /// line), and `so_name` is the bind line's name: as HAProxy 2.6 sends them.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func logLevelRulesAndListenerName() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let listeners = [try SyslogListener(), try SyslogListener()]
        func config(_ port: Int, _ k: Int) -> String {
            "global\n  log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n") + """
            frontend fe
                bind 127.0.0.1:\(port) name web
                http-request set-log-level err if { path /err }
                http-request set-log-level silent if { path /quiet }
                log-format "%[so_name] %{+Q}r"
                default_backend b
            backend b
                server a 127.0.0.1:\(ports[0])

            """
        }
        let fronts = try ACLIntegrationTests.startSideBySide(running, config)
        var seen: [[String]] = []
        for k in 0..<2 {
            _ = listeners[k].drain()
            for path in ["/ok", "/err", "/quiet"] {
                let c = try HTTPTestConnection(port: fronts[k])
                c.send("GET \(path) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                _ = try c.readResponse()
            }
            usleep(300_000)
            // The priority and the message, without the date and tag in between.
            seen.append(listeners[k].drain().map { line in
                let priority = line.prefix { $0 != ">" } + ">"
                return priority + (line.split(separator: ":", maxSplits: 3).last.map { String($0.dropFirst()).trimmingCharacters(in: .newlines) } ?? "")
            })
        }
        // Sorted: the connections may be served by different threads, whose lines
        // leave at the end of their own loop turns (HAProxy's threads do not order
        // their lines either).
        seen = seen.map { $0.sorted() }
        #expect(seen[0] == ["<131>web \"GET /err HTTP/1.1\"", "<134>web \"GET /ok HTTP/1.1\""], "\(seen[0])")
        #expect(seen[0] == seen[1], "HAProxy: \(seen[1])")
    }
}

extension AccessLogTests {
    /// Lines written during one turn of an HTTP loop leave together at its end
    /// (`sendmmsg`): every request gives its line, each connection's in the order of its
    /// requests, to a UDP target (30 connections of 20 pipelined requests) and to a unix
    /// socket (one of 8: a unix datagram socket queues 10 unread datagrams at most, by
    /// default).
    @Test(arguments: [(true, 20), (false, 8)]) func linesSentTogetherArriveWholeAndInOrder(_ udp: Bool, _ count: Int) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-log-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        let listener = udp ? try SyslogListener() : SyslogListener(unixPath: path)
        var size: Int32 = 4 << 20
        setsockopt(listener.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let front = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, "global\n  log \(udp ? "127.0.0.1:\(listener.port)" : path) local0\n"
            + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n    log-format \"%r\"\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        // Several connections at once (so that a turn has several lines to send), each
        // with its requests pipelined.
        let connections = udp ? 30 : 1
        let clients = try (0..<connections).map { _ in try HTTPTestConnection(port: front) }
        for (c, client) in clients.enumerated() {
            client.send((0..<count).map { "GET /echo?c=\(c)&n=\($0) HTTP/1.1\r\nHost: h\r\n\r\n" }.joined())
        }
        for client in clients {
            for k in 0..<count {
                let response = try client.readResponse()
                #expect(response?.status == 200, "response \(k)")
                if response?.status != 200 { return }
            }
        }
        usleep(200_000)
        let lines = LogTargetTests.messages(listener.drain())
        #expect(lines.count == connections * count, "\(lines.count) lines")
        for c in 0..<connections {
            let mine = lines.filter { $0.hasPrefix("GET /echo?c=\(c)&") }
            let expected = (0..<count).map { "GET /echo?c=\(c)&n=\($0) HTTP/1.1" }
            #expect(mine == expected, "connection \(c): first differences: \(zip(mine, expected).filter { $0 != $1 }.prefix(2))")
        }
    }
}
