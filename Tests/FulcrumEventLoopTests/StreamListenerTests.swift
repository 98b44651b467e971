#if os(Linux)
import FulcrumEventLoop
import Glibc
import NIOCore
import Testing

/// Listeners on a real loop accepting real connections on 127.0.0.1: the peer's address
/// comes with each, pausing leaves connections in the kernel's queue, stopping leaves
/// the loop.
@Suite struct StreamListenerTests {
    /// A listener's owner that writes down what it is handed and closes it at the end.
    final class AcceptRecorder: StreamListenerDelegate, @unchecked Sendable {
        struct Accepted: Sendable {
            var fd: CInt
            var port: Int?
            var ip: String?
            var hasPeer: Bool
            var isUnix: Bool
            var nonBlocking: Bool
            var closeOnExec: Bool
        }

        let accepted = Shared([Accepted]())
        /// Runs on the loop after each connection is written down.
        var onAccept: ((CInt, StreamListener) -> Void)?

        var count: Int { accepted.value.count }

        func accepted(_ fd: CInt, peer: SocketAddress?, on listener: StreamListener) {
            let flags = fcntl(fd, F_GETFL)
            let descriptorFlags = fcntl(fd, F_GETFD)
            accepted.withLock {
                $0.append(Accepted(fd: fd, port: peer?.port, ip: peer?.ipAddress, hasPeer: peer != nil,
                                   isUnix: { if case .unixDomainSocket = peer { return true } else { return false } }(),
                                   nonBlocking: flags & O_NONBLOCK != 0, closeOnExec: descriptorFlags & FD_CLOEXEC != 0))
            }
            onAccept?(fd, listener)
        }

        func closeAll() {
            for entry in accepted.value { Glibc.close(entry.fd) }
        }
    }

    /// A loop, a TCP listening socket on 127.0.0.1 and a listener watching it.
    final class Fixture: @unchecked Sendable {
        let loop: EpollEventLoop
        let fd: CInt
        let port: UInt16
        let recorder = AcceptRecorder()
        let listener: Confined<StreamListener>

        init(configure: @escaping (AcceptRecorder) -> Void = { _ in }) throws {
            loop = try EpollEventLoop(name: "test-loop")
            let (fd, port) = try listeningSocket()
            self.fd = fd
            self.port = port
            let recorder = self.recorder
            let loop = self.loop
            do {
                listener = try onLoop(loop) {
                    configure(recorder)
                    return Confined(try StreamListener(fd: fd, loop: loop, delegate: recorder))
                }
            } catch {
                Glibc.close(fd)
                try? loop.syncShutdownGracefully()
                throw error
            }
        }

        func withListener<T>(_ body: @escaping (StreamListener) throws -> T) throws -> T {
            let listener = self.listener
            return try onLoop(loop) { try body(listener.value) }
        }

        func tearDown() {
            _ = try? withListener { $0.stop() }
            try? loop.syncShutdownGracefully()
            Glibc.close(fd)
            recorder.closeAll()
        }
    }

    @Test func acceptedConnectionsComeWithTheirPeersAddress() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        var clients: [CInt] = []
        defer { for client in clients { Glibc.close(client) } }
        for _ in 0..<5 { clients.append(try connectedClient(port: fixture.port)) }
        #expect(eventually { fixture.recorder.count == 5 })
        let accepted = fixture.recorder.accepted.value
        #expect(Set(accepted.compactMap(\.port)) == Set(clients.map { Int(localPort($0)) }))
        #expect(accepted.allSatisfy { $0.ip == "127.0.0.1" })
        #expect(accepted.allSatisfy { $0.nonBlocking && $0.closeOnExec })
        // Each descriptor is the connection of the client at that address.
        for entry in accepted {
            #expect(writeAll(entry.fd, Array("\(entry.port ?? 0)".utf8)))
        }
        for client in clients {
            let port = String(localPort(client))
            #expect(String(decoding: readPeer(client, upTo: port.utf8.count).bytes, as: UTF8.self) == port)
        }
    }

    @Test func acceptedDescriptorsServeStreamSockets() throws {
        // A whole echo server: listener, then a stream socket per connection.
        final class EchoServer: StreamListenerDelegate, @unchecked Sendable {
            let echo = Recorder()
            var sockets: [StreamSocket] = []
            init() { echo.onRead = { socket, bytes in socket.write(bytes) } }
            func accepted(_ fd: CInt, peer: SocketAddress?, on listener: StreamListener) {
                if let socket = try? StreamSocket(fd: fd, loop: listener.loop, peer: peer, delegate: echo) {
                    sockets.append(socket)
                }
            }
        }
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (fd, port) = try listeningSocket()
        defer { Glibc.close(fd) }
        let server = EchoServer()
        let listener = try onLoop(loop) { Confined(try StreamListener(fd: fd, loop: loop, delegate: server)) }
        defer {
            _ = try? onLoop(loop) {
                listener.value.stop()
                for socket in server.sockets { socket.close() }
            }
        }
        var clients: [CInt] = []
        defer { for client in clients { Glibc.close(client) } }
        for _ in 0..<4 { clients.append(try connectedClient(port: port)) }
        for (k, client) in clients.enumerated() {
            let message = Array("client \(k)".utf8)
            #expect(writeAll(client, message))
            #expect(readPeer(client, upTo: message.count).bytes == message)
        }
        let peers = try onLoop(loop) { server.sockets.compactMap { $0.peer?.port } }
        #expect(Set(peers) == Set(clients.map { Int(localPort($0)) }), "each socket knows its peer")
        #expect(try onLoop(loop) { loop.registeredCount } == 5)
    }

    @Test func aPausedListenerLeavesConnectionsQueuedUntilResumed() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        #expect(try fixture.withListener { listener in
            listener.pause()
            listener.pause()
            return listener.isPaused
        })
        // The kernel completes the handshake itself: the client is connected, and waits.
        let client = try connectedClient(port: fixture.port)
        defer { Glibc.close(client) }
        usleep(50_000)
        #expect(fixture.recorder.count == 0, "nothing accepted while paused")
        let resumed = try fixture.withListener { listener in
            listener.resume()
            return !listener.isPaused
        }
        #expect(resumed)
        #expect(eventually { fixture.recorder.count == 1 })
        #expect(fixture.recorder.accepted.value.first?.port == Int(localPort(client)))
        // And the next ones come in as usual.
        let second = try connectedClient(port: fixture.port)
        defer { Glibc.close(second) }
        #expect(eventually { fixture.recorder.count == 2 })
    }

    @Test func pausingFromAnAcceptStopsTheBatch() throws {
        // Three connections wait before the listener watches: it takes one, pauses (a
        // limit reached), and takes the others only once resumed.
        let (fd, port) = try listeningSocket()
        var clients: [CInt] = []
        defer { for client in clients { Glibc.close(client) } }
        for _ in 0..<3 { clients.append(try connectedClient(port: port)) }
        let recorder = AcceptRecorder()
        let pauseNext = Shared(true)
        recorder.onAccept = { _, listener in
            if pauseNext.value { listener.pause() }
        }
        let loop = try EpollEventLoop(name: "test-loop")
        let listener: Confined<StreamListener>
        do {
            listener = try onLoop(loop) { Confined(try StreamListener(fd: fd, loop: loop, delegate: recorder)) }
        } catch {
            Glibc.close(fd)
            try? loop.syncShutdownGracefully()
            throw error
        }
        defer {
            _ = try? onLoop(loop) { listener.value.stop() }
            try? loop.syncShutdownGracefully()
            Glibc.close(fd)
            recorder.closeAll()
        }
        #expect(eventually { recorder.count == 1 })
        usleep(50_000)
        #expect(recorder.count == 1, "paused after the first")
        pauseNext.withLock { $0 = false }
        try onLoop(loop) { listener.value.resume() }
        #expect(eventually { recorder.count == 3 })
        #expect(Set(recorder.accepted.value.compactMap(\.port)) == Set(clients.map { Int(localPort($0)) }))
    }

    @Test func stoppingLeavesTheLoopAndKeepsTheDescriptor() throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        #expect(try onLoop(fixture.loop) { fixture.loop.registeredCount } == 1)
        try fixture.withListener { listener in
            listener.stop()
            listener.stop()
            // Without a registration these change nothing.
            listener.pause()
            listener.resume()
        }
        #expect(try onLoop(fixture.loop) { fixture.loop.registeredCount } == 0)
        let client = try connectedClient(port: fixture.port)
        defer { Glibc.close(client) }
        usleep(50_000)
        #expect(fixture.recorder.count == 0, "a stopped listener accepts nothing")
        // The descriptor is still open and listening: the connection waits for its owner.
        let accepted = acceptOne(fixture.fd, timeoutMS: 1000)
        #expect(accepted != nil)
        if let accepted { Glibc.close(accepted) }
    }

    @Test func stoppingFromAnAcceptStopsTheBatch() throws {
        let (fd, port) = try listeningSocket()
        var clients: [CInt] = []
        defer { for client in clients { Glibc.close(client) } }
        for _ in 0..<3 { clients.append(try connectedClient(port: port)) }
        let recorder = AcceptRecorder()
        recorder.onAccept = { _, listener in listener.stop() }
        let loop = try EpollEventLoop(name: "test-loop")
        defer {
            try? loop.syncShutdownGracefully()
            Glibc.close(fd)
            recorder.closeAll()
        }
        let listener = try onLoop(loop) { Confined(try StreamListener(fd: fd, loop: loop, delegate: recorder)) }
        #expect(eventually { recorder.count == 1 })
        usleep(50_000)
        #expect(recorder.count == 1, "nothing after the stop")
        #expect(try onLoop(loop) { loop.registeredCount } == 0)
        _ = listener
    }

    /// A Unix socket's client is unnamed: its address is a Unix one with an empty path
    /// (what `show sess` and the logs show as a Unix client).
    @Test func aUnixListenersConnectionsHaveAUnixPeerAddress() throws {
        let fd = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        // An abstract address: nothing on disk to clean up.
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array("fulcrum-listener-test-\(getpid())-\(UInt32.random(in: 0 ... .max))".utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (k, byte) in name.enumerated() { path[k + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            Issue.record("bind/listen: errno \(errno)")
            return
        }
        let loop = try EpollEventLoop(name: "test-loop")
        let recorder = AcceptRecorder()
        defer {
            try? loop.syncShutdownGracefully()
            Glibc.close(fd)
            recorder.closeAll()
        }
        let listener = try onLoop(loop) { Confined(try StreamListener(fd: fd, loop: loop, delegate: recorder)) }
        defer { _ = try? onLoop(loop) { listener.value.stop() } }
        let client = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        defer { Glibc.close(client) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        #expect(connected == 0)
        #expect(eventually { recorder.count == 1 })
        #expect(recorder.accepted.value.first?.isUnix == true)
        #expect(recorder.accepted.value.first?.port == nil)
    }

    @Test func twoLoopsWatchingOneDescriptorAcceptEachConnectionOnce() throws {
        let (fd, port) = try listeningSocket()
        let loops = try (0..<2).map { _ in try EpollEventLoop(name: "test-loop") }
        let recorders = [AcceptRecorder(), AcceptRecorder()]
        let listeners = try (0..<2).map { k in
            let loop = loops[k], recorder = recorders[k]
            return try onLoop(loop) { Confined(try StreamListener(fd: fd, loop: loop, delegate: recorder)) }
        }
        var clients: [CInt] = []
        defer {
            for k in 0..<2 {
                let listener = listeners[k]
                _ = try? onLoop(loops[k]) { listener.value.stop() }
                try? loops[k].syncShutdownGracefully()
                recorders[k].closeAll()
            }
            Glibc.close(fd)
            for client in clients { Glibc.close(client) }
        }
        for _ in 0..<40 { clients.append(try connectedClient(port: port)) }
        #expect(eventually { recorders[0].count + recorders[1].count == 40 })
        usleep(20_000)
        let ports = recorders.flatMap { $0.accepted.value.compactMap(\.port) }
        #expect(ports.count == 40)
        #expect(Set(ports) == Set(clients.map { Int(localPort($0)) }), "each once, by one loop or the other")
        #expect(listeners.count == 2)
    }
}
#endif
