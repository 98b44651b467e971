import FulcrumEventLoop
import NIOCore

/// The two sockets of an HTTP connection turned tunnel (101 Switching Protocols):
/// bytes go across unchanged, a side's shutdown is passed on to the other, and the
/// tunnel ends when both sides are done (once what is queued is delivered) or either
/// fails.
///
/// A side is read only while the other can take more (its queue below the high
/// watermark). `timeout tunnel` ends a tunnel idle in both directions; once either side
/// has shut its half, `timeout client-fin` / `server-fin` (the shorter of those set)
/// take over, counted from the last byte moved (read, or written even in part), as
/// HAProxy's half-closed timeouts.
final class TunnelRelay: LoopTimer, StreamSocketDelegate {
    private var client: StreamSocket?
    private var server: StreamSocket?
    private let loop: EpollEventLoop
    private let idleTimeout: TimeAmount?
    private let finTimeout: TimeAmount?
    private var lastActivity: NIODeadline
    private var clientEnded = false
    private var serverEnded = false
    private var onEnd: (() -> Void)?
    /// What each side had queued when last looked at. A queue that shrank since is a
    /// peer reading, however slowly: that counts as activity, as HAProxy counts every
    /// partial write (a side's drain alone is only seen once its whole queue is out).
    private var queuedSeen = (client: 0, server: 0)
    /// Bytes carried each way, for the counters.
    private let counted: (_ toServer: Int, _ toClient: Int) -> Void

    init(client: StreamSocket, server: StreamSocket, idleTimeout: TimeAmount?, clientFinTimeout: TimeAmount?,
         serverFinTimeout: TimeAmount?, counted: @escaping (Int, Int) -> Void, onEnd: @escaping () -> Void) {
        self.client = client
        self.server = server
        self.loop = client.loop
        self.idleTimeout = idleTimeout
        switch (clientFinTimeout, serverFinTimeout) {
        case (let c?, let s?): finTimeout = min(c, s)
        case (let c?, nil): finTimeout = c
        case (nil, let s?): finTimeout = s
        case (nil, nil): finTimeout = nil
        }
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
        // Each side is read while the other takes what it is sent.
        if self.server?.isWritable == true { self.client?.resumeReading() }
        if self.client?.isWritable == true { self.server?.resumeReading() }
        rearm()
    }

    private func other(_ socket: StreamSocket) -> StreamSocket? {
        socket === client ? server : client
    }

    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer) {
        guard let target = other(socket) else { return }
        lastActivity = loop.now
        target.write(bytes)
        if socket === client { counted(bytes.readableBytes, 0) } else { counted(0, bytes.readableBytes) }
        if !target.isWritable { socket.pauseReading() }
        queuedSeen = queued
    }

    private var queued: (client: Int, server: Int) {
        (client?.pendingBytes ?? 0, server?.pendingBytes ?? 0)
    }

    func socketDrained(_ socket: StreamSocket) {
        lastActivity = loop.now
        queuedSeen = queued
        if clientEnded && serverEnded {
            // Ending: this side has delivered all it was owed.
            finishSide(socket)
            return
        }
        other(socket)?.resumeReading()
    }

    func socketInputEnded(_ socket: StreamSocket) {
        if socket === client { clientEnded = true } else { serverEnded = true }
        other(socket)?.shutdownOutput()
        if clientEnded && serverEnded {
            // Both halves are shut: each socket closes once its queue is delivered.
            if let client, client.pendingBytes == 0 { finishSide(client) }
            if let server, server.pendingBytes == 0 { finishSide(server) }
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

    /// One side is done and delivered: it closes, and the tunnel ends with the second.
    private func finishSide(_ socket: StreamSocket) {
        socket.close()
        if socket === client { client = nil } else { server = nil }
        queuedSeen = queued
        if client == nil && server == nil { end() }
    }

    private func rearm() {
        guard client != nil || server != nil else { return }
        var timeout = idleTimeout
        if clientEnded || serverEnded, let fin = finTimeout { timeout = timeout.map { min($0, fin) } ?? fin }
        if let timeout { loop.arm(self, at: lastActivity + timeout) } else if isArmed { loop.disarm(self) }
    }

    override func fire() {
        guard client != nil || server != nil else { return }
        let now = queued
        if now.client < queuedSeen.client || now.server < queuedSeen.server { lastActivity = loop.now }
        queuedSeen = now
        var timeout = idleTimeout
        if clientEnded || serverEnded, let fin = finTimeout { timeout = timeout.map { min($0, fin) } ?? fin }
        if let timeout, lastActivity + timeout <= loop.now { end() } else { rearm() }
    }

    private func end() {
        if isArmed { loop.disarm(self) }
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
