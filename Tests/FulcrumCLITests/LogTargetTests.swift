import Foundation
import Testing

/// Log lines and where they go, on the real `fulcrum` process next to HAProxy 2.6 on
/// the same configuration: the log-format variables with their flags, `ring@` targets
/// read back with `show events`, `sample` on targets, and `option log-health-checks`.
@Suite(.serialized) struct LogTargetTests {
    typealias SyslogListener = AccessLogTests.SyslogListener

    /// The message of each syslog line, after `<PRI>date tag[pid]: `.
    static func messages(_ lines: [String]) -> [String] {
        lines.map { line in
            guard let start = line.range(of: "]: ") else { return line }
            return String(line[start.upperBound...]).trimmingCharacters(in: .newlines)
        }
    }

    static var hostname: String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The next `count` datagrams, waiting up to 3 s for them.
    static func nextLines(_ listener: SyslogListener, _ count: Int) -> [String] {
        var lines: [String] = [], buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<10 where lines.count < count {
            let n = recv(listener.fd, &buffer, buffer.count, 0)
            if n > 0 { lines.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
        }
        return lines
    }

    /// Sends each raw request on its own connection and reads the answer to its end.
    static func send(_ port: Int, _ requests: [String]) throws {
        for request in requests {
            let c = try HTTPTestConnection(port: port)
            c.send(request)
            _ = try? c.readToEnd()
        }
    }

    /// Every variable whose value does not change from run to run, with the quote,
    /// hexadecimal and escape flags, on a request with characters that need escaping,
    /// an absolute URI, a bare path and a bad request: the same lines as HAProxy's.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func variablesAndFlagsAsHAProxyPrintsThem() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let listeners = [try SyslogListener(), try SyslogListener()]
        let formats = [
            "HM=%HM HP=%HP HPO=%HPO HQ=%HQ HU=%HU HV=%HV CC=%CC CS=%CS H=%H ID=%ID ST=%ST b=%b ci=%ci bi=%bi si=%si f=%f ft=%ft lc=%lc hr=%hr hrl=%hrl hs=%hs hsl=%hsl r=%r s=%s sslc=%sslc sslv=%sslv ts=%ts tsc=%tsc Th=%Th rc=%rc",
            "%{+Q}o HM=%HM HQ=%HQ HV=%HV CC=%CC H=%H ID=%ID ST=%ST b=%b ci=%ci bi=%bi bp=%{-X}bp si=%si f=%f hr=%hr hrl=%hrl hsl=%hsl r=%r sslc=%sslc [%[src]] [%[var(txn.none)]]",
            "%{+X}o ci=%ci fi=%fi bi=%bi si=%si lc=%lc ST=%ST rc=%rc [%[src]] %{+E}r %{+E}hr %{+E}hrl %{+E}HU %{+E}HQ %{+E,+Q}HV %{+E}[var(txn.host)] [%[var(txn.host)]] %{+E}ID",
            "  lead  merged %HQ  %hs  after-empty-capture %hr  end ",
        ]
        func config(_ ports: [Int], _ k: Int) -> String {
            "global\n  log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n")
                + formats.enumerated().map { n, format in
                    """
                    frontend fe\(n)
                        bind 127.0.0.1:\(ports[n])
                        capture request header Host len 20
                        capture request header X-Missing len 20
                        capture response header X-Backend len 20
                        http-request set-var(txn.host) req.hdr(host)
                        log-format "\(format)"
                        default_backend b

                    """
                }.joined() + "backend b\n    server s1 127.0.0.1:\(backend)\n"
        }
        let ports = (0..<2).map { _ in formats.map { _ in Loopback.freePort() } }
        _ = try HTTPProxyTests().startFulcrum(running, config(ports[0], 0), waitFor: ports[0].last!)
        try running.start(ACLIntegrationTests.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[1], 1)).path])
        try running.waitForListener(ports[1].last!)
        let requests = [
            "GET /echo?a=1&b=\"q\"]\\ HTTP/1.1\r\nHost: h\"{|}]\\x\r\nConnection: close\r\n\r\n",
            "GET http://e/p/a?z=1 HTTP/1.0\r\nHost: e\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
            "NOT HTTP\r\n\r\n",
        ]
        var seen: [[String]] = [[], []]
        for k in 0..<2 {
            for n in 0..<formats.count {
                _ = listeners[k].drain()
                // One request at a time, its line in before the next: `%lc` counts in order.
                for request in requests {
                    try Self.send(ports[k][n], [request])
                    // The server connection's own port changes from run to run.
                    seen[k] += Self.messages(Self.nextLines(listeners[k], 1)).map { $0.replacing(/bp=\d+/, with: "bp=N") }
                }
            }
        }
        #expect(seen[0].count == formats.count * requests.count, "\(seen[0])")
        for (mine, reference) in zip(seen[0], seen[1]) {
            #expect(mine == reference, "Fulcrum:\n\(mine)\nHAProxy:\n\(reference)")
        }
        #expect(seen[0].first == "HM=GET HP=/echo HPO=/echo HQ=?a=1&b=#22q#22]\\ HU=/echo?a=1&b=#22q#22]\\ HV=HTTP/1.1 CC=- CS=- H=\(Self.hostname) ID=- ST=200 b=b ci=127.0.0.1 bi=127.0.0.1 si=127.0.0.1 f=fe0 ft=fe0 lc=0 hr={h#22#7B#7C#7D]\\x|} hrl=h#22#7B#7C#7D]\\x - hs={a} hsl=a r=GET /echo?a=1&b=#22q#22]\\ HTTP/1.1 s=s1 sslc=- sslv=- ts=-- tsc=---- Th=0 rc=0")
    }

    /// Dates, microseconds and process IDs change from run to run.
    static func maskDates(_ text: String) -> String {
        text.replacing(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d/, with: "ISO")
            .replacing(/[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d/, with: "DATE")
            .replacing(/\[\d+\]/, with: "[PID]").replacing(/\slb\s\d+\s-\s-\s/, with: " lb PID - - ")
    }

    /// `log ring@<name>` in each format, `maxlen` cutting events, a level filter, the
    /// built-in `buf0`: `show events` lists the rings and dumps each as HAProxy does.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func ringsReadBackWithShowEvents() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-ring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        func config(_ port: Int, _ k: Int) -> String {
            """
            global
                stats socket \(sockets[k]) level admin
                log-tag lb
                log ring@r1 format rfc5424 local0
                log ring@r2 local1
                log ring@r3 format short local2
                log ring@r4 len 90 local3 info
                log ring@r5 local4 notice
                log ring@buf0 local5
                log ring@r6 len 80 local6
            ring r6
            ring r1
                description "first ring"
            ring r2
                format iso
                size 20000
            ring r3
                format rfc3164
            ring r4
                format timed
                maxlen 40
            ring r5
                format priority

            """ + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                log-format "%ci %{+Q}r %ST 0123456789012345678901234567890123456789012345678901234567890123456789"
                default_backend b
            backend b
                server s1 127.0.0.1:\(backend)

            """
        }
        let ports = try ACLIntegrationTests.startSideBySide(running, config)
        for port in ports {
            for n in 1...2 {
                try Self.send(port, ["GET /echo?\(n) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"])
                // The line is written once the exchange is over, just after the client saw it end.
                usleep(100_000)
            }
        }
        usleep(200_000)
        for command in ["show events", "show events r1", "show events r2", "show events r3", "show events r4", "show events r5", "show events r6", "show events buf0",
                        "show events r1 -n", "show events nope", "show events r1 -x"] {
            var answers = try sockets.map { Self.maskDates(try RuntimeAPITests.ask($0, command)) }
            // HAProxy ends an error without the empty line that ends other answers.
            if answers[1].hasSuffix("sink\n") || answers[1].hasSuffix("option\n") { answers[1] += "\n" }
            #expect(answers[0] == answers[1], "\(command): Fulcrum\n\(answers[0])\nHAProxy\n\(answers[1])")
        }
        let r4 = try RuntimeAPITests.ask(sockets[0], "show events r4").split(separator: "\n")
        #expect(r4.count == 2 && r4.allSatisfy { $0.count == 40 && $0.hasPrefix("<6>") }, "maxlen 40: \(r4)")
        #expect(try RuntimeAPITests.ask(sockets[0], "show events r5") == "\n", "info lines are above the ring's notice level")
        let r6 = try RuntimeAPITests.ask(sockets[0], "show events r6").split(separator: "\n")
        #expect(r6.count == 2 && r6.allSatisfy { $0.count == 80 }, "cut at len: \(r6)")
    }

    /// One UDP target per format, with and without `log-send-hostname`, one cut at
    /// `len`, and `sample` keeping lines 1-2 and 5 of every 5: the datagrams HAProxy
    /// sends, dates and process IDs aside.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil), arguments: ["", "    log-send-hostname lb1.example\n"])
    func framesAndSamplingAsHAProxySendsThem(_ hostname: String) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let listeners = [[try SyslogListener(), try SyslogListener()], [try SyslogListener(), try SyslogListener()]]
        func config(_ port: Int, _ k: Int) -> String {
            let udp = listeners[k][0].port, sampled = listeners[k][1].port
            return "global\n    log-tag lb\n" + hostname + ["local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"].map {
                "    log 127.0.0.1:\(udp) format \($0) local0\n"
            }.joined() + """
                log 127.0.0.1:\(udp) len 80 local1
                log 127.0.0.1:\(sampled) sample 1-2,5:5 local2

            """ + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                log-format "%ci %{+Q}r 0123456789012345678901234567890123456789"
                default_backend b
            backend b
                server s1 127.0.0.1:\(backend)

            """
        }
        let ports = try ACLIntegrationTests.startSideBySide(running, config)
        var seen: [[String]] = [[], []], sampled: [[String]] = [[], []]
        for k in 0..<2 {
            _ = listeners[k][0].drain()
            _ = listeners[k][1].drain()
            // One request at a time, its nine lines in before the next: sampling counts in order.
            for n in 1...12 {
                try Self.send(ports[k], ["GET /echo?\(n) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"])
                seen[k] += Self.nextLines(listeners[k][0], 9).map(Self.maskDates)
            }
            usleep(300_000)
            sampled[k] = Self.messages(listeners[k][1].drain())
        }
        #expect(seen[0].count == 12 * 9, "\(seen[0].count) lines")
        for (mine, reference) in zip(seen[0], seen[1]).prefix(9) {
            #expect(mine == reference, "Fulcrum:\n\(mine)HAProxy:\n\(reference)")
        }
        #expect(seen[0] == seen[1])
        #expect(sampled[0] == ["1", "2", "5", "6", "7", "10", "11", "12"].map { "127.0.0.1 \"GET /echo?\($0) HTTP/1.1\" 0123456789012345678901234567890123456789" }, "\(sampled[0])")
        #expect(sampled[0] == sampled[1], "HAProxy: \(sampled[1])")
    }

    /// A listening TCP socket on `port` of loopback: L4 health checks pass while it is open.
    static func listen(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        Glibc.listen(fd, 1024)
        return fd
    }

    /// `option log-health-checks`: a server that is DOWN at start, comes UP and goes
    /// DOWN again, and a backup beside it. Each check that moves a server's health gets
    /// HAProxy's "Health check for ..." line, and the DOWN/UP lines lose their reason:
    /// the same lines, server by server, as HAProxy 2.6 sends.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func healthChecksLoggedAsHAProxyLogsThem() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let listeners = [try SyslogListener(), try SyslogListener()]
        let server = Loopback.freePort()
        func config(_ port: Int, _ k: Int) -> String {
            "global\n    log 127.0.0.1:\(listeners[k].port) local0\n    log-tag lb\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n    option log-health-checks\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                default_backend b
            backend b
                server s1 127.0.0.1:\(server) check inter 200ms rise 2 fall 3
                server s2 127.0.0.1:\(server) check inter 200ms rise 1 fall 1 backup

            """
        }
        _ = try ACLIntegrationTests.startSideBySide(running, config)
        var lines: [[String]] = [[], []]
        func collect(for seconds: Double) {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end { for k in 0..<2 { lines[k] += listeners[k].drain() } }
        }
        collect(for: 1.2)
        let fd = Self.listen(server)
        collect(for: 1.5)
        close(fd)
        collect(for: 1.8)
        // The first checks run in no set order, so the counts of the first DOWN lines
        // depend on which server was checked first: they are left out.
        func story(_ lines: [String], _ name: String) -> [String] {
            var started = false
            return lines.map { Self.maskDates($0).replacing(/duration: \d+ms/, with: "duration: Nms") }.filter { $0.contains("b/\(name) ") }.map { line in
                if line.contains("succeeded") { started = true }
                return started ? line : line.replacing(/\d active and \d backup servers left\.( Running on backup\.)?/, with: "COUNTS")
            }
        }
        for name in ["s1", "s2"] {
            let mine = story(lines[0], name), reference = story(lines[1], name)
            #expect(mine == reference, "\(name): Fulcrum\n\(mine.joined())HAProxy\n\(reference.joined())")
        }
        #expect(story(lines[0], "s1") == [
            "<133>DATE lb[PID]: Health check for server b/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 0/2 DOWN.\n",
            "<129>DATE lb[PID]: Server b/s1 is DOWN. COUNTS 0 sessions active, 0 requeued, 0 remaining in queue.\n",
            "<133>DATE lb[PID]: Health check for server b/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/2 DOWN.\n",
            "<133>DATE lb[PID]: Health check for server b/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 3/3 UP.\n",
            "<133>DATE lb[PID]: Server b/s1 is UP. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.\n",
            "<133>DATE lb[PID]: Health check for server b/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 2/3 UP.\n",
            "<133>DATE lb[PID]: Health check for server b/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 1/3 UP.\n",
            "<133>DATE lb[PID]: Health check for server b/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 0/2 DOWN.\n",
            "<129>DATE lb[PID]: Server b/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n",
        ])
    }

    /// A syslog server over TCP: the bytes of the first connection a ring forwarder makes.
    final class TCPSyslogServer {
        let fd: Int32
        let port: Int

        init(port: Int) {
            self.port = port
            fd = LogTargetTests.listen(port)
            var tv = timeval(tv_sec: 4, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// Accepts one connection and reads it until it has been quiet for `quiet` seconds.
        func receive(quiet: Double = 0.5) -> [UInt8] {
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return [] }
            defer { close(c) }
            var tv = timeval(tv_sec: 0, tv_usec: Int(quiet * 1_000_000))
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(c, &buffer, buffer.count, 0)
                if n <= 0 { return out }
                out += buffer[0..<n]
            }
        }
    }

    /// RFC 6587 octet counting: each event preceded by its length and a space.
    static func octetCounted(_ bytes: [UInt8]) -> [String]? {
        var events: [String] = [], rest = bytes[...]
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: UInt8(ascii: " ")), let length = Int(String(decoding: rest[..<space], as: UTF8.self)),
                  rest.index(after: space) + length <= rest.endIndex else { return nil }
            let start = rest.index(after: space)
            events.append(String(decoding: rest[start..<(start + length)], as: UTF8.self))
            rest = rest[(start + length)...]
        }
        return events
    }

    /// A ring's `server` lines: the events logged before the syslog server listens are
    /// sent once it does, then the new ones, one per line (`log-proto legacy`) or
    /// octet-counted, in the ring's format: the same stream as HAProxy's.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func ringsForwardToTCPSyslogServers() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let ports = (0..<2).map { _ in (Loopback.freePort(), Loopback.freePort()) }
        func config(_ port: Int, _ k: Int) -> String {
            """
            global
                log-tag lb
                log ring@plain local0
                log ring@counted local1
            ring plain
                format rfc3164
                timeout connect 1s
                server syslog 127.0.0.1:\(ports[k].0)
            ring counted
                format rfc5424
                maxlen 120
                server syslog 127.0.0.1:\(ports[k].1) log-proto octet-count

            """ + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                log-format "%ci %{+Q}r %ST"
                default_backend b
            backend b
                server s1 127.0.0.1:\(backend)

            """
        }
        let fronts = try ACLIntegrationTests.startSideBySide(running, config)
        func get(_ k: Int, _ n: Int) throws { try Self.send(fronts[k], ["GET /echo?\(n) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"]) }
        for k in 0..<2 { try get(k, 1) }
        var streams: [(plain: [UInt8], counted: [UInt8])] = []
        for k in 0..<2 {
            // The syslog servers come up after the first line was logged.
            let plain = TCPSyslogServer(port: ports[k].0), counted = TCPSyslogServer(port: ports[k].1)
            try get(k, 2)
            streams.append((plain.receive(), counted.receive()))
        }
        let plain = streams.map { Self.maskDates(String(decoding: $0.plain, as: UTF8.self)) }
        #expect(plain[0] == "<134>DATE localhost lb[PID]: 127.0.0.1 \"GET /echo?1 HTTP/1.1\" 200\n<134>DATE localhost lb[PID]: 127.0.0.1 \"GET /echo?2 HTTP/1.1\" 200\n", "\(plain[0])")
        #expect(plain[0] == plain[1], "HAProxy: \(plain[1])")
        let counted = streams.map { Self.octetCounted($0.counted)?.map(Self.maskDates) }
        #expect(counted[0]?.count == 2 && counted[0]?.first?.hasPrefix("<142>1 ISO - lb PID - - 127.0.0.1 \"GET /echo?1") == true, "\(counted[0] ?? [])")
        #expect(counted[0] == counted[1], "HAProxy: \(counted[1] ?? [])")
    }

    /// `capture cookie` (`%CC`, `%CS`) and the cookie states of `%tsc` with each
    /// persistence mode: inserted, rewritten, prefixed, passive, a server's own cookie
    /// deleted, an invalid cookie, a cookie naming a DOWN server: as HAProxy logs them.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func cookieCapturesAndStatesAsHAProxyLogsThem() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let listeners = [try SyslogListener(), try SyslogListener()]
        func config(_ port: Int, _ k: Int) -> String {
            "global\n    log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n") + """
            frontend fe
                bind 127.0.0.1:\(port)
                capture cookie SRV len 12
                log-format "%tsc [%CC] [%CS] %{+Q}CC %{+Q}r"
                use_backend rw if { hdr(x-be) rw }
                use_backend pfx if { hdr(x-be) pfx }
                use_backend pas if { hdr(x-be) pas }
                use_backend np if { hdr(x-be) np }
                default_backend ins
            backend ins
                cookie SRV insert indirect nocache
                server s1 127.0.0.1:\(backend) cookie a
                server s2 127.0.0.1:\(Loopback.freePort()) cookie b check inter 100ms
            backend rw
                cookie SRV rewrite
                server s1 127.0.0.1:\(backend) cookie a
            backend pfx
                cookie SRV prefix
                server s1 127.0.0.1:\(backend) cookie a
            backend pas
                cookie SRV
                server s1 127.0.0.1:\(backend) cookie a
            backend np
                cookie SRV insert
                server s1 127.0.0.1:\(backend) cookie a

            """
        }
        let ports = try ACLIntegrationTests.startSideBySide(running, config)
        usleep(500_000)   // s2 is DOWN by now
        let requests: [(String, String, String)] = [
            ("", "", "/echo"), ("", "x=1; SRV=a; SRVX=zz", "/echo"), ("", "SRV=b", "/echo"), ("", "SRV=zzz", "/echo"),
            ("rw", "", "/set-cookie?name=SRV&value=orig"), ("rw", "SRV=a", "/set-cookie?name=SRV&value=orig"), ("rw", "SRV=q", "/echo"),
            ("pfx", "SRV=a~orig", "/echo"), ("pfx", "SRV=orig", "/echo"), ("pfx", "SRV=a~orig", "/set-cookie?name=SRV&value=v2"),
            ("pas", "", "/set-cookie?name=SRV&value=a"), ("pas", "SRV=a", "/echo"),
            ("np", "", "/set-cookie?name=SRV&value=mine"), ("np", "SRV=a", "/set-cookie?name=SRV&value=mine"),
            ("", " SRVLONGNAME=0123456789  ; o=1", "/set-cookie?name=SRVLONGNAME&value=abcdefghijkl"),
        ]
        var seen: [[String]] = [[], []]
        for k in 0..<2 {
            _ = listeners[k].drain()
            for (be, cookie, path) in requests {
                try Self.send(ports[k], ["GET \(path) HTTP/1.1\r\nHost: h\r\n" + (be.isEmpty ? "" : "X-Be: \(be)\r\n") + (cookie.isEmpty ? "" : "Cookie: \(cookie)\r\n") + "Connection: close\r\n\r\n"])
                seen[k] += Self.messages(Self.nextLines(listeners[k], 1))
            }
        }
        #expect(seen[0].count == requests.count)
        #expect(seen[0] == seen[1], "Fulcrum:\n\(seen[0].joined(separator: "\n"))\nHAProxy:\n\(seen[1].joined(separator: "\n"))")
        #expect(seen[0].map { String($0.prefix(4)) } == ["--NI", "--VN", "--DI", "--II", "--NR", "--VR", "--IN", "--VN", "--IN", "--VR", "----", "----", "--NI", "--VD", "--NI"])
    }
}
