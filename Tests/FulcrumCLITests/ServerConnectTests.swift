import Foundation
import Testing

/// How HTTP mode opens server connections: `timeout connect`, retries and redispatch
/// when a server does not answer or refuses, a request body that must survive a failed
/// attempt, and a server on a Unix socket (which takes a different connect path).
@Suite(.serialized) struct ServerConnectTests {
    let http = HTTPProxyTests()

    /// A listening socket that never accepts, its one-place queue already taken: the
    /// kernel drops further SYNs, so a connect to it hangs until its timeout.
    static func blackHole() throws -> (port: Int, descriptors: [Int32]) {
        let port = Loopback.freePort()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 0) == 0 else { throw POSIXError(.EADDRINUSE) }
        var descriptors = [listener]
        for _ in 0..<2 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            descriptors.append(filler)
        }
        usleep(100_000)
        return (port, descriptors)
    }

    @Test func aServerThatNeverAnswersTimesOutOnEachAttemptThen503() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let hole = try Self.blackHole()
        defer { for fd in hole.descriptors { close(fd) } }
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, "defaults\n    mode http\n    timeout connect 300ms\n    timeout client 5s\n    timeout server 5s\n    retries 2\n"
            + "listen l\n  bind 127.0.0.1:\(front)\n  server dead 127.0.0.1:\(hole.port)\n", waitFor: front)
        let started = Date()
        let response = try HTTPTestConnection.get(front, "/echo")
        let elapsed = Date().timeIntervalSince(started)
        #expect(response?.status == 503)
        // Three attempts of 300 ms each: the first, then two retries.
        #expect(elapsed >= 0.85 && elapsed < 3, "answered after \(elapsed) s")
    }

    /// A server that accepts but reads late, and a head larger than the sockets take at
    /// once: the first write is still going out when `timeout connect` passes. The
    /// connection is established, so it is used, not abandoned as a failed connect.
    @Test func aConnectedServerThatReadsLateIsNotAConnectFailure() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let port = Loopback.freePort()
        let server = """
        import socket, sys, time
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(16)
        while True:
            c, _ = l.accept()
            try:
                time.sleep(0.8)
                data = b""
                while b"\\r\\n\\r\\n" not in data[-(1 << 20):]:
                    chunk = c.recv(1 << 20)
                    if not chunk: break
                    data += chunk
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%d" % (len(str(len(data))), len(data)))
            except OSError:
                pass
            c.close()
        """
        try running.start("/usr/bin/env", ["python3", "-c", server, String(port)])
        try running.waitForListener(port)
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, "global\n    tune.bufsize 67108864\n"
            + "defaults\n    mode http\n    timeout connect 300ms\n    timeout client 10s\n    timeout server 10s\n    retries 0\n"
            + "listen l\n  bind 127.0.0.1:\(front)\n  server late 127.0.0.1:\(port)\n", waitFor: front)
        let big = String(repeating: "a", count: 16 << 20)
        let c = try HTTPTestConnection(port: front, timeout: 20)
        c.send("GET /big HTTP/1.1\r\nHost: test\r\nX-Big: \(big)\r\n\r\n")
        let response = try #require(try c.readResponse())
        #expect(response.status == 200, "the late reader got the whole head instead of a 503")
        #expect(Int(String(decoding: response.body, as: UTF8.self)) ?? 0 > 16 << 20)
    }

    @Test func aRefusingServerIsRetriedThenLeftForAnotherWithTheWholeBody() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let good = try http.startBackends(running, ["good"])[0]
        let closed = Loopback.freePort()
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    retries 1\n    option redispatch\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  balance roundrobin\n"
            + "  server refusing 127.0.0.1:\(closed)\n  server good 127.0.0.1:\(good)\n", waitFor: front)
        let body = [UInt8](repeating: UInt8(ascii: "b"), count: 200_000)
        for _ in 0..<4 {
            let c = try HTTPTestConnection(port: front)
            c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.count)\r\n\r\n")
            c.send(body)
            let response = try #require(try c.readResponse())
            #expect(response.status == 200)
            #expect(HTTPProxyTests.backendName(response) == "good")
            #expect(String(decoding: response.body, as: UTF8.self).contains("200000"), "the whole body reached the server: \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    @Test func aServerOnAUnixSocketIsReached() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try http.startBackends(running, ["unix"])[0]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-server-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        try running.start("/usr/bin/socat", ["UNIX-LISTEN:\(path),fork", "TCP:127.0.0.1:\(backend)"])
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: path) { usleep(20_000) }
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s \(path)\n", waitFor: front)
        let response = try HTTPTestConnection.get(front, "/echo")
        #expect(response?.status == 200)
        #expect(HTTPProxyTests.backendName(response) == "unix")
    }
}
