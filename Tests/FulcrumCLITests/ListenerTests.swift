import Foundation
import Testing

/// Every kind of `bind` line on the real binary: IPv6, dual-stack and v6-only
/// wildcards, port ranges, addresses this host does not hold (freebind), `interface`,
/// `backlog`, unix sockets with their owner and mode, and sockets inherited as `fd@N`.
@Suite(.serialized) struct ListenerTests {
    let tcp = TCPProxyTests()

    /// A blocking TCP connection to [::1]:port, or nil.
    static func connect6(_ port: Int) -> Int32? {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_addr = in6addr_loopback
        addr.sin6_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }

    /// A blocking connection to a unix socket, or nil.
    static func connectUnix(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = Loopback.unixAddress(path)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }

    /// Sends "x", half-closes and reads everything: the test backend greets, echoes and
    /// says BYE.
    static func exchange(_ fd: Int32) -> String {
        let c = HTTPTestConnection(fd: fd, timeout: 5)
        c.send("x")
        c.shutdownWrite()
        return String(decoding: (try? c.readToEnd()) ?? [], as: UTF8.self)
    }

    @Test func everyKindOfAddressCarriesTraffic() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try tcp.startBackends(running, names: ["b"])
        let v6 = Loopback.freePort(), v6only = Loopback.freePort(), dual = Loopback.freePort(), lo = Loopback.freePort()
        let rangeStart = Loopback.portOutsideEphemeralRange()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        let file = try FulcrumProcess.temporaryFile(TCPProxyTests.tcpDefaults() + """
        listen l
            bind [::1]:\(v6)
            bind :::\(v6only) v6only
            bind :::\(dual) v4v6
            bind 127.0.0.1:\(lo) interface lo backlog 77
            bind 127.0.0.1:\(rangeStart)-\(rangeStart + 2)
            bind 192.0.2.10:\(lo),[2001:db8::10]:\(lo)
            bind \(path) mode 600 user nobody group nogroup
            server b 127.0.0.1:\(ports[0])
        """)
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
        try running.waitForListener(lo)

        #expect(Self.connect6(v6).map(Self.exchange) == "b\nxBYE\n", "IPv6")
        #expect(Self.connect6(v6only).map(Self.exchange) == "b\nxBYE\n", "v6only takes IPv6")
        #expect(Loopback.connectLoopback(v6only) == nil, "v6only refuses IPv4")
        #expect(Loopback.connectLoopback(dual).map(Self.exchange) == "b\nxBYE\n", "v4v6 takes IPv4 too")
        #expect(Loopback.connectLoopback(lo).map(Self.exchange) == "b\nxBYE\n", "interface lo")
        for port in rangeStart...(rangeStart + 2) {
            #expect(Loopback.connectLoopback(port).map(Self.exchange) == "b\nxBYE\n", "port range: \(port)")
        }
        #expect(Self.connectUnix(path).map(Self.exchange) == "b\nxBYE\n", "unix socket")

        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "mode 600")
        if getuid() == 0, let nobody = getpwnam("nobody") {
            #expect(info.st_uid == nobody.pointee.pw_uid, "owned by nobody")
        }
        let listening = try Self.run("/usr/bin/ss", ["-Hltn", "sport = :\(lo)"])
        #expect(listening.contains("%lo:\(lo)"), "bound to the device: \(listening)")
        #expect(listening.split(separator: "\n").contains { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first == "77" }, "backlog 77: \(listening)")
        let all = try Self.run("/usr/bin/ss", ["-Hltn"])
        #expect(all.contains("192.0.2.10:\(lo)") && all.contains("[2001:db8::10]:\(lo)"), "addresses this host does not hold are bound (freebind)")
    }

    /// `tune.maxaccept 1` (one accept per readiness, the rest in later turns) and -1
    /// (no limit) both serve a burst of 64 connections opened before any is answered,
    /// in HTTP mode (Fulcrum's listener) and TCP mode (NIO's).
    @Test func aBurstOfConnectionsIsServedWhateverTuneMaxaccept() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let http = HTTPProxyTests()
        let ports = try http.startBackends(running, ["b"])
        for (limit, mode) in [("1", "http"), ("-1", "http"), ("1", "tcp")] {
            let front = Loopback.freePort()
            _ = try http.startFulcrum(running, "global\n    tune.maxaccept \(limit)\ndefaults\n    mode \(mode)\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"
                + "listen l\n    bind 127.0.0.1:\(front)\n    server b 127.0.0.1:\(ports[0])\n", waitFor: front)
            let clients = try (0..<64).map { _ in try HTTPTestConnection(port: front) }
            for client in clients { client.send("GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n") }
            let answered = clients.filter { (try? $0.readResponse())??.status == 200 }.count
            #expect(answered == 64, "tune.maxaccept \(limit), mode \(mode)")
        }
    }

    @Test func unknownInterfaceIsAStartError() throws {
        let file = try FulcrumProcess.temporaryFile(TCPProxyTests.tcpDefaults() + "listen l\n  bind 127.0.0.1:\(Loopback.freePort()) interface nosuchif0\n  server b 127.0.0.1:1\n")
        let run = try FulcrumProcess.run(["-db", "-f", file.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot bind") && run.stderr.contains("nosuchif0"), "\(run.stderr)")
    }

    /// What is not implemented yet is refused, never run half-way (plain text where TLS
    /// was configured).
    @Test func tlsAndProxyProtocolAreRefusedAtStart() throws {
        for (bind, server, word) in [(" ssl crt /etc/ssl/x.pem", "", "ssl"), (" accept-proxy", "", "accept-proxy"), ("", " send-proxy", "send-proxy"), ("", " ssl verify none", "ssl")] {
            let file = try FulcrumProcess.temporaryFile(TCPProxyTests.tcpDefaults() + "listen l\n  bind 127.0.0.1:\(Loopback.freePort())\(bind)\n  server b 127.0.0.1:1\(server)\n")
            let run = try FulcrumProcess.run(["-db", "-f", file.path])
            #expect(run.status == 1)
            #expect(run.stderr.contains("'\(word)'") && run.stderr.contains("not implemented yet"), "\(run.stderr)")
        }
    }

    /// A listening socket handed over as descriptor 3, as HAProxy's test tools do.
    @Test func inheritedSocketIsServed() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try tcp.startBackends(running, names: ["b"])
        let port = Loopback.freePort()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(fd, 16) == 0)
        let file = try FulcrumProcess.temporaryFile(TCPProxyTests.tcpDefaults() + "listen l\n  bind fd@3\n  server b 127.0.0.1:\(ports[0])\n")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fd, 3)
        let argv = [FulcrumProcess.binary.path, "-db", "-f", file.path]
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ) == 0)
        close(fd)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var reply = ""
        for _ in 0..<100 where reply.isEmpty {
            usleep(30_000)
            reply = Loopback.connectLoopback(port).map(Self.exchange) ?? ""
        }
        #expect(reply == "b\nxBYE\n")
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
