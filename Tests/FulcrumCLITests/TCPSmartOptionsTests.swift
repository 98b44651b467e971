import Foundation
import Testing

/// `option tcp-smart-accept` and `option tcp-smart-connect`: each saves one packet per
/// connection by letting the kernel send an ACK together with data instead of alone.
/// The tests count the segments a socket received (TCP_INFO's `tcpi_segs_in`), so they
/// see the packet that is saved or not, as HAProxy's manual describes it.
@Suite(.serialized) struct TCPSmartOptionsTests {
    let http = HTTPProxyTests()

    /// Segments a TCP socket has received so far (SYN and pure ACKs included).
    static func segmentsIn(_ fd: Int32) -> UInt32 {
        // Read as bytes: the C header's `tcp_info` may be older than the kernel's.
        var info = [UInt8](repeating: 0, count: 256)
        var length = socklen_t(info.count)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, length >= 144 else { return 0 }
        return info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 140, as: UInt32.self) }
    }

    /// A server that answers each request on a new connection with the number of
    /// segments its socket had received when the request was read, then waits for the
    /// other side to close.
    static let countingServer = """
    import socket, struct, sys
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(16)
    while True:
        c, _ = l.accept()
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = c.recv(65536)
            if not chunk: break
            data += chunk
        if b"\\r\\n\\r\\n" in data:
            info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
            body = b"%d" % struct.unpack_from("I", info, 140)[0]
            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s" % (len(body), body))
            # The proxy closes first: no FIN reaches the client before it counts.
            c.settimeout(5)
            try:
                while c.recv(65536): pass
            except OSError:
                pass
        c.close()
    """

    func startServer(_ running: RunningProcesses) throws -> Int {
        let port = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", "-c", Self.countingServer, String(port)])
        try running.waitForListener(port)
        return port
    }

    /// The fewest segments the client's socket had received once it had the whole
    /// response, over five connections (an ACK the kernel sends when the response is
    /// late on a loaded machine can only add one, never remove one). Fulcrum keeps the
    /// client connection open after the response, so no FIN is counted.
    func clientSegments(_ front: Int) throws -> UInt32 {
        var fewest = UInt32.max
        for _ in 0..<5 {
            let client = try HTTPTestConnection(port: front)
            client.send("GET /count HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            #expect(response?.status == 200)
            fewest = min(fewest, Self.segmentsIn(client.fd))
        }
        return fewest
    }

    /// The fewest segments the server had received when it read a request, over three
    /// requests (the server's socket answers with that count).
    func serverSegments(_ front: Int) throws -> String? {
        try (0..<3).compactMap { _ in try HTTPTestConnection.get(front, "/")?.text }.min()
    }

    func config(server: Int, front: Int, mode: String = "http", _ extra: String = "") -> String {
        "defaults\n    mode \(mode)\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
            + "listen l\n    bind 127.0.0.1:\(front)\n\(extra)    server s 127.0.0.1:\(server)\n"
    }

    /// In HTTP mode the request's ACK rides on the response: the client receives the
    /// SYN-ACK and the response, two segments, where a plain socket gets three.
    @Test func httpModeAcknowledgesTheRequestWithTheResponse() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, config(server: server, front: front), waitFor: front)
        #expect(try clientSegments(front) == 2)
    }

    @Test func noOptionTcpSmartAcceptSendsTheRequestsACKAlone() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, config(server: server, front: front, "    no option tcp-smart-accept\n"), waitFor: front)
        #expect(try clientSegments(front) == 3)
    }

    /// TCP mode leaves it off unless asked, as HAProxy (a server may speak first).
    @Test func tcpModeSmartAcceptOnlyWhenAsked() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let plain = Loopback.freePort()
        let smart = Loopback.freePort()
        _ = try http.startFulcrum(running, config(server: server, front: plain, mode: "tcp"), waitFor: plain)
        _ = try http.startFulcrum(running, config(server: server, front: smart, mode: "tcp", "    option tcp-smart-accept\n"), waitFor: smart)
        #expect(try clientSegments(plain) >= 3)
        #expect(try clientSegments(smart) == 2)
    }

    /// With `option tcp-smart-connect` the handshake's last ACK travels with the
    /// request: the server's socket has the SYN and the request (two segments) when it
    /// reads the request, against three without.
    @Test func smartConnectSendsTheRequestWithTheHandshakesLastACK() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let plain = Loopback.freePort()
        let smart = Loopback.freePort()
        _ = try http.startFulcrum(running, config(server: server, front: plain), waitFor: plain)
        _ = try http.startFulcrum(running, config(server: server, front: smart, "    option tcp-smart-connect\n"), waitFor: smart)
        #expect(try serverSegments(plain) == "3")
        #expect(try serverSegments(smart) == "2")
    }

    /// In TCP mode only when the client's bytes are already held when the server
    /// connection starts (here by `tcp-request inspect-delay`), as HAProxy.
    @Test func smartConnectInTCPModeWithHeldBytes() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let smart = Loopback.freePort()
        _ = try http.startFulcrum(running, config(server: server, front: smart, mode: "tcp",
                                                  "    option tcp-smart-connect\n    tcp-request inspect-delay 2s\n    tcp-request content accept if { req.len ge 10 }\n"), waitFor: smart)
        #expect(try serverSegments(smart) == "2")
    }

    /// A server that speaks first (SMTP, MySQL) gets its connection at once: with no
    /// client bytes to carry the handshake's last ACK, the option does not hold it back.
    /// A server on a Unix socket, where TCP_QUICKACK means nothing, is reached too.
    @Test func smartConnectDoesNotDelayAServerThatSpeaksFirst() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let port = Loopback.freePort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        let greeter = """
        import socket, sys, threading
        def serve(l):
            while True:
                c, _ = l.accept()
                c.sendall(b"220 ready\\r\\n")
                c.close()
        t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", int(sys.argv[1]))); t.listen(16)
        u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[2]); u.listen(16)
        threading.Thread(target=serve, args=(u,), daemon=True).start()
        serve(t)
        """
        try running.start("/usr/bin/env", ["python3", "-c", greeter, String(port), path])
        try running.waitForListener(port)
        let front = Loopback.freePort(), unixFront = Loopback.freePort()
        _ = try http.startFulcrum(running, "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    option tcp-smart-connect\n"
            + "listen l\n    bind 127.0.0.1:\(front)\n    server s 127.0.0.1:\(port)\n"
            + "listen u\n    bind 127.0.0.1:\(unixFront)\n    server s \(path)\n", waitFor: front)
        for target in [front, unixFront] {
            var fastest = Double.infinity
            for _ in 0..<3 {
                let started = Date()
                let client = try HTTPTestConnection(port: target)
                let greeting = String(decoding: try client.readToEnd(), as: UTF8.self)
                #expect(greeting == "220 ready\r\n", "through port \(target)")
                fastest = min(fastest, Date().timeIntervalSince(started))
            }
            // A held-back ACK would cost 40 ms or more on every connection.
            #expect(fastest < 0.03, "greeting after \(fastest) s")
        }
    }

    /// A pause (SIGTTOU) and a resume (SIGTTIN) listen again on the same socket, whose
    /// shutdown for reading cleared the setting: it is set again, on Fulcrum's HTTP
    /// listeners and NIO's TCP ones.
    @Test(arguments: ["http", "tcp"]) func smartAcceptSurvivesAPauseAndResume(mode: String) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let server = try startServer(running)
        let front = Loopback.freePort()
        let extra = mode == "tcp" ? "    option tcp-smart-accept\n" : ""
        let pid = try http.startFulcrum(running, config(server: server, front: front, mode: mode, extra), waitFor: front)
        kill(pid, SIGTTOU)
        usleep(300_000)
        kill(pid, SIGTTIN)
        try running.waitForListener(front)
        #expect(try clientSegments(front) == 2)
    }
}
