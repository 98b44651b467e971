#if os(Linux)
import FulcrumEventLoop
import Glibc
import NIOCore
import Testing

/// Stream sockets on a real loop against a peer the test drives by hand, over a Unix
/// socket pair or a TCP connection on 127.0.0.1.
@Suite struct StreamSocketTests {
    /// A loop and one end of a connected pair taken onto it; the test keeps the other end.
    final class Fixture: @unchecked Sendable {
        let loop: EpollEventLoop
        let recorder = Recorder()
        let peer: CInt
        /// The socket; on the loop's thread only.
        let socket: Confined<StreamSocket>

        init(_ kind: SocketKind, loop: EpollEventLoop? = nil, configure: @escaping (Recorder) -> Void = { _ in }) throws {
            let loop = try loop ?? EpollEventLoop(name: "test-loop")
            self.loop = loop
            let (mine, theirs) = try connectedPair(kind)
            peer = theirs
            let recorder = self.recorder
            do {
                socket = try onLoop(loop) {
                    configure(recorder)
                    return Confined(try StreamSocket(fd: mine, loop: loop, peer: nil, delegate: recorder))
                }
            } catch {
                Glibc.close(theirs)
                try? loop.syncShutdownGracefully()
                throw error
            }
        }

        /// Runs `body` with the socket on the loop's thread.
        func withSocket<T>(_ body: @escaping (StreamSocket) throws -> T) throws -> T {
            let socket = self.socket
            return try onLoop(loop) { try body(socket.value) }
        }

        private let peerOpen = Shared(true)

        /// Closes the test's end (once), `reset` with a reset instead of FIN.
        func closePeer(reset: Bool = false) {
            guard peerOpen.withLock({ open in defer { open = false }; return open }) else { return }
            if reset { setLingerZero(peer) }
            Glibc.close(peer)
        }

        /// Closes both ends; the loop too unless it was given.
        func tearDown(keepingLoop: Bool = false) {
            let socket = self.socket
            _ = try? onLoop(loop) { socket.value.close() }
            closePeer()
            if !keepingLoop { try? loop.syncShutdownGracefully() }
        }
    }

    @Test(arguments: SocketKind.allCases)
    func bytesEchoBackAndForth(kind: SocketKind) throws {
        let fixture = try Fixture(kind) { recorder in
            recorder.onRead = { socket, bytes in socket.write(bytes) }
        }
        defer { fixture.tearDown() }
        for round in 0..<20 {
            let message = Array("message \(round) ".utf8) + pattern(round * 997, seed: UInt8(round))
            #expect(writeAll(fixture.peer, message))
            let echoed = readPeer(fixture.peer, upTo: message.count)
            #expect(echoed.bytes == message, "round \(round)")
        }
        #expect(fixture.recorder.snapshot.inputEnded == 0)
        #expect(fixture.recorder.snapshot.failures.isEmpty)
        #expect(try fixture.withSocket { $0.pendingBytes } == 0)
    }

    @Test(arguments: SocketKind.allCases)
    func aLargeWriteWaitsForASlowReaderAndArrivesIntact(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let size = 8 << 20
        let data = pattern(size, seed: 3)
        let queued = try fixture.withSocket { socket -> Int in
            socket.write(ByteBuffer(bytes: data))
            return socket.pendingBytes
        }
        #expect(queued > 0, "the kernel could not take 8 MiB at once")
        #expect(queued < size, "what it could take went at once")
        // Slow at first, then at full speed.
        var received = readPeer(fixture.peer, upTo: 256 << 10, chunk: 16 << 10, pauseMS: 1).bytes
        received += readPeer(fixture.peer, upTo: size - received.count).bytes
        #expect(difference(received, data) == nil)
        #expect(eventually { fixture.recorder.snapshot.drained == 1 })
        #expect(try fixture.withSocket { $0.pendingBytes } == 0)
        // Nothing more than the data.
        #expect(readPeer(fixture.peer, timeoutMS: 20).bytes.isEmpty)
        #expect(fixture.recorder.snapshot.drained == 1)
    }

    @Test(arguments: SocketKind.allCases)
    func writesQueuedBehindABlockedOneKeepTheirOrder(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let first = pattern(3 << 20, seed: 1)
        let head = Array("head".utf8), body = pattern(1 << 20, seed: 2)
        let last = pattern(100_000, seed: 4)
        let pending = try fixture.withSocket { socket -> Int in
            socket.write(ByteBuffer(bytes: first))
            socket.write(ByteBuffer(bytes: head), ByteBuffer(bytes: body))
            socket.write(ByteBuffer(), ByteBuffer(bytes: last))
            socket.write(ByteBuffer())
            return socket.pendingBytes
        }
        #expect(pending > 0)
        let expected = first + head + body + last
        let received = readPeer(fixture.peer, upTo: expected.count).bytes
        #expect(difference(received, expected) == nil)
        #expect(eventually { fixture.recorder.snapshot.drained == 1 })
    }

    @Test(arguments: SocketKind.allCases)
    func twoBuffersWrittenAtOnceNeedNoDrain(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let pending = try fixture.withSocket { socket -> Int in
            socket.write(ByteBuffer(string: "head "), ByteBuffer(string: "body"))
            return socket.pendingBytes
        }
        #expect(pending == 0)
        #expect(String(decoding: readPeer(fixture.peer, upTo: 9).bytes, as: UTF8.self) == "head body")
        #expect(fixture.recorder.snapshot.drained == 0, "nothing had to wait, so there is nothing to report")
    }

    @Test(arguments: SocketKind.allCases)
    func readsFromTheOwnersBuffersKeepTheirBytes(kind: SocketKind) throws {
        // The owner keeps every buffer it is given: later reads must not write over them.
        let kept = Shared([ByteBuffer]())
        let fixture = try Fixture(kind) { recorder in
            recorder.onRead = { _, bytes in kept.withLock { $0.append(bytes) } }
        }
        defer { fixture.tearDown() }
        let data = pattern(2 << 20, seed: 9)
        #expect(writeAll(fixture.peer, data))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == data.count })
        // `onRead` runs after the recorder has counted the bytes: wait for it too.
        #expect(eventually { kept.withLock { $0.reduce(0) { $0 + $1.readableBytes } } == data.count })
        let joined = kept.withLock { buffers in buffers.flatMap { Array($0.readableBytesView) } }
        #expect(difference(joined, data) == nil)
        #expect(fixture.recorder.snapshot.readSizes.allSatisfy { $0 <= EpollEventLoop.readBufferSize })
    }

    @Test(arguments: SocketKind.allCases)
    func pausedReadingLeavesInputInTheKernelUntilResumed(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        try fixture.withSocket { $0.pauseReading() }
        let data = pattern(50_000, seed: 5)
        #expect(writeAll(fixture.peer, data))
        usleep(50_000)
        let (fd, reading) = try fixture.withSocket { ($0.fd, $0.isReading) }
        #expect(!reading)
        #expect(fixture.recorder.snapshot.readSizes.isEmpty, "no read while paused")
        #expect(queuedInput(fd) == data.count, "the bytes wait in the kernel")
        // Paused again, and input that ends meanwhile: still nothing until resumed.
        #expect(shutdown(fixture.peer, CInt(SHUT_WR)) == 0)
        usleep(20_000)
        #expect(fixture.recorder.snapshot.log.isEmpty)
        try fixture.withSocket { $0.resumeReading() }
        #expect(eventually { fixture.recorder.snapshot.inputEnded == 1 })
        #expect(fixture.recorder.snapshot.bytes == data)
        #expect(fixture.recorder.snapshot.log.last == "inputEnded")
    }

    @Test(arguments: SocketKind.allCases)
    func pausingFromAReadStopsTheNextOnes(kind: SocketKind) throws {
        // The owner takes one read, then pauses (as a proxy does when the other side is full).
        let fixture = try Fixture(kind) { recorder in
            recorder.onRead = { socket, _ in socket.pauseReading() }
        }
        defer { fixture.tearDown() }
        try fixture.withSocket { $0.readLimit = 1000 }
        let data = pattern(10_000, seed: 6)
        #expect(writeAll(fixture.peer, data))
        #expect(eventually { fixture.recorder.snapshot.readSizes.count == 1 })
        usleep(30_000)
        #expect(fixture.recorder.snapshot.readSizes == [1000], "one read, then none while paused")
        for resumed in 2...10 {
            try fixture.withSocket { $0.resumeReading() }
            #expect(eventually { fixture.recorder.snapshot.readSizes.count == resumed })
        }
        #expect(fixture.recorder.snapshot.bytes == data)
    }

    @Test(arguments: SocketKind.allCases)
    func thePeersShutdownEndsInputAndLeavesOutputOpen(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        #expect(writeAll(fixture.peer, Array("first".utf8)))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == 5 })
        #expect(shutdown(fixture.peer, CInt(SHUT_WR)) == 0)
        #expect(eventually { fixture.recorder.snapshot.inputEnded == 1 })
        #expect(try fixture.withSocket { $0.inputEnded })
        // Output still works after input ended.
        try fixture.withSocket { $0.write(ByteBuffer(string: "answer")) }
        #expect(String(decoding: readPeer(fixture.peer, upTo: 6).bytes, as: UTF8.self) == "answer")
        usleep(20_000)
        let events = fixture.recorder.snapshot
        #expect(events.log == ["read", "inputEnded"])
        #expect(events.failures.isEmpty)
    }

    @Test(arguments: SocketKind.allCases)
    func inputAndItsEndArrivingTogetherAreBothReported(kind: SocketKind) throws {
        // Bytes and the end of input wait together before the socket is even registered:
        // one readiness reports both, and the short read of the bytes is not the end.
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (mine, peer) = try connectedPair(kind)
        defer { Glibc.close(peer) }
        #expect(writeAll(peer, Array("request".utf8)))
        #expect(shutdown(peer, CInt(SHUT_WR)) == 0)
        usleep(10_000)
        let recorder = Recorder()
        let socket = try onLoop(loop) { Confined(try StreamSocket(fd: mine, loop: loop, peer: nil, delegate: recorder)) }
        defer { _ = try? onLoop(loop) { socket.value.close() } }
        #expect(eventually { recorder.snapshot.inputEnded == 1 })
        #expect(String(decoding: recorder.snapshot.bytes, as: UTF8.self) == "request")
        #expect(recorder.snapshot.log == ["read", "inputEnded"])
    }

    @Test func aResetFromThePeerFailsTheSocket() throws {
        let fixture = try Fixture(.tcp)
        defer { fixture.tearDown() }
        #expect(writeAll(fixture.peer, Array("partial".utf8)))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == 7 })
        fixture.closePeer(reset: true)
        // The read after the reset hears ECONNRESET: reported as a failure, not as an end.
        #expect(eventually { fixture.recorder.snapshot.failures.count == 1 })
        let events = fixture.recorder.snapshot
        #expect(events.failures == [ECONNRESET])
        #expect(events.inputEnded == 0)
        #expect(try fixture.withSocket { $0.isClosed })
        #expect(try onLoop(fixture.loop) { fixture.loop.registeredCount } == 0, "a failed socket leaves the loop")
    }

    @Test func writingToAResetPeerFailsTheSocket() throws {
        let fixture = try Fixture(.tcp)
        defer { fixture.tearDown() }
        // Reading paused: the reset is heard by the writes, or by the error readiness.
        try fixture.withSocket { $0.pauseReading() }
        fixture.closePeer(reset: true)
        usleep(10_000)
        try fixture.withSocket { socket in
            for _ in 0..<4 { socket.write(ByteBuffer(bytes: pattern(1 << 20))) }
        }
        #expect(eventually { fixture.recorder.snapshot.failures.count == 1 })
        #expect([ECONNRESET, EPIPE].contains(fixture.recorder.snapshot.failures.first ?? 0))
        #expect(try fixture.withSocket { ($0.isClosed, $0.pendingBytes) } == (true, 0))
    }

    @Test func connectingToAClosedPortFails() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let port = try closedPort()
        let (fd, code) = try connectingSocket(port: port)
        #expect(code == EINPROGRESS)
        let recorder = Recorder()
        let socket = try onLoop(loop) {
            let socket = try StreamSocket(fd: fd, loop: loop, peer: nil, connecting: true, delegate: recorder)
            socket.write(ByteBuffer(string: "never sent"))
            return Confined(socket)
        }
        #expect(eventually { recorder.snapshot.failures.count == 1 })
        usleep(10_000)
        let events = recorder.snapshot
        #expect(events.failures == [ECONNREFUSED])
        #expect(events.log == ["failed"], "no connected, no read, no end of input")
        #expect(try onLoop(loop) { (socket.value.isClosed, socket.value.pendingBytes, loop.registeredCount) } == (true, 0, 0))
    }

    /// A socket made unregistered reads what is waiting in the same turn, then hears of
    /// later bytes through its registration.
    @Test(arguments: SocketKind.allCases) func readFirstReadsAtOnceThenWatchWatches(_ kind: SocketKind) throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (mine, peer) = try connectedPair(kind)
        defer { Glibc.close(peer) }
        #expect(writeAll(peer, Array("abc".utf8)))
        usleep(5_000)
        let recorder = Recorder()
        let (socket, before, after, registered) = try onLoop(loop) {
            let socket = try StreamSocket(fd: mine, loop: loop, peer: nil, registered: false, delegate: recorder)
            let before = loop.registeredCount
            socket.readFirst()
            socket.watch()
            return (Confined(socket), before, recorder.snapshot.bytes.count, loop.registeredCount)
        }
        defer { _ = try? onLoop(loop) { socket.value.close() } }
        #expect(before == 0)
        #expect(after == 3, "read in the same turn")
        #expect(registered == 1)
        #expect(writeAll(peer, Array("de".utf8)))
        #expect(eventually { recorder.snapshot.bytes == Array("abcde".utf8) })
    }

    /// After `readFirst` the socket stays out of the epoll set until an event is
    /// needed: reading resumed after a pause, or a write the kernel cannot take whole.
    @Test(arguments: SocketKind.allCases) func readFirstJoinsTheSetOnlyWhenAnEventIsNeeded(_ kind: SocketKind) throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        for resume in [true, false] {
            let (mine, peer) = try connectedPair(kind)
            defer { Glibc.close(peer) }
            #expect(writeAll(peer, Array("abc".utf8)))
            usleep(5_000)
            let recorder = Recorder()
            let (socket, afterRead, afterNeed) = try onLoop(loop) {
                let socket = try StreamSocket(fd: mine, loop: loop, peer: nil, registered: false, delegate: recorder)
                socket.readFirst()
                let afterRead = loop.registeredCount
                if resume {
                    socket.pauseReading()
                    socket.resumeReading()
                } else {
                    // More than any socket buffer takes while the peer reads nothing.
                    socket.write(ByteBuffer(repeating: 0x61, count: 32 << 20))
                }
                return (Confined(socket), afterRead, loop.registeredCount)
            }
            defer { _ = try? onLoop(loop) { socket.value.close() } }
            #expect(afterRead == 0, "out of the set after the first read")
            #expect(afterNeed == 1, resume ? "resumed reading" : "a blocked write")
            if resume {
                #expect(writeAll(peer, Array("de".utf8)))
                #expect(eventually { recorder.snapshot.bytes == Array("abcde".utf8) })
            }
        }
    }

    /// On loopback the handshake is over by the time the first write comes: the write
    /// goes through at once and says so (no `socketConnected`, no turn of the loop).
    @Test func aWriteWhileConnectingGoesOutAtOnceWhenTheHandshakeIsDone() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (listener, port) = try listeningSocket()
        defer { Glibc.close(listener) }
        let (fd, code) = try connectingSocket(port: port)
        #expect(code == EINPROGRESS)
        // The kernel completes a loopback handshake in the background.
        #expect(waitFor(fd, events: Int16(POLLOUT), timeoutMS: 2000))
        let recorder = Recorder()
        let (socket, state) = try onLoop(loop) {
            let socket = try StreamSocket(fd: fd, loop: loop, peer: nil, connecting: true, delegate: recorder)
            socket.write(ByteBuffer(string: "queued "))
            socket.write(ByteBuffer(string: "while "), ByteBuffer(string: "connecting"))
            return (Confined(socket), [socket.isConnecting ? 1 : 0, socket.pendingBytes])
        }
        defer { _ = try? onLoop(loop) { socket.value.close() } }
        #expect(state == [0, 0])
        guard let server = acceptOne(listener, timeoutMS: 2000) else {
            Issue.record("no connection came")
            return
        }
        defer { Glibc.close(server) }
        #expect(String(decoding: readPeer(server, upTo: 23).bytes, as: UTF8.self) == "queued while connecting")
        // Input works as well.
        #expect(writeAll(server, Array("back".utf8)))
        #expect(eventually { recorder.snapshot.bytes.count == 4 })
        #expect(recorder.snapshot.connected == 0)
        #expect(recorder.snapshot.failures.isEmpty)
    }

    /// A connection still under way (the server's listen queue is full, so its SYN is
    /// dropped and sent again a second later): the write is held, the connection's
    /// completion is reported, and the bytes follow in order.
    @Test func writesWhileConnectingAreHeldUntilConnected() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (listener, port) = try listeningSocket(backlog: 0)
        defer { Glibc.close(listener) }
        // Fills the queue (a backlog of 0 holds one connection).
        let filler = try connectedClient(port: port)
        defer { Glibc.close(filler) }
        let (fd, code) = try connectingSocket(port: port)
        #expect(code == EINPROGRESS)
        let recorder = Recorder()
        let state = try onLoop(loop) {
            let socket = try StreamSocket(fd: fd, loop: loop, peer: nil, connecting: true, delegate: recorder)
            socket.write(ByteBuffer(string: "12"))
            socket.write(ByteBuffer(string: "345"))
            let state = [socket.isConnecting ? 1 : 0, socket.pendingBytes]
            socket.closeAfterWrites()
            return state
        }
        #expect(state == [1, 5])
        // Room in the queue: the next SYN is answered.
        if let first = acceptOne(listener, timeoutMS: 2000) { Glibc.close(first) }
        guard let server = acceptOne(listener, timeoutMS: 4000) else {
            Issue.record("no connection came")
            return
        }
        defer { Glibc.close(server) }
        let input = readPeer(server)
        #expect(String(decoding: input.bytes, as: UTF8.self) == "12345")
        #expect(input.sawEnd)
        #expect(recorder.snapshot.connected == 1)
        #expect(eventually { (try? onLoop(loop) { loop.registeredCount }) == 0 })
    }

    @Test func shuttingDownOutputWhileConnectingSendsTheEndOnceConnected() throws {
        // Nothing queued: the half-close itself must wait for the connection.
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (listener, port) = try listeningSocket()
        defer { Glibc.close(listener) }
        let (fd, _) = try connectingSocket(port: port)
        let recorder = Recorder()
        let socket = try onLoop(loop) {
            let socket = try StreamSocket(fd: fd, loop: loop, peer: nil, connecting: true, delegate: recorder)
            socket.shutdownOutput()
            return Confined(socket)
        }
        defer { _ = try? onLoop(loop) { socket.value.close() } }
        guard let server = acceptOne(listener, timeoutMS: 2000) else {
            Issue.record("no connection came")
            return
        }
        defer { Glibc.close(server) }
        #expect(eventually { recorder.snapshot.connected == 1 })
        let input = readPeer(server, timeoutMS: 500)
        #expect(input.bytes.isEmpty)
        #expect(input.sawEnd, "the peer hears the end of output")
        // Input is still open.
        #expect(writeAll(server, Array("still open".utf8)))
        #expect(eventually { recorder.snapshot.bytes.count == 10 })
    }

    @Test func closingAfterWritesWhileConnectingClosesOnceConnected() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (listener, port) = try listeningSocket()
        defer { Glibc.close(listener) }
        let (fd, _) = try connectingSocket(port: port)
        let recorder = Recorder()
        try onLoop(loop) {
            let socket = try StreamSocket(fd: fd, loop: loop, peer: nil, connecting: true, delegate: recorder)
            socket.closeAfterWrites()
        }
        guard let server = acceptOne(listener, timeoutMS: 2000) else {
            Issue.record("no connection came")
            return
        }
        defer { Glibc.close(server) }
        let input = readPeer(server, timeoutMS: 500)
        #expect(input.sawEnd, "the connection is closed once made")
        #expect(eventually { (try? onLoop(loop) { loop.registeredCount }) == 0 })
    }

    @Test(arguments: SocketKind.allCases)
    func shuttingDownOutputSendsTheEndAfterTheQueuedBytes(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let data = pattern(4 << 20, seed: 7)
        let pending = try fixture.withSocket { socket -> Int in
            socket.write(ByteBuffer(bytes: data))
            socket.shutdownOutput()
            return socket.pendingBytes
        }
        #expect(pending > 0, "the end has to wait for the bytes")
        let input = readPeer(fixture.peer)
        #expect(difference(input.bytes, data) == nil)
        #expect(input.sawEnd)
        // Only output ended: the socket still reads.
        #expect(writeAll(fixture.peer, Array("reply".utf8)))
        #expect(eventually { fixture.recorder.snapshot.bytes == Array("reply".utf8) })
        #expect(try fixture.withSocket { $0.isClosed } == false)
        // A later write goes nowhere, and fails the socket (EPIPE) rather than hanging.
        try fixture.withSocket { $0.write(ByteBuffer(string: "too late")) }
        #expect(eventually { fixture.recorder.snapshot.failures == [EPIPE] })
    }

    @Test(arguments: SocketKind.allCases)
    func shuttingDownOutputWithNothingQueuedEndsAtOnce(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        try fixture.withSocket { socket in
            socket.write(ByteBuffer(string: "all"))
            socket.shutdownOutput()
        }
        let input = readPeer(fixture.peer)
        #expect(String(decoding: input.bytes, as: UTF8.self) == "all")
        #expect(input.sawEnd)
    }

    @Test(arguments: SocketKind.allCases)
    func closingAfterWritesDeliversEverythingThenCloses(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let data = pattern(4 << 20, seed: 8)
        let (pending, closed) = try fixture.withSocket { socket -> (Int, Bool) in
            socket.write(ByteBuffer(bytes: data))
            socket.closeAfterWrites()
            return (socket.pendingBytes, socket.isClosed)
        }
        #expect(pending > 0)
        #expect(!closed, "open until the bytes are out")
        let input = readPeer(fixture.peer, chunk: 32 << 10)
        #expect(difference(input.bytes, data) == nil)
        #expect(input.sawEnd)
        #expect(try fixture.withSocket { $0.isClosed })
        #expect(try onLoop(fixture.loop) { fixture.loop.registeredCount } == 0)
        #expect(fixture.recorder.snapshot.log.isEmpty, "a socket closed by its owner tells it nothing")
    }

    @Test(arguments: SocketKind.allCases)
    func closingStopsEveryCallback(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        #expect(writeAll(fixture.peer, Array("before".utf8)))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == 6 })
        let (pending, registered) = try fixture.withSocket { socket -> (Int, Int) in
            socket.pauseReading()
            socket.write(ByteBuffer(bytes: pattern(8 << 20)))
            socket.close()
            // After the close: ignored, not crashed on.
            socket.write(ByteBuffer(string: "ignored"))
            socket.write(ByteBuffer(string: "ignored"), ByteBuffer(string: "too"))
            socket.resumeReading()
            socket.shutdownOutput()
            socket.closeAfterWrites()
            socket.abort()
            socket.close()
            return (socket.pendingBytes, fixture.loop.registeredCount)
        }
        #expect(pending == 0, "queued bytes are dropped")
        #expect(registered == 0)
        let before = fixture.recorder.snapshot.log
        _ = writeAll(fixture.peer, Array("after".utf8), timeoutMS: 50)
        _ = shutdown(fixture.peer, CInt(SHUT_WR))
        let input = readPeer(fixture.peer, timeoutMS: 1000)
        #expect(input.sawEnd || input.error == ECONNRESET, "the peer sees the connection go")
        usleep(20_000)
        #expect(fixture.recorder.snapshot.log == before, "no callback after close")
        #expect(before == ["read"])
    }

    @Test(arguments: SocketKind.allCases)
    func closingFromAReadStopsReadingAtOnce(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        try fixture.withSocket { socket in
            socket.readLimit = 10
            (socket.delegate as? Recorder)?.onRead = { socket, _ in socket.close() }
        }
        #expect(writeAll(fixture.peer, pattern(1000)))
        _ = shutdown(fixture.peer, CInt(SHUT_WR))
        #expect(eventually { fixture.recorder.snapshot.readSizes.count == 1 })
        usleep(20_000)
        #expect(fixture.recorder.snapshot.log == ["read"])
        #expect(fixture.recorder.snapshot.readSizes == [10])
    }

    @Test(arguments: SocketKind.allCases)
    func readLimitCapsEachRead(kind: SocketKind) throws {
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        try fixture.withSocket { $0.readLimit = 100 }
        let data = pattern(5000, seed: 10)
        #expect(writeAll(fixture.peer, data))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == data.count })
        let sizes = fixture.recorder.snapshot.readSizes
        #expect(sizes.allSatisfy { $0 <= 100 })
        #expect(sizes.count >= 50)
        #expect(fixture.recorder.snapshot.bytes == data)
        // Raised again: one read takes what waits (up to the loop's buffer).
        try fixture.withSocket { $0.readLimit = .max }
        let more = pattern(5000, seed: 11)
        #expect(writeAll(fixture.peer, more))
        #expect(eventually { fixture.recorder.snapshot.bytes.count == data.count + more.count })
        #expect(fixture.recorder.snapshot.readSizes.count <= sizes.count + 2)
    }

    @Test(arguments: SocketKind.allCases)
    func aLongBurstOfInputIsReadWhole(kind: SocketKind) throws {
        // More than the few buffers one readiness reads in a row: the rest follows.
        let fixture = try Fixture(kind)
        defer { fixture.tearDown() }
        let data = pattern(6 << 20, seed: 12)
        let writer = Shared(false)
        let peer = fixture.peer
        let thread = try spawn { writer.withLock { $0 = writeAll(peer, data) } }
        #expect(eventually(within: .seconds(5)) { fixture.recorder.snapshot.bytes.count == data.count })
        pthread_join(thread, nil)
        #expect(writer.value)
        #expect(difference(fixture.recorder.snapshot.bytes, data) == nil)
    }

    @Test func abortSendsAReset() throws {
        let fixture = try Fixture(.tcp)
        defer { fixture.tearDown() }
        try fixture.withSocket { socket in
            socket.write(ByteBuffer(string: "cut"))
        }
        #expect(String(decoding: readPeer(fixture.peer, upTo: 3).bytes, as: UTF8.self) == "cut")
        try fixture.withSocket { $0.abort() }
        let input = readPeer(fixture.peer)
        #expect(input.error == ECONNRESET, "a reset, not an end of input")
        #expect(!input.sawEnd)
        #expect(try onLoop(fixture.loop) { fixture.loop.registeredCount } == 0)
    }

    @Test func aSlotFreedByACloseServesTheNextSocket() throws {
        // A socket takes the slot another one left: each hears only its own input.
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let first = try Fixture(.unix, loop: loop)
        let second = try Fixture(.unix, loop: loop)
        defer { second.tearDown(keepingLoop: true) }
        #expect(try onLoop(loop) { loop.registeredCount } == 2)
        first.tearDown(keepingLoop: true)
        #expect(try onLoop(loop) { loop.registeredCount } == 1)
        let third = try Fixture(.unix, loop: loop)
        defer { third.tearDown(keepingLoop: true) }
        #expect(try onLoop(loop) { loop.registeredCount } == 2)
        #expect(writeAll(third.peer, Array("third".utf8)))
        #expect(writeAll(second.peer, Array("second".utf8)))
        #expect(eventually { third.recorder.snapshot.bytes.count == 5 && second.recorder.snapshot.bytes.count == 6 })
        #expect(String(decoding: third.recorder.snapshot.bytes, as: UTF8.self) == "third")
        #expect(String(decoding: second.recorder.snapshot.bytes, as: UTF8.self) == "second")
        #expect(first.recorder.snapshot.log.isEmpty)
    }
}

/// Starts `body` on a thread of its own; join it with `pthread_join`.
func spawn(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    var thread = pthread_t()
    let argument = Unmanaged.passRetained(Box(body)).toOpaque()
    let created = pthread_create(&thread, nil, { argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
    }, argument)
    guard created == 0 else {
        Unmanaged<Box>.fromOpaque(argument).release()
        throw IOError(errnoCode: created, reason: "pthread_create")
    }
    return thread
}
#endif
