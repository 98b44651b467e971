import Foundation
import Testing

/// HTTP mode carried by the real `fulcrum` process: real Python HTTP backends, a raw
/// socket client that controls every byte, and curl for large transfers.
@Suite(.serialized) struct HTTPProxyTests {
    static let backendScript = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/http_backend.py").path
    static let errorsDirectory = FulcrumProcess.repositoryRoot.appendingPathComponent("examples/errors").path

    static func httpDefaults(client: String = "5s", server: String = "5s", extra: String = "") -> String {
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client \(client)\n    timeout server \(server)\n" + extra
    }

    /// Starts one backend process per name on 127.0.0.1, each on its own free port.
    func startBackends(_ running: RunningProcesses, _ names: [String]) throws -> [Int] {
        let ports = names.map { _ in Loopback.freePort() }
        for (name, port) in zip(names, ports) {
            try running.start("/usr/bin/env", ["python3", Self.backendScript, name, "127.0.0.1", String(port)])
        }
        for port in ports { try running.waitForListener(port) }
        return ports
    }

    func startFulcrum(_ running: RunningProcesses, _ config: String, waitFor port: Int) throws -> Int32 {
        let file = try FulcrumProcess.temporaryFile(config)
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path], environment: ["ERRORS": Self.errorsDirectory])
        try running.waitForListener(port)
        return running.processes.last!.processIdentifier
    }

    static func backendName(_ response: HTTPTestResponse?) -> String {
        response?.header("X-Backend") ?? "none"
    }

    static func errorFile(_ status: Int) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(errorsDirectory)/\(status).http")))
    }

    // MARK: - seeds

    /// Seed 000 as printed, on free ports: its three Swift proxies on 127.0.1.1-3 and
    /// its conscience backend are started, the runtime API socket goes to a temporary
    /// path, and `rewrite` may change the text further (a syslog port, say). Returns
    /// the Swift proxy and conscience frontend ports.
    func startSeed000(_ running: RunningProcesses, rewrite: (String) -> String = { $0 }) throws -> (swift: Int, conscience: Int) {
        let swiftPort = Loopback.freePort(), consciencePort = Loopback.freePort()
        for i in 1...3 {
            try running.start("/usr/bin/env", ["python3", Self.backendScript, "swift-proxy\(i)", "127.0.1.\(i)", String(swiftPort)])
        }
        let tcpScript = FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/tcp_backend.py").path
        let conscienceBackend = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", tcpScript, "conscience1", String(conscienceBackend)])
        for i in 1...3 { try running.waitForListener(swiftPort, host: "127.0.1.\(i)") }
        try running.waitForListener(conscienceBackend)
        var config = try String(contentsOfFile: FulcrumProcess.repositoryRoot.appendingPathComponent("examples/seed-000-openio.cfg").path, encoding: .utf8)
        let apiSocket = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-api-\(UUID().uuidString).sock").path
        config = config.replacingOccurrences(of: "/run/haproxy/haproxy.sock", with: apiSocket)
            .replacingOccurrences(of: ":6007", with: ":\(swiftPort)")
            .replacingOccurrences(of: "127.0.0.1:6000", with: "127.0.0.1:\(consciencePort)")
            .replacingOccurrences(of: "127.0.1.1:6000", with: "127.0.0.1:\(conscienceBackend)")
        _ = try startFulcrum(running, rewrite(config), waitFor: swiftPort)
        try running.waitForListener(consciencePort)
        return (swiftPort, consciencePort)
    }

    /// Seed 000 as printed, with its loopback addresses on free ports: the Swift proxy
    /// frontend spreads 30 requests 10/10/10, on fresh connections and on one
    /// keep-alive connection; each request arrives with X-Forwarded-For,
    /// X-Forwarded-Proto and an X-Unique-ID in the configured format; the conscience
    /// frontend relays TCP both ways.
    @Test func seed000SpreadsRequestsAndAddsHeaders() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let (swiftPort, consciencePort) = try startSeed000(running)

        let uniqueID = try Regex("^[0-9A-F]{8}:[0-9A-F]{4}_[0-9A-F]{8}:[0-9A-F]{4}_[0-9A-F]{8}_[0-9A-F]{4,}:[0-9A-F]{4,}$")
        var fresh: [String: Int] = [:]
        var ids = Set<String>()
        for _ in 0..<30 {
            let response = try HTTPTestConnection.get(swiftPort, "/echo")
            #expect(response?.status == 200)
            fresh[Self.backendName(response), default: 0] += 1
            let headers = response?.receivedHeaders ?? []
            #expect(headers.contains { $0.0 == "X-Forwarded-For" && $0.1 == "127.0.0.1" })
            #expect(headers.contains { $0.0 == "X-Forwarded-Proto" && $0.1 == "http" })
            let id = headers.first { $0.0 == "X-Unique-ID" }?.1 ?? ""
            #expect(id.wholeMatch(of: uniqueID) != nil, "X-Unique-ID '\(id)'")
            ids.insert(id)
        }
        #expect(fresh == ["swift-proxy1": 10, "swift-proxy2": 10, "swift-proxy3": 10])
        #expect(ids.count == 30, "every request has its own unique ID")

        var kept: [String: Int] = [:]
        let connection = try HTTPTestConnection(port: swiftPort)
        for _ in 0..<30 {
            connection.send("GET /echo HTTP/1.1\r\nHost: swift\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response?.status == 200)
            #expect(response?.header("Connection") == nil, "a keep-alive response says nothing about the connection")
            kept[Self.backendName(response), default: 0] += 1
        }
        #expect(kept == ["swift-proxy1": 10, "swift-proxy2": 10, "swift-proxy3": 10])

        let reply = try Loopback.exchange(port: consciencePort, send: "ping")
        #expect(reply == "conscience1\npingBYE\n")
    }

    /// Seed 002: nine frontends, each balancing over three controllers.
    @Test func seed002AllNineFrontendsAnswerAndBalance() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        var config = try String(contentsOfFile: FulcrumProcess.repositoryRoot.appendingPathComponent("examples/seed-002-openstack.cfg").path, encoding: .utf8)
        let seedPorts = [35357, 5000, 9696, 9191, 9292, 8773, 8774, 8775, 8776]
        var mapped: [Int] = []
        for port in seedPorts {
            let free = Loopback.freePort()
            mapped.append(free)
            config = config.replacingOccurrences(of: ":\(port)\n", with: ":\(free)\n").replacingOccurrences(of: ":\(port) ", with: ":\(free) ")
        }
        for i in 1...3 {
            try running.start("/usr/bin/env", ["python3", Self.backendScript, "controller\(i)", "127.0.1.\(i)"] + mapped.map(String.init))
        }
        for i in 1...3 { try running.waitForListener(mapped[8], host: "127.0.1.\(i)") }
        _ = try startFulcrum(running, config, waitFor: mapped[0])
        for port in mapped {
            try running.waitForListener(port)
            var seen: [String: Int] = [:]
            for _ in 0..<6 {
                let response = try HTTPTestConnection.get(port, "/echo")
                #expect(response?.status == 200)
                seen[Self.backendName(response), default: 0] += 1
            }
            #expect(seen == ["controller1": 2, "controller2": 2, "controller3": 2], "frontend on port \(port)")
        }
    }

    // MARK: - message handling

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a", "b"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults() + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n  server b 127.0.0.1:\(ports[1])\n", waitFor: front)
        let c = try HTTPTestConnection(port: front)
        var batch = ""
        for i in 0..<5 { batch += "GET /echo?i=\(i) HTTP/1.1\r\nHost: x\r\n\r\n" }
        batch += "HEAD /download?n=100 HTTP/1.1\r\nHost: x\r\n\r\n"
        batch += "GET /status?code=204 HTTP/1.1\r\nHost: x\r\n\r\n"
        batch += "GET /status?code=304 HTTP/1.1\r\nHost: x\r\n\r\n"
        batch += "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        batch += "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"
        batch += "GET /echo?i=last HTTP/1.0\r\nHost: x\r\n\r\n"
        c.send(batch)
        for i in 0..<5 {
            let r = try c.readResponse()
            #expect((r?.json?["path"] as? String) == "/echo?i=\(i)")
        }
        let head = try c.readResponse(forHEAD: true)
        #expect(head?.status == 200 && head?.header("Content-Length") == "100" && head?.body.isEmpty == true)
        #expect(try c.readResponse()?.status == 204)
        #expect(try c.readResponse()?.status == 304)
        let upload = try c.readResponse()
        #expect((upload?.json?["size"] as? Int) == 5)
        let chunked = try c.readResponse()
        #expect((chunked?.json?["size"] as? Int) == 3)
        let last = try c.readResponse()
        #expect((last?.json?["path"] as? String) == "/echo?i=last")
        #expect(last?.header("Connection")?.lowercased() == "close" || last?.header("Connection") == nil)
        #expect(c.isClosedByPeer(), "an HTTP/1.0 request without keep-alive ends the connection")

        // A client that sends its requests and then closes its side still gets every answer.
        let halfClosed = try HTTPTestConnection(port: front)
        halfClosed.send("GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?i=second HTTP/1.1\r\nHost: x\r\n\r\n")
        halfClosed.shutdownWrite()
        #expect(try halfClosed.readResponse()?.text == "slow\n")
        #expect((try halfClosed.readResponse()?.json?["path"] as? String) == "/echo?i=second")
        #expect(halfClosed.isClosedByPeer())
    }

    @Test func expectContinueAndHTTP10KeepAlive() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults() + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        let c = try HTTPTestConnection(port: front)
        c.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let interim = try c.readResponse()
        #expect(interim?.status == 100, "the server's 100 Continue is passed on before the body is sent")
        c.send("data")
        let final = try c.readResponse()
        #expect((final?.json?["size"] as? Int) == 4)

        let old = try HTTPTestConnection(port: front)
        for _ in 0..<2 {
            old.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let r = try old.readResponse()
            #expect(r?.status == 200)
            #expect(r?.header("Connection")?.lowercased() == "keep-alive", "an HTTP/1.0 client is told the connection stays open")
        }
    }

    @Test func upgradeBecomesATunnel() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults(extra: "    timeout tunnel 2s\n") + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly ")
        let switched = try c.readResponse()
        #expect(switched?.status == 101)
        c.send("frame one")
        let echoed = try c.readBytes(15)
        #expect(String(decoding: echoed, as: UTF8.self) == "early frame one", "bytes sent with the upgrade request and after it pass both ways")
        let start = Date()
        #expect(c.isClosedByPeer(), "an idle tunnel is closed at timeout tunnel")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func headerRulesAndConnectionModes() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a"])
        let front = Loopback.freePort(), closing = Loopback.freePort(), excepted = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults() + """
        frontend f
            bind 127.0.0.1:\(front)
            option forwardfor header X-Client
            http-request set-header X-Set one
            http-request add-header X-Added "%[src]:%[dst_port]"
            http-request del-header X-Remove
            http-request replace-header X-Replace ^v=(.*)$ w=\\1
            http-request set-path /echo
            http-response set-header X-Response yes
            http-response del-header X-Backend
            option http-server-close
            default_backend b
        frontend closing
            bind 127.0.0.1:\(closing)
            option httpclose
            default_backend b
        frontend excepted
            bind 127.0.0.1:\(excepted)
            option forwardfor except 127.0.0.0/8
            default_backend b
        backend b
            server a 127.0.0.1:\(ports[0])

        """, waitFor: front)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /anything?q=1 HTTP/1.1\r\nHost: x\r\nX-Set: zero\r\nX-Remove: gone\r\nX-Replace: v=42\r\nConnection: keep-alive, X-Hop\r\nX-Hop: hop\r\n\r\n")
        let r = try c.readResponse()
        let received = r?.receivedHeaders ?? []
        func values(_ name: String) -> [String] { received.filter { $0.0.lowercased() == name.lowercased() }.map { $0.1 } }
        #expect((r?.json?["path"] as? String) == "/echo?q=1", "set-path keeps the query")
        #expect(values("X-Set") == ["one"])
        #expect(values("X-Added") == ["127.0.0.1:\(front)"])
        #expect(values("X-Remove").isEmpty)
        #expect(values("X-Replace") == ["w=42"])
        #expect(values("X-Client") == ["127.0.0.1"])
        #expect(values("X-Hop").isEmpty, "headers named by Connection are hop-by-hop")
        #expect(values("Connection") == ["close"], "http-server-close closes the server side")
        #expect(r?.header("X-Response") == "yes" && r?.header("X-Backend") == nil)
        c.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse()?.status == 200, "the client side stays open with http-server-close")

        let h = try HTTPTestConnection(port: closing)
        h.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        let hr = try h.readResponse()
        #expect(hr?.header("Connection")?.lowercased() == "close")
        #expect(h.isClosedByPeer(), "httpclose ends the client connection after the response")

        let e = try HTTPTestConnection.get(excepted, "/echo")
        #expect(!(e?.receivedHeaders ?? []).contains { $0.0 == "X-Forwarded-For" }, "no X-Forwarded-For for an excepted network")
    }

    // MARK: - errors

    @Test func errorsAreServedFromErrorfilesByteForByte() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["good"])
        let dead = Loopback.freePort()
        let front = Loopback.freePort(), noServer = Loopback.freePort()
        var errorfiles = ""
        for status in [400, 408, 502, 503, 504] { errorfiles += "    errorfile \(status) \(Self.errorsDirectory)/\(status).http\n" }
        _ = try startFulcrum(running, Self.httpDefaults(server: "1s", extra: errorfiles + "    timeout http-request 1s\n") + """
        frontend f
            bind 127.0.0.1:\(front)
            default_backend b
        frontend down
            bind 127.0.0.1:\(noServer)
            default_backend dead
        backend b
            server good 127.0.0.1:\(ports[0])
        backend dead
            retries 1
            server gone 127.0.0.1:\(dead)

        """, waitFor: front)
        #expect(try HTTPTestConnection.get(noServer, "/")?.raw == Self.errorFile(503), "connection refused after retries: 503")
        #expect(try HTTPTestConnection.get(front, "/garbage")?.raw == Self.errorFile(502), "garbage from the server: 502")
        #expect(try HTTPTestConnection.get(front, "/close")?.raw == Self.errorFile(502), "server closes without answering: 502")
        #expect(try HTTPTestConnection.get(front, "/slow?ms=3000")?.raw == Self.errorFile(504), "timeout server: 504")
        let bad = try HTTPTestConnection(port: front)
        bad.send("GET / HTTP/1.1\r\nHost x\r\n\r\n")
        #expect(try bad.readToEnd() == Self.errorFile(400), "header line without a colon: 400 and close")
        let trickle = try HTTPTestConnection(port: front)
        trickle.send("GET / HTTP/1.1\r\nHo")
        let start = Date()
        #expect(try trickle.readToEnd() == Self.errorFile(408), "timeout http-request: 408")
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func connectFailuresAreRetriedThenRedispatched() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["alive"])
        let dead = Loopback.freePort(), front = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults() + """
        listen l
            bind 127.0.0.1:\(front)
            option redispatch
            retries 2
            server dead 127.0.0.1:\(dead)
            server alive 127.0.0.1:\(ports[0])

        """, waitFor: front)
        for _ in 0..<6 {
            let r = try HTTPTestConnection.get(front, "/echo")
            #expect(r?.status == 200 && Self.backendName(r) == "alive")
        }
    }

    /// Requests that parsers could disagree on never reach a server; each gets a 4xx
    /// and the connection is closed.
    @Test func malformedRequestsAreRefusedAndNeverForwarded() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a"])
        let front = Loopback.freePort()
        _ = try startFulcrum(running, Self.httpDefaults() + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        let cases: [(String, Int)] = [
            ("GET /\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\u{1}b\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501),
            ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20000) + "\r\n\r\n", 400),
            // Far more than is read before refusing: the rest is drained, so the client
            // gets the answer and a clean end rather than a reset.
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n", 400),
        ]
        for (request, status) in cases {
            let c = try HTTPTestConnection(port: front)
            c.send(request)
            let r = try c.readResponse()
            #expect(r?.status == status, "\(request.prefix(60).debugDescription)")
            #expect(c.isClosedByPeer(), "\(request.prefix(60).debugDescription)")
        }
        // A bad chunk size after a good head: the request was forwarded, its body is cut.
        let chunk = try HTTPTestConnection(port: front)
        chunk.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        let r = try chunk.readResponse()
        #expect(r == nil || r?.status == 400)
        let count = try HTTPTestConnection.get(ports[0], "/count")
        #expect(count?.text == "0\n" || count?.text == "1\n", "at most the request with a valid head reached the server: \(count?.text ?? "-")")
    }

    // MARK: - streaming

    /// A gigabyte each way with chunked and Content-Length framing: Fulcrum's memory
    /// stays flat because each side is read only as fast as the other side drains.
    @Test func gigabyteTransfersKeepMemoryBounded() throws {
        guard let curl = FulcrumProcess.which("curl") else { return }
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try startBackends(running, ["a"])
        let front = Loopback.freePort()
        let pid = try startFulcrum(running, Self.httpDefaults(client: "60s", server: "60s") + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        let size = 1 << 30
        var peak = 0
        let sampler = DispatchQueue(label: "rss")
        let stop = DispatchSemaphore(value: 0)
        let sampled = DispatchSemaphore(value: 0)
        let peakBox = PeakBox()
        sampler.async {
            while stop.wait(timeout: .now() + 0.05) == .timedOut {
                peakBox.record(Loopback.residentKiB(pid) ?? 0)
            }
            sampled.signal()
        }
        func run(_ arguments: [String], input: FileHandle? = nil) throws -> String {
            let p = Process()
            p.executableURL = curl
            p.arguments = ["-s", "--max-time", "120"] + arguments
            let out = Pipe()
            p.standardOutput = out
            if let input { p.standardInput = input }
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let download = try run(["-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:\(front)/download?n=\(size)"])
        #expect(download == String(size))
        let chunkedDownload = try run(["-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:\(front)/download?n=\(size)&chunked=1"])
        #expect(chunkedDownload == String(size))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-upload-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        defer { try? FileManager.default.removeItem(at: file) }
        let upload = try run(["-T", file.path, "http://127.0.0.1:\(front)/upload"])
        #expect(upload.contains("\"size\": \(size)"), "Content-Length upload: \(upload)")
        let chunkedUpload = try run(["-T", "-", "-H", "Transfer-Encoding: chunked", "http://127.0.0.1:\(front)/upload"], input: try FileHandle(forReadingFrom: file))
        #expect(chunkedUpload.contains("\"size\": \(size)"), "chunked upload: \(chunkedUpload)")
        stop.signal()
        sampled.wait()
        peak = peakBox.value
        #expect(peak > 0 && peak < 96 * 1024, "Fulcrum's resident memory peaked at \(peak) KiB while moving 4 GiB")
    }
}

/// The largest value seen, shared between a sampling thread and the test.
final class PeakBox: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    func record(_ v: Int) { lock.lock(); peak = max(peak, v); lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return peak }
}
