import Foundation
import Synchronization
import Testing

/// HTTP mode against servers and clients that misbehave at one precise moment: a
/// scripted backend plays the server byte by byte, a raw socket the client. Each test
/// pins a behaviour that once went wrong (request smuggling through `Connection`,
/// a server connection reused after an early answer, a retried request whose body
/// was gone, a queued response cut off, a stalled side blamed for the other's pause).
@Suite(.serialized) struct HTTPEdgeCaseTests {
    let proxy = HTTPProxyTests()

    func fulcrum(_ running: RunningProcesses, server: Int, defaults: String = HTTPProxyTests.httpDefaults()) throws -> Int {
        let front = Loopback.freePort()
        _ = try proxy.startFulcrum(running, defaults + "listen l\n  bind 127.0.0.1:\(front)\n  server s 127.0.0.1:\(server)\n", waitFor: front)
        return front
    }

    @Test func connectionCannotRemoveFramingHeaders() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: content-length, host, x-secret\r\nX-Secret: 1\r\n\r\nhello")
        let s = try #require(backend.accept())
        let head = try #require(try s.readHead()).lowercased()
        #expect(head.contains("content-length: 5\r\n"), "the body length survives: \(head)")
        #expect(head.contains("host: x\r\n"))
        #expect(!head.contains("x-secret"), "a header the client named in Connection is removed")
        #expect(String(decoding: try s.readBytes(5), as: UTF8.self) == "hello")
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(try c.readResponse()?.text == "ok")
    }

    /// A server's `Connection: keep-alive` reaches a client whose connection stays open
    /// (the head is forwarded untouched); it is replaced where the connection closes,
    /// and an HTTP/1.0 keep-alive client gets exactly one.
    @Test func serverKeepAliveHeaderFollowsTheClientConnection() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let s = try #require(backend.accept())
        _ = try s.readHead()
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        let kept = try #require(try c.readResponse())
        #expect(kept.headers.filter { $0.name.lowercased() == "connection" }.map(\.value) == ["keep-alive"])

        c.send("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _ = try s.readHead()
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        let closing = try #require(try c.readResponse())
        #expect(closing.headers.filter { $0.name.lowercased() == "connection" }.map(\.value) == ["close"])
        #expect(c.isClosedByPeer())

        let old = try HTTPTestConnection(port: front)
        old.send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        // The first request of a client connection gets a server connection of its own.
        let s2 = try #require(backend.accept())
        _ = try s2.readHead()
        s2.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nok")
        let ten = try #require(try old.readResponse())
        #expect(ten.headers.filter { $0.name.lowercased() == "connection" }.map(\.value) == ["keep-alive"])
        #expect(!ten.headers.contains { $0.name.lowercased() == "keep-alive" }, "other hop-by-hop headers still go")
    }

    @Test func bareLineFeedsAreRewrittenAndStrayUpgradesDropped() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /a HTTP/1.1\nHost: x\nUpgrade: h2c\n\n")
        let s = try #require(backend.accept())
        let head = try #require(try s.readHead())
        #expect(head.hasPrefix("GET /a HTTP/1.1\r\nHost: x\r\n"), "forwarded with CRLF: \(head.debugDescription)")
        #expect(!head.lowercased().contains("upgrade"), "Upgrade without Connection: upgrade is not passed on")
        s.send("HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
        let response = try #require(try c.readResponse())
        #expect(response.status == 200 && response.text == "ok", "the response head reaches the client with CRLF")

        // A 101 to a request that asked for no upgrade is a broken server: 502.
        c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try s.readHead()?.hasPrefix("GET /b ") == true, "the server connection is reused")
        s.send("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\n")
        #expect(try c.readResponse()?.status == 502)
    }

    @Test func earlyAnswerNeverLeavesTheServerConnectionForReuse() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        let s = try #require(backend.accept())
        _ = try s.readHead()
        s.send("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
        #expect(try c.readResponse()?.status == 413)
        c.send("67890GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        let fresh = try #require(backend.accept(), "the next request goes to a new server connection")
        #expect(try fresh.readHead()?.hasPrefix("GET /next ") == true)
        fresh.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        #expect(String(decoding: try s.readBytes(10), as: UTF8.self) == "1234567890", "the rest of the body still reaches the server")
        #expect(s.isClosedByPeer(), "the early-answering connection is closed once the body has passed")
    }

    @Test func serverGoneAfterAnEarlyAnswerEndsTheClient() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789")
        let s = try #require(backend.accept())
        _ = try s.readHead()
        s.send("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        s.disconnect()
        #expect(try c.readResponse()?.status == 413)
        let start = Date()
        #expect(c.isClosedByPeer(), "the client is not left waiting to send a body nobody reads")
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func onlyBodilessIdempotentRequestsAreRetriedOnAClosedReusedConnection() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let s = try #require(backend.accept())
        _ = try s.readHead()
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)

        // The reused connection dies under the GET: it is sent again on a new one.
        c.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try s.readHead()?.hasPrefix("GET /2 ") == true)
        s.disconnect()
        let retry = try #require(backend.accept(), "the GET is sent again")
        #expect(try retry.readHead()?.hasPrefix("GET /2 ") == true)
        retry.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)

        // Under a POST with a body, it is not: the body has been sent and is gone.
        c.send("POST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        #expect(try retry.readHead()?.hasPrefix("POST /3 ") == true)
        _ = try retry.readBytes(4)
        retry.disconnect()
        #expect(try c.readResponse()?.status == 502)
        #expect(backend.accept(timeout: 300) == nil, "the POST was not replayed")
    }

    @Test func errorAfterAnEarlierResponseStillGetsItsErrorPage() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let s = try #require(backend.accept())
        _ = try s.readHead()
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try c.readResponse()?.status == 200)
        c.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try s.readHead()
        s.send("SMTP ready\r\n\r\n")
        #expect(try c.readResponse()?.status == 502, "the second response never began: the client gets a 502 page")
    }

    @Test func tunnelPassesAServerHalfCloseOn() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        let s = try #require(backend.accept())
        _ = try #require(try s.readHead(), "the request reached the server on the connection it accepted")
        s.send("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nbye")
        s.shutdownWrite()
        #expect(try c.readResponse()?.status == 101)
        #expect(String(decoding: try c.readBytes(3), as: UTF8.self) == "bye")
        #expect(c.isClosedByPeer(), "the server's half-close reaches the client")
        c.send("still here")
        #expect(String(decoding: try s.readBytes(10), as: UTF8.self) == "still here", "the other direction stays open")
        c.shutdownWrite()
        #expect(s.isClosedByPeer())
    }

    /// Bytes that tell a lost, doubled or misplaced piece of a stream: no step of
    /// `fillUntilFulcrumQueues` and no 64 KiB read is a multiple of 251 long.
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }

    /// A tunnel through Fulcrum to the scripted backend: the client's request, the
    /// server's 101, read by the client.
    func openTunnel(_ c: HTTPTestConnection, backend: ScriptedBackend) throws -> HTTPTestConnection {
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        let s = try #require(backend.accept())
        _ = try #require(try s.readHead())
        s.send("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(try c.readResponse()?.status == 101)
        return s
    }

    /// Sends `stream` through the tunnel from `sender` a step at a time, the receiving
    /// end reading nothing, until Fulcrum holds some of it in its own queue: what was
    /// sent and is in no kernel queue on the way (the four sockets', on loopback).
    /// Returns the bytes sent and those Fulcrum holds, fewer than a step.
    static func fillUntilFulcrumQueues(_ stream: [UInt8], from sender: HTTPTestConnection,
                                       client: HTTPTestConnection, server: HTTPTestConnection) throws -> (sent: Int, held: Int) {
        let step = 8 << 10
        let sockets = [(client.localPort, client.peerPort), (client.peerPort, client.localPort),
                       (server.localPort, server.peerPort), (server.peerPort, server.localPort)]
        var sent = 0
        while sent + step <= stream.count {
            sender.send(Array(stream[sent..<(sent + step)]))
            sent += step
            // Long enough for Fulcrum to read and pass on what it can.
            usleep(20_000)
            let queued = try #require(Loopback.kernelQueued(sockets))
            if sent > queued { return (sent, sent - queued) }
        }
        return (sent, 0)
    }

    /// A server that closes right after bytes Fulcrum could not pass on yet: the client
    /// reads nothing until the server is gone, and then gets every byte, in order,
    /// before the end. (The client's small window and segments keep the kernel's share
    /// of the stream to some tens of KiB, so the bytes sent last wait in Fulcrum's
    /// queue when the server's end reaches it.)
    @Test func tunnelDeliversItsQueueToTheClientBeforeTheServersClose() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front, receiveBuffer: 4096, segmentSize: 1024)
        let s = try openTunnel(c, backend: backend)
        let stream = Self.pattern(4 << 20)
        let (sent, held) = try Self.fillUntilFulcrumQueues(stream, from: s, client: c, server: s)
        try #require(held > 0, "Fulcrum holds bytes for the client (\(sent) sent)")
        s.disconnect()
        // Fulcrum hears the server's end while its queue still waits for the client.
        usleep(200_000)
        let received = try c.readBytes(sent)
        #expect(received.count == sent, "every byte the server sent reaches the client (\(held) were in Fulcrum's queue)")
        let inOrder = received == Array(stream[..<sent])
        #expect(inOrder, "in order")
        #expect(c.isClosedByPeer(), "then the server's close")
    }

    /// The other way: a client that closes right after bytes Fulcrum could not pass on
    /// yet, to a server that reads nothing until then, gets them all through before
    /// the server hears the end.
    @Test func tunnelDeliversItsQueueToTheServerBeforeTheClientsClose() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend(receiveBuffer: 4096, segmentSize: 1024)
        let front = try fulcrum(running, server: backend.port)
        let c = try HTTPTestConnection(port: front)
        let s = try openTunnel(c, backend: backend)
        let stream = Self.pattern(4 << 20)
        let (sent, held) = try Self.fillUntilFulcrumQueues(stream, from: c, client: c, server: s)
        try #require(held > 0, "Fulcrum holds bytes for the server (\(sent) sent)")
        c.disconnect()
        usleep(200_000)
        let received = try s.readBytes(sent)
        #expect(received.count == sent, "every byte the client sent reaches the server (\(held) were in Fulcrum's queue)")
        let inOrder = received == Array(stream[..<sent])
        #expect(inOrder, "in order")
        #expect(s.isClosedByPeer(), "then the client's close")
    }

    // MARK: - timeout tunnel

    /// `timeout tunnel` (and `client`, `server`) at 1 s, for the two tests below.
    static let shortTunnelTimeouts = HTTPProxyTests.httpDefaults(client: "1s", server: "1s", extra: "    timeout tunnel 1s\n")

    /// What a sending thread's kernel has taken so far, for the test's thread to read.
    final class SentCount: Sendable {
        private let value = Mutex(0)
        func set(_ count: Int) { value.withLock { $0 = count } }
        var current: Int { value.withLock { $0 } }
    }

    /// Sends `bytes` on the blocking socket `fd` from a thread of its own (the kernel
    /// takes them as the other end reads), 16 KiB a call, counting what is taken; the
    /// thread stops at the first failed call.
    static func sendFromThread(_ bytes: [UInt8], on fd: Int32, counting sent: SentCount) {
        Thread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, 16 << 10), Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                offset += n
                sent.set(offset)
            }
        }.start()
    }

    /// A client that reads slowly but steadily keeps a tunnel alive: the server sends
    /// 320 KiB at once and keeps its side open; the client reads at most 2 KiB every
    /// 20 ms (its window holds about 1.5), some 4.5 s for the whole, against a
    /// `timeout tunnel` of 1 s.
    ///
    /// The client's 2 KiB window and 384-byte MSS keep Fulcrum's kernel send buffer
    /// toward it small: the kernel asks Fulcrum for more once a third of it or so is
    /// free, a few tens of KiB, here about every half second. Fulcrum's own queue
    /// (64 KiB and more, reading from the server paused meanwhile) takes several such
    /// partial writes, over a second, to empty: each counts as activity (as in
    /// HAProxy), and every byte arrives. (When only reads and an emptied queue counted,
    /// the tunnel was cut about 1 s in, and the client got half of the stream. Once the
    /// last bytes have left Fulcrum's queue the tunnel is idle, and may be cut a second
    /// later while the kernel still delivers them: they arrive all the same.)
    @Test func tunnelKeepsRelayingToAClientThatReadsSlowlyPastTimeoutTunnel() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port, defaults: Self.shortTunnelTimeouts)
        let c = try HTTPTestConnection(port: front, receiveBuffer: 2048, segmentSize: 384)
        let s = try openTunnel(c, backend: backend)
        let sockets = [(c.localPort, c.peerPort), (c.peerPort, c.localPort), (s.localPort, s.peerPort), (s.peerPort, s.localPort)]
        let stream = Self.pattern(320 << 10)
        let sent = SentCount()
        Self.sendFromThread(stream, on: s.fd, counting: sent)
        // Read straight from the socket (the 101 was read whole and nothing came after
        // it): at most 2 KiB every 20 ms, the steps timed from the start, so that steps
        // late on a busy machine are caught up and the pace stays.
        var received: [UInt8] = []
        received.reserveCapacity(stream.count)
        var chunk = [UInt8](repeating: 0, count: 2048)
        // The most Fulcrum was seen to hold for the client once timeout tunnel had passed.
        var heldPastTheTimeout = 0
        let start = Date()
        var step = 0
        while received.count < stream.count {
            step += 1
            let wait = Double(step) * 0.02 - Date().timeIntervalSince(start)
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            let n = recv(c.fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[0..<n]
            if Date().timeIntervalSince(start) > 1, let held = Self.heldByFulcrum(sent: sent, read: received.count, sockets) {
                heldPastTheTimeout = max(heldPastTheTimeout, held)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(received.count == stream.count, "every byte reaches the client (\(received.count) of \(stream.count), in \(elapsed) s)")
        let inOrder = received == Array(stream[..<received.count])
        #expect(inOrder, "in order")
        #expect(heldPastTheTimeout >= 32 << 10, "past timeout tunnel, Fulcrum's own queue still held tens of KiB for the client (\(heldPastTheTimeout) bytes at most)")
    }

    /// What the server has sent and is neither read by the client nor in a kernel
    /// queue on the way (the four sockets'): what Fulcrum holds, or a little less,
    /// since the count is read first and bytes the server's kernel takes after it, or
    /// from a call not yet returned, are in a queue but not in the count. Nil when a
    /// socket is gone.
    static func heldByFulcrum(sent: SentCount, read: Int, _ sockets: [(Int, Int)]) -> Int? {
        let accepted = sent.current
        return Loopback.kernelQueued(sockets).map { accepted - read - $0 }
    }

    /// The same tunnel to a client that reads nothing at all: Fulcrum's queue to it
    /// stays full and unchanged, which is no activity, and the tunnel is cut about 1 s
    /// after the last byte moved; the server sees its end.
    @Test func tunnelToAClientThatReadsNothingIsCutAtTimeoutTunnel() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port, defaults: Self.shortTunnelTimeouts)
        let c = try HTTPTestConnection(port: front, receiveBuffer: 2048, segmentSize: 384)
        let start = Date()
        let s = try openTunnel(c, backend: backend)
        let sockets = [(c.localPort, c.peerPort), (c.peerPort, c.localPort), (s.localPort, s.peerPort), (s.peerPort, s.localPort)]
        let stream = Self.pattern(1 << 20)
        let sent = SentCount()
        // The kernels and Fulcrum take some of it, the rest waits until the cut.
        Self.sendFromThread(stream, on: s.fd, counting: sent)
        usleep(500_000)
        let held = try #require(Self.heldByFulcrum(sent: sent, read: 0, sockets), "the tunnel is still open half a second in")
        #expect(held >= 32 << 10, "Fulcrum holds bytes for the client (\(held))")
        // Nothing comes to the server: its read ends with the tunnel (a close, or a
        // reset for the bytes Fulcrum had not read).
        var byte: UInt8 = 0
        let n = recv(s.fd, &byte, 1, 0)
        let code = n < 0 ? errno : 0
        let elapsed = Date().timeIntervalSince(start)
        #expect(n == 0 || (n < 0 && code != EAGAIN), "the server sees the tunnel end (recv: \(n), errno \(code))")
        #expect(elapsed > 0.9 && elapsed < 2.5, "about timeout tunnel after the 101 (\(elapsed) s)")
        // The client gets what the kernels held for it, then the end.
        var received = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = recv(c.fd, &chunk, chunk.count, 0)
            if got <= 0 { break }
            received += got
        }
        #expect(received < stream.count, "the client was not sent everything (\(received) bytes)")
    }

    @Test func pipelinedBodyThatNeverEndsAfterHalfCloseEndsTheConnection() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try proxy.startBackends(running, ["a"])
        let front = try fulcrum(running, server: ports[0])
        let c = try HTTPTestConnection(port: front)
        c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        c.shutdownWrite()
        #expect(try c.readResponse()?.status == 200)
        let start = Date()
        #expect(c.isClosedByPeer())
        #expect(Date().timeIntervalSince(start) < 3)
    }

    // MARK: - timeouts blame the side that stalls

    /// A body that trickles in for longer than `timeout server` keeps the server
    /// connection busy: the server is not idle while Fulcrum is still sending to it.
    @Test func slowUploadIsNotAServerTimeout() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port, defaults: HTTPProxyTests.httpDefaults(client: "5s", server: "1s"))
        let chunk = 64 << 10, chunks = 30
        let c = try HTTPTestConnection(port: front)
        let fd = c.fd
        let sender = Thread {
            // About 3 s of body, on the test connection's socket from another thread.
            let head = Array("PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: \(chunk * chunks)\r\n\r\n".utf8)
            _ = head.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            let piece = [UInt8](repeating: 120, count: chunk)
            for _ in 0..<chunks {
                var sent = 0
                while sent < piece.count {
                    let n = piece[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    sent += n
                }
                usleep(100_000)
            }
        }
        sender.start()
        let s = try #require(backend.accept())
        _ = try s.readHead()
        let body = try s.readBytes(chunk * chunks)
        #expect(body.count == chunk * chunks, "the whole body reached the server")
        s.send("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        let response = try c.readResponse()
        #expect(response?.status == 201, "\(String(decoding: response?.raw ?? [], as: UTF8.self))")
    }

    @Test func clientThatStopsReadingIsCutAtTimeoutClient() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try proxy.startBackends(running, ["a"])
        let front = try fulcrum(running, server: ports[0], defaults: HTTPProxyTests.httpDefaults(client: "1s", server: "10s"))
        let c = try HTTPTestConnection(port: front)
        c.send("GET /download?n=\(64 << 20) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        sleep(3)
        let received = try c.readToEnd().count
        #expect(received < 64 << 20, "a client that reads nothing for 3 s is cut off (got \(received) bytes)")
    }

    @Test func slowReaderGetsItsWholeResponseDespiteAShortKeepAlive() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try proxy.startBackends(running, ["a"])
        let front = try fulcrum(running, server: ports[0], defaults: HTTPProxyTests.httpDefaults(client: "5s", server: "5s", extra: "    timeout http-keep-alive 200ms\n"))
        let c = try HTTPTestConnection(port: front)
        var small: Int32 = 65536
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        c.send("GET /download?n=\(4 << 20) HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(800_000)
        let response = try c.readResponse()
        #expect(response?.body.count == 4 << 20, "the response queued before the keep-alive timeout is delivered whole")
    }

    /// An upload to a server that reads slowly: Fulcrum's queue to the server fills and
    /// drains again and again, and neither side is idle for `timeout server` or
    /// `timeout client` (2 s here, against about 3 s for the whole body, the kernel's
    /// buffers taking the last half second), so the upload completes. (The server's
    /// stall used to be timed from the epoch: a 504 as soon as the queue filled.)
    @Test func aSlowReadingServerTakesALongUploadWithoutATimeout() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try ScriptedBackend()
        let front = try fulcrum(running, server: backend.port, defaults: HTTPProxyTests.httpDefaults(client: "2s", server: "2s"))
        let c = try HTTPTestConnection(port: front)
        let size = 64 << 20
        let body = [UInt8](repeating: UInt8(ascii: "u"), count: size)
        c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n")
        // Sent from a thread of its own: the write blocks while the server is slow.
        nonisolated(unsafe) let connection = c
        let sender = Thread { connection.send(body) }
        sender.start()
        let s = try #require(backend.accept())
        _ = try s.readHead()
        var received = 0
        while received < size {
            let chunk = try s.readBytes(min(2 << 20, size - received))
            if chunk.isEmpty { break }
            received += chunk.count
            usleep(100_000)
        }
        #expect(received == size)
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        let response = try c.readResponse()
        #expect(response?.status == 200, "\(String(describing: response?.status)) \(String(describing: response?.text))")
    }
}
