#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import FulcrumEventLoop
import NIOCore
import Synchronization

/// A keep-alive HTTP client connection parked between requests
/// (`tune.park-idle-clients`): its socket stays on its loop, and this record, about
/// 200 bytes, keeps what the next request's session needs in place of the session.
///
/// It stands in the session registry while parked (`show sess`, `shutdown session`)
/// and keeps the keep-alive timeout. When the client sends, a new session takes over
/// the same socket; when it closes, the connection ends here.
final class ParkedHTTPClient: LoopTimer, LiveSession, StreamSocketDelegate {
    let policy: HTTPProxyPolicy
    let ended: SessionEnd
    let connectionTrackers: [StickTracker?]
    let listenerName: [UInt8]
    let registration: SessionRegistry.Registration
    let clientAddress: SocketAddress?
    let frontendAddress: SocketAddress?
    let accepted: NIODeadline
    let acceptSeconds: Int
    let acceptMilliseconds: Int
    let waitStarted: NIODeadline
    let requestsServed: Int
    private var socket: StreamSocket?

    init(policy: HTTPProxyPolicy, ended: SessionEnd, connectionTrackers: [StickTracker?], listenerName: [UInt8],
         registration: SessionRegistry.Registration, clientAddress: SocketAddress?, frontendAddress: SocketAddress?,
         accepted: NIODeadline, acceptSeconds: Int, acceptMilliseconds: Int, waitStarted: NIODeadline, requestsServed: Int,
         socket: StreamSocket) {
        self.policy = policy
        self.ended = ended
        self.connectionTrackers = connectionTrackers
        self.listenerName = listenerName
        self.registration = registration
        self.clientAddress = clientAddress
        self.frontendAddress = frontendAddress
        self.accepted = accepted
        self.acceptSeconds = acceptSeconds
        self.acceptMilliseconds = acceptMilliseconds
        self.waitStarted = waitStarted
        self.requestsServed = requestsServed
        self.socket = socket
        super.init()
    }

    /// The connections parked now, process-wide (`show info`).
    static let parked = Atomic<Int>(0)
    static var count: Int { parked.load(ordering: .relaxed) }

    var liveTarget: (backend: String, server: String?) { ("<NONE>", nil) }

    /// Takes the socket's events from here on, and keeps the keep-alive timeout.
    func park() {
        guard let socket else { return }
        Self.parked.add(1, ordering: .relaxed)
        socket.delegate = self
        if let timeout = policy.keepAliveTimeout { socket.loop.arm(self, at: waitStarted + timeout) }
    }

    /// `timeout http-keep-alive`: the connection closes without a log line.
    override func fire() {
        close()
    }

    func cut() {
        close()
    }

    func softStop() {
        close()
    }

    private func close() {
        guard let socket = leave() else { return }
        socket.close()
        ended.finish()
    }

    /// Gives the socket up: no longer parked.
    private func leave() -> StreamSocket? {
        guard let socket else { return nil }
        self.socket = nil
        Self.parked.subtract(1, ordering: .relaxed)
        if isArmed { socket.loop.disarm(self) }
        return socket
    }

    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer) {
        guard let socket = leave() else { return }
        HTTPClientSession.resume(self, socket: socket, with: bytes)
    }

    func socketInputEnded(_ socket: StreamSocket) {
        close()
    }

    func socketFailed(_ socket: StreamSocket, error: IOError) {
        guard leave() != nil else { return }
        ended.finish()
    }
}
