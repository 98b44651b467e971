#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import FulcrumEventLoop
import NIOCore

/// Accepts an HTTP listener's connections on one of Fulcrum's loops and starts their
/// sessions there: what NIO's bootstrap, child initializer and `AcceptLimiter` did,
/// without a channel, a future or an address lookup per connection.
///
/// Under a `maxconn` (the bind line's, the frontend's, the process's), a connection
/// takes a place under every limit it counts against; while one is full the listener
/// stops accepting and new connections wait in the kernel's listen queue, as HAProxy
/// leaves them. One accepted in the same batch as the last free place is held, not
/// served, until a place frees.
final class HTTPAcceptor: StreamListenerDelegate {
    private let plan: ListenerPlan
    private let http: HTTPProxyPolicy
    private unowned let runtime: ProxyRuntime
    let loop: EpollEventLoop
    private(set) var listener: StreamListener?
    private var held: [(fd: CInt, peer: SocketAddress?)] = []
    private var waiting = false
    /// The listener's own address when it names one: sessions need no `getsockname`.
    private let localAddress: SocketAddress?

    init(plan: ListenerPlan, http: HTTPProxyPolicy, runtime: ProxyRuntime, loop: EpollEventLoop, localAddress: SocketAddress?) {
        self.plan = plan
        self.http = http
        self.runtime = runtime
        self.loop = loop
        self.localAddress = localAddress
    }

    func listen(on fd: CInt) throws {
        let listener = try StreamListener(fd: fd, loop: loop, delegate: self)
        listener.acceptBatch = runtime.maxAccept
        self.listener = listener
    }

    func stop() {
        listener?.stop()
        listener = nil
        for (fd, _) in held { close(fd) }
        held = []
    }

    func accepted(_ fd: CInt, peer: SocketAddress?, on listener: StreamListener) {
        if held.isEmpty && acquireAll() {
            admit(fd, peer: peer)
        } else {
            held.append((fd, peer))
            listener.pause()
            waitForRoom()
        }
    }

    /// Every limit or none: a connection counts against all the limits it is under.
    private func acquireAll() -> Bool {
        let limits = plan.limits
        for (k, limit) in limits.enumerated() where !limit.tryAcquire() {
            for taken in limits[..<k] { taken.release() }
            return false
        }
        return true
    }

    /// Asks the first full limit to call back; the callback hops to this loop.
    private func waitForRoom() {
        guard !waiting else { return }
        let me = NIOLoopBound(self, eventLoop: loop)
        for limit in plan.limits {
            if limit.notifyWhenFree({ me.eventLoop.execute { me.value.roomMayBeFree() } }) {
                waiting = true
                return
            }
        }
        // Nothing is full any more: go on right away.
        loop.executeOnLoop { self.roomMayBeFree() }
    }

    private func roomMayBeFree() {
        waiting = false
        while let first = held.first, acquireAll() {
            held.removeFirst()
            admit(first.fd, peer: first.peer)
        }
        if !held.isEmpty {
            waitForRoom()
            return
        }
        if plan.limits.allSatisfy({ $0.count < $0.limit }) {
            listener?.resume()
        } else {
            waitForRoom()
        }
    }

    /// Starts the connection's session; the places taken are given back when it ends.
    private func admit(_ fd: CInt, peer: SocketAddress?) {
        let end = SessionEnd(loop: loop, limits: plan.limits)
        var trackers: [StickTracker?] = StickTracker.noSlots
        if let rules = runtime.connectionRules[plan.frontend] {
            guard let tracked = rules.evaluate(client: peer, local: localAddress ?? LocalAddress.of(fd), until: end.future) else {
                // `reject`: closed before any byte is read or written.
                close(fd)
                end.finish()
                return
            }
            trackers = tracked
        }
        let session = HTTPClientSession(policy: http, loop: loop, ended: end, connectionTrackers: trackers, listenerName: plan.options.name)
        session.frontendAddress = localAddress
        let socket: StreamSocket
        do {
            // Unregistered at first: the request is usually there already, and is read
            // at once (`readFirst`, below) instead of a turn of the loop later.
            socket = try StreamSocket(fd: fd, loop: loop, peer: peer, registered: false, delegate: session)
        } catch {
            end.finish()
            return
        }
        plan.frontendCounters.sessions.add(1, ordering: .relaxed)
        session.registration = end.open(in: runtime.sessions, frontend: plan.frontend, session: session,
                                        connections: runtime.connections, frontendConnections: plan.frontendConnections)
        session.start(socket)
        // Usually the whole request is read here; the socket joins the epoll set only
        // when the session needs to hear from the client.
        socket.readFirst()
        if session.needsClientEvents { socket.watch() }
    }
}

/// The accepting side of one HTTP listener: an acceptor on each of Fulcrum's loops,
/// all watching the same listening socket.
final class HTTPListener: Sendable {
    private let acceptors: [NIOLoopBound<HTTPAcceptor>]
    private let group: EpollEventLoopGroup

    private init(acceptors: [NIOLoopBound<HTTPAcceptor>], group: EpollEventLoopGroup) {
        self.acceptors = acceptors
        self.group = group
    }

    static func start(fd: CInt, plan: ListenerPlan, http: HTTPProxyPolicy, runtime: ProxyRuntime,
                      group: EpollEventLoopGroup, localAddress: SocketAddress?) throws -> HTTPListener {
        var acceptors: [NIOLoopBound<HTTPAcceptor>] = []
        do {
            for loop in group.loops {
                let bound = try loop.submit {
                    let acceptor = HTTPAcceptor(plan: plan, http: http, runtime: runtime, loop: loop, localAddress: localAddress)
                    try acceptor.listen(on: fd)
                    return NIOLoopBound(acceptor, eventLoop: loop)
                }.wait()
                acceptors.append(bound)
            }
        } catch {
            // Every loop lets the descriptor go before the caller closes it.
            try? HTTPListener(acceptors: acceptors, group: group).stop().wait()
            throw error
        }
        return HTTPListener(acceptors: acceptors, group: group)
    }

    /// Stops accepting on every loop; the caller closes the descriptor afterwards.
    func stop() -> EventLoopFuture<Void> {
        let stops = acceptors.map { bound in bound.eventLoop.submit { bound.value.stop() } }
        return EventLoopFuture.andAllComplete(stops, on: group.loops[0])
    }
}
