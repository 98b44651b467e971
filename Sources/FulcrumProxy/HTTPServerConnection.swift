import FulcrumEventLoop
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A server-side connection in HTTP mode. While a session uses it, every event goes to
/// that session; while it waits in the idle set it only watches for the server closing
/// it (or sending bytes nobody asked for, which also closes it).
final class HTTPServerConnection: LoopTimer, StreamSocketDelegate {
    let server: Int
    private let idleSet: IdleServerConnections
    /// The socket; nil once closed.
    private(set) var socket: StreamSocket?
    /// The session using the connection; nil while idle.
    private(set) var owner: HTTPClientSession?
    private var idleSince: NIODeadline = .uptimeNanoseconds(0)
    /// Requests this connection has carried (0 for a fresh one).
    private(set) var uses = 0
    /// Its place in the idle set while parked (-1 otherwise), for an O(1) removal.
    var idleSlot = -1
    /// The server's address as dialled.
    var target: SocketAddress?
    /// Told once the connection is established (nil) or has failed.
    private var firstWrite: ((Error?) -> Void)?
    /// What ended the connection, for a first write that learns of it afterwards.
    private var failure: Error?

    init(server: Int, idleSet: IdleServerConnections) {
        self.server = server
        self.idleSet = idleSet
        super.init()
    }

    /// Takes `fd`, a socket whose connect() was started (or is done), onto `loop`.
    func adopt(_ fd: CInt, connecting: Bool, on loop: EpollEventLoop) throws {
        localAddress = nil
        socket = try StreamSocket(fd: fd, loop: loop, peer: target, connecting: connecting, delegate: self)
    }

    var isUsable: Bool { socket.map { !$0.isClosed && !$0.inputEnded } ?? false }
    var isWritable: Bool { socket?.isWritable ?? false }
    /// Whether the handshake completed, for a connect timer that fires while the first
    /// write is still going out.
    var isConnected: Bool { socket.map { !$0.isClosed && !$0.isConnecting } ?? false }
    /// Its own address and the server's, for the log line (`%bi:%bp`, `%si:%sp`): the
    /// local one is asked of the kernel only when a log line needs it, once per
    /// connection (a `getsockname` per request cost 5% of a logged keep-alive request).
    var addresses: (SocketAddress?, SocketAddress?) {
        if localAddress == nil, let socket { localAddress = LocalAddress.of(socket.fd) }
        return (localAddress, target)
    }
    private var localAddress: SocketAddress?

    // MARK: - ownership

    func attach(_ session: HTTPClientSession) {
        owner = session
        uses += 1
        if !busy, let socket {
            busy = true
            idleSet.began(server: server, on: socket.loop)
        }
    }

    /// Counted among the connections in use (for how many idle ones are worth keeping).
    private var busy = false

    private func settle() {
        guard busy, let socket else { return }
        busy = false
        idleSet.ended(server: server, on: socket.loop)
    }

    /// Back to the idle set; false if it could not go there (the caller closes it).
    func park() -> Bool {
        settle()
        guard let socket, isUsable else { return false }
        owner = nil
        guard idleSet.park(self, server: server, on: socket.loop) else { return false }
        idleSince = socket.loop.now
        // One timer outlives many park/attach cycles: it is moved from the last idle
        // moment when it fires, instead of being armed for every request.
        if !isArmed { socket.loop.arm(self, at: idleSince + idleSet.purgeDelay) }
        // An idle connection keeps reading, to notice the server closing it.
        socket.resumeReading()
        return true
    }

    /// The purge timer: an idle connection unused for `purgeDelay` goes.
    override func fire() {
        guard owner == nil, let socket else { return }
        let expiry = idleSince + idleSet.purgeDelay
        if expiry <= socket.loop.now {
            discard()
        } else {
            socket.loop.arm(self, at: expiry)
        }
    }

    /// Lets the socket go without closing it (a tunnel takes it over).
    func detach() {
        settle()
        owner = nil
        firstWrite = nil
        if isArmed, let socket { socket.loop.disarm(self) }
        socket = nil
    }

    func close() {
        settle()
        owner = nil
        firstWrite = nil
        finish()
    }

    /// Closes a connection that could have been reused (its exchange complete, nothing
    /// unread) but is not kept: with a reset, as HAProxy does, so that neither side keeps
    /// it in TIME_WAIT and the server spends nothing on a FIN handshake.
    func discard() {
        settle()
        owner = nil
        firstWrite = nil
        socket?.abort()
        finish()
    }

    /// The socket goes (closed by either side): out of the loop, the timer and the idle set.
    private func finish() {
        guard let socket else { return }
        self.socket = nil
        if isArmed { socket.loop.disarm(self) }
        if idleSlot >= 0 { idleSet.remove(self, server: server, on: socket.loop) }
        socket.close()
    }

    /// Writes the request head on a connection whose connect() may still be under way.
    /// `done` hears nil once the connection is established, or the error that ended
    /// the attempt (refused, reset, closed).
    func sendFirst(_ head: ByteBuffer, _ done: @escaping (Error?) -> Void) {
        guard let socket else {
            done(ChannelError.ioOnClosedChannel)
            return
        }
        socket.write(head)
        if socket.isClosed {
            // Failed at once (a refusal already known): `socketFailed` found no one to tell.
            done(failure ?? ChannelError.ioOnClosedChannel)
        } else if socket.isConnecting {
            firstWrite = done
        } else {
            done(nil)
        }
    }

    func write(_ buffer: ByteBuffer) {
        socket?.enqueue(buffer)
    }

    func flush() {
        socket?.flush()
    }

    /// Reads again if the session had paused it.
    func resumeRead() {
        socket?.resumeReading()
    }

    // MARK: - socket events

    func socketConnected(_ socket: StreamSocket) {
        if let done = firstWrite {
            firstWrite = nil
            done(nil)
        }
    }

    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer) {
        guard let owner else {
            // Bytes nobody asked for, on an idle connection.
            close()
            return
        }
        owner.serverRead(bytes)
        owner.serverReadComplete()
        if let socket = self.socket, !(self.owner?.wantsServerData ?? true) { socket.pauseReading() }
    }

    /// In HTTP the server's end of input ends the connection.
    func socketInputEnded(_ socket: StreamSocket) {
        closedByServer(ChannelError.eof)
    }

    func socketFailed(_ socket: StreamSocket, error: IOError) {
        closedByServer(error)
    }

    func socketDrained(_ socket: StreamSocket) {
        owner?.serverWritabilityChanged(true)
    }

    private func closedByServer(_ error: Error) {
        failure = error
        settle()
        finish()
        if let done = firstWrite {
            firstWrite = nil
            owner = nil
            done(error)
            return
        }
        if let owner {
            self.owner = nil
            owner.serverClosed(self)
        }
    }
}
