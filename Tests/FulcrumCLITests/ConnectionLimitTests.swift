import Foundation
import Testing

/// `maxconn` at every level it exists, on the real binary: a server's limit queues
/// requests in its backend (`timeout queue` ends the wait with a 503), a frontend's,
/// a bind line's and the process's leave connections waiting in the kernel's listen
/// queue until a connection closes; so does running out of descriptors.
@Suite(.serialized) struct ConnectionLimitTests {
    let http = HTTPProxyTests()
    let tcp = TCPProxyTests()

    /// Whether bytes arrive on `fd` within `milliseconds`.
    static func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) == 1
    }

    /// Sets another process's resource limits (util-linux).
    static let prlimit = FulcrumProcess.which("prlimit")

    @Test func serverMaxconnQueuesRequestsUntilASlotFrees() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    timeout queue 5s\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(backend.port) maxconn 1\n", waitFor: front)
        let a = try HTTPTestConnection(port: front), b = try HTTPTestConnection(port: front)
        a.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try #require(backend.accept())
        #expect(try first.readHead()?.hasPrefix("GET /a ") == true)
        b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(backend.accept(timeout: 400) == nil, "the server is at its maxconn: the second request waits")
        first.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
        #expect(try a.readResponse()?.text == "a")
        // The freed slot goes to the waiting request (on a connection of its own, as
        // the first request of a client connection).
        let second = try #require(backend.accept(), "the queued request is sent once the slot frees")
        #expect(try second.readHead()?.hasPrefix("GET /b ") == true)
        second.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb")
        #expect(try b.readResponse()?.text == "b")

        // Keep-alive requests take and give back the slot one request at a time.
        a.send("GET /a2 HTTP/1.1\r\nHost: x\r\n\r\n")
        let reused = [first, second]
        var answered = false
        for connection in reused where !answered && Self.readable(connection.fd, within: 1000) {
            #expect(try connection.readHead()?.hasPrefix("GET /a2 ") == true)
            connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\na2")
            answered = true
        }
        #expect(answered, "the next request of a keep-alive client reuses an idle server connection")
        #expect(try a.readResponse()?.text == "a2")
    }

    @Test func queueTimeoutAnswers503() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = Loopback.freePort()
        _ = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    timeout queue 300ms\n    errorfile 503 \(HTTPProxyTests.errorsDirectory)/503.http\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(backend.port) maxconn 1\n", waitFor: front)
        let a = try HTTPTestConnection(port: front), b = try HTTPTestConnection(port: front)
        a.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try #require(backend.accept())
        _ = try first.readHead()
        let start = Date()
        b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = try b.readResponse()
        let waited = Date().timeIntervalSince(start)
        #expect(refused?.raw == (try HTTPProxyTests.errorFile(503)), "503 from the errorfile once `timeout queue` passed")
        #expect(waited > 0.25 && waited < 2, "waited \(waited) s")
        first.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try a.readResponse()?.status == 200)
        #expect(backend.accept(timeout: 300) == nil, "the request that gave up is never sent")
    }

    @Test func tcpServerMaxconnHoldsConnectionsInTheQueue() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try tcp.startBackends(running, names: ["only"])
        let front = Loopback.freePort()
        _ = try tcp.startFulcrum(running, config: TCPProxyTests.tcpDefaults(extra: "    timeout queue 5s\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(ports[0]) maxconn 1\n")
        try Loopback.waitForPort(front)
        let a = try #require(Loopback.connectLoopback(front)), b = try #require(Loopback.connectLoopback(front))
        defer { close(b) }
        #expect(Self.readable(a, within: 2000), "the first connection reaches the server")
        #expect(!Self.readable(b, within: 400), "the second waits while the server is at its maxconn")
        close(a)
        #expect(Self.readable(b, within: 2000), "and reaches it once the first closes")
    }

    @Test func frontendAndProcessMaxconnStopAccepting() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a"])
        for (global, frontend, bind) in [("", "  maxconn 2\n", ""), ("  maxconn 2\n", "", ""), ("", "", " maxconn 2")] {
            let front = Loopback.freePort()
            let pid = try http.startFulcrum(running, "global\n\(global)" + HTTPProxyTests.httpDefaults()
                + "frontend f\n  bind 127.0.0.1:\(front)\(bind)\n\(frontend)  default_backend b\nbackend b\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
            // The listener probe above used a slot briefly; wait until it is given back.
            usleep(200_000)
            let one = try HTTPTestConnection(port: front), two = try HTTPTestConnection(port: front)
            for c in [one, two] {
                c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try c.readResponse()?.status == 200)
            }
            let three = try HTTPTestConnection(port: front)
            three.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(!Self.readable(three.fd, within: 400), "a third connection waits in the listen queue (\(global)\(frontend)\(bind))")
            one.disconnect()
            #expect(Self.readable(three.fd, within: 2000), "and is served once one closes")
            #expect(try three.readResponse()?.status == 200)
            kill(pid, SIGTERM)
        }
    }

    /// Out of descriptors (`ulimit -n` reached), Fulcrum leaves new connections in the
    /// listen queue and tries again a moment later, as HAProxy does: a level-triggered
    /// listener that simply returned on `EMFILE` was woken again at once, and every
    /// loop spun at full CPU for as long as the descriptors stayed taken. Once some
    /// are given back, waiting connections are served again.
    @Test(.enabled(if: prlimit != nil)) func runningOutOfDescriptorsPausesAcceptingWithoutSpinning() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a"])
        let front = Loopback.freePort()
        let pid = try http.startFulcrum(running, HTTPProxyTests.httpDefaults(client: "30s")
            + "frontend f\n  bind 127.0.0.1:\(front)\n  default_backend b\nbackend b\n  server a 127.0.0.1:\(ports[0])\n", waitFor: front)
        // The listener probe's connection closes a moment after it was accepted.
        usleep(200_000)
        // Room for a few more descriptors: a new one takes the lowest free number, and
        // `accept4` fails with EMFILE once every number below the limit is taken.
        let before = Loopback.openDescriptors(pid)
        let limit = (before.max() ?? 0) + 1 + 6
        let tool = try #require(Self.prlimit)
        let lowered = try FulcrumProcess.run(["--pid", String(pid), "--nofile=\(limit):\(limit)"], executable: tool)
        try #require(lowered.status == 0, "Fulcrum's open files limit is lowered: \(lowered.stderr)")
        let room = limit - before.filter { $0 < limit }.count

        // Clients that send nothing yet: each holds a descriptor; the last ones wait in
        // the listen queue.
        let held = try (0..<(room + 4)).map { _ in try HTTPTestConnection(port: front) }
        #expect(RuntimeAPICommandTests.eventually { Loopback.openDescriptors(pid).filter { $0 < limit }.count == limit },
                "Fulcrum takes every descriptor it may have")
        usleep(200_000)

        // Exhausted: a second of CPU time (or one per loop) when the listener spins.
        let cpuBefore = try #require(Loopback.cpuSeconds(pid))
        usleep(1_000_000)
        let spent = try #require(Loopback.cpuSeconds(pid)) - cpuBefore
        #expect(spent < 0.2, "out of descriptors, Fulcrum used \(spent) s of CPU in 1 s")

        // Given back: the connections that waited are taken, and a new request is served.
        for c in held { c.disconnect() }
        let start = Date()
        let response = try HTTPTestConnection.get(front, "/echo")
        #expect(response?.status == 200, "served once descriptors are free again")
        #expect(Date().timeIntervalSince(start) < 2)
    }
}
