#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// A keep-alive HTTP client connection parked between requests
/// (`tune.park-idle-clients`): its socket waits in the parking lot, and this record
/// keeps what the next request's session needs. About 200 bytes, where a session
/// and its channel hold about 3.3 KiB.
///
/// It stands in the session registry while parked (`show sess`, `shutdown session`)
/// and keeps the keep-alive timeout. When the client sends or closes, a new session
/// takes over on a new channel for the same socket.
final class ParkedHTTPClient: LiveSession, NIOScheduledCallbackHandler {
    let policy: HTTPProxyPolicy
    let ended: EventLoopPromise<Void>
    let connectionTrackers: [StickTracker?]
    let listenerName: [UInt8]
    let registration: SessionRegistry.Registration
    let clientAddress: SocketAddress?
    let frontendAddress: SocketAddress?
    /// The previous request's end: the next one's `%Ti` and `%t` run from here.
    let accepted: NIODeadline
    let acceptSeconds: Int
    let acceptMilliseconds: Int
    /// When the wait for a request began: the keep-alive timeout runs from here.
    let waitStarted: NIODeadline
    let requestsServed: Int
    /// The parked socket (-1 once taken back or closed), and its tag in the lot.
    private var socket: CInt
    private var tag: UInt64 = 0
    private var timer: NIOScheduledCallback?

    init(policy: HTTPProxyPolicy, ended: EventLoopPromise<Void>, connectionTrackers: [StickTracker?], listenerName: [UInt8],
         registration: SessionRegistry.Registration, clientAddress: SocketAddress?, frontendAddress: SocketAddress?,
         accepted: NIODeadline, acceptSeconds: Int, acceptMilliseconds: Int, waitStarted: NIODeadline, requestsServed: Int,
         socket: CInt) {
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
    }

    /// How many connections are parked now, process-wide (`show info`).
    static var count: Int {
        #if os(Linux)
        IdleClientParking.count.load(ordering: .relaxed)
        #else
        0
        #endif
    }

    private var loop: EventLoop { ended.futureResult.eventLoop }

    /// As an idle session's: no backend chosen yet.
    var liveTarget: (backend: String, server: String?) { ("<NONE>", nil) }

    /// Watches the socket and arms the keep-alive timeout; false when the lot cannot
    /// take the socket (the caller closes it).
    func park(in lot: IdleClientParking) -> Bool {
        guard let tag = lot.park(socket, NIOLoopBound(self, eventLoop: loop)) else { return false }
        self.tag = tag
        if let timeout = policy.keepAliveTimeout {
            timer = try? loop.assumeIsolated().scheduleCallback(at: waitStarted + timeout, handler: self)
        }
        return true
    }

    /// The keep-alive timeout: closed silently, as an idle connection on its channel.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        timer = nil
        close()
    }

    /// `shutdown session`.
    func cut() {
        close()
    }

    /// SIGUSR1: a parked connection is idle, closed now.
    func softStop() {
        close()
    }

    private func close() {
        guard socket >= 0 else { return }
        IdleClientParking.shared?.leave(tag, fd: nil)
        timer?.cancel()
        timer = nil
        Glibc.close(socket)
        socket = -1
        ended.succeed(())
    }

    /// The lot saw the client send or close: on the connection's loop. A report for a
    /// socket already closed here is stale and ignored.
    func ready(_ tag: UInt64) {
        guard socket >= 0, tag == self.tag else { return }
        let fd = socket
        socket = -1
        IdleClientParking.shared?.leave(tag, fd: fd)
        timer?.cancel()
        timer = nil
        HTTPClientSession.resume(self, socket: fd)
    }
}
