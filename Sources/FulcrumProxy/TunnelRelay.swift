import FulcrumEventLoop
import NIOCore

/// The two sockets of an HTTP connection turned tunnel (101 Switching Protocols):
/// bytes go across unchanged, a side's shutdown is passed on to the other, and the
/// tunnel ends when both sides are done or either fails.
///
/// A side is read only while the other can take more (its queue below the high
/// watermark). `timeout tunnel` ends a tunnel idle in both directions; `timeout
/// client-fin` / `server-fin` one whose client / server has shut its side for that long.
final class TunnelRelay: LoopTimer, StreamSocketDelegate {
    private var client: StreamSocket?
    private var server: StreamSocket?
    private let idleTimeout: TimeAmount?
    private let clientFinTimeout: TimeAmount?
    private let serverFinTimeout: TimeAmount?
    private var lastActivity: NIODeadline
    private var clientShutSince: NIODeadline?
    private var serverShutSince: NIODeadline?
    private var onEnd: (() -> Void)?
    /// Bytes carried each way, for the counters.
    private let counted: (_ toServer: Int, _ toClient: Int) -> Void

    init(client: StreamSocket, server: StreamSocket, idleTimeout: TimeAmount?, clientFinTimeout: TimeAmount?,
         serverFinTimeout: TimeAmount?, counted: @escaping (Int, Int) -> Void, onEnd: @escaping () -> Void) {
        self.client = client
        self.server = server
        self.idleTimeout = idleTimeout
        self.clientFinTimeout = clientFinTimeout
        self.serverFinTimeout = serverFinTimeout
        self.lastActivity = client.loop.now
        self.counted = counted
        self.onEnd = onEnd
        super.init()
    }

    /// Takes both sockets over, with what either side sent after its head.
    func start(clientRest: ByteBuffer?, serverRest: ByteBuffer?, clientInputEnded: Bool) {
        guard let client, let server else { return }
        client.delegate = self
        server.delegate = self
        if let rest = clientRest, rest.readableBytes > 0 { socketRead(client, rest) }
        if let rest = serverRest, rest.readableBytes > 0, self.server != nil { socketRead(server, rest) }
        if clientInputEnded, self.client != nil { socketInputEnded(client) }
        client.resumeReading()
        server.resumeReading()
        rearm()
    }

    private func other(_ socket: StreamSocket) -> StreamSocket? {
        socket === client ? server : client
    }

    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer) {
        guard let target = other(socket) else { return }
        lastActivity = socket.loop.now
        target.write(bytes)
        if socket === client { counted(bytes.readableBytes, 0) } else { counted(0, bytes.readableBytes) }
        if !target.isWritable { socket.pauseReading() }
    }

    func socketDrained(_ socket: StreamSocket) {
        lastActivity = socket.loop.now
        other(socket)?.resumeReading()
    }

    func socketInputEnded(_ socket: StreamSocket) {
        let now = socket.loop.now
        if socket === client { clientShutSince = now } else { serverShutSince = now }
        other(socket)?.shutdownOutput()
        if clientShutSince != nil && serverShutSince != nil {
            end()
        } else {
            rearm()
        }
    }

    func socketFailed(_ socket: StreamSocket, error: IOError) {
        end()
    }

    /// `shutdown session`, or a timeout.
    func cut() {
        end()
    }

    private func rearm() {
        guard let loop = client?.loop ?? server?.loop else { return }
        var deadline: NIODeadline?
        func consider(_ d: NIODeadline) { deadline = deadline.map { min($0, d) } ?? d }
        if let t = idleTimeout { consider(lastActivity + t) }
        if let since = clientShutSince, let t = clientFinTimeout { consider(since + t) }
        if let since = serverShutSince, let t = serverFinTimeout { consider(since + t) }
        if let deadline { loop.arm(self, at: deadline) } else if isArmed { loop.disarm(self) }
    }

    override func fire() {
        guard let loop = client?.loop ?? server?.loop else { return }
        let now = loop.now
        var expired = false
        if let t = idleTimeout, lastActivity + t <= now { expired = true }
        if let since = clientShutSince, let t = clientFinTimeout, since + t <= now { expired = true }
        if let since = serverShutSince, let t = serverFinTimeout, since + t <= now { expired = true }
        if expired { end() } else { rearm() }
    }

    private func end() {
        if isArmed, let loop = client?.loop ?? server?.loop { loop.disarm(self) }
        client?.close()
        server?.close()
        client = nil
        server = nil
        if let onEnd {
            self.onEnd = nil
            onEnd()
        }
    }
}
