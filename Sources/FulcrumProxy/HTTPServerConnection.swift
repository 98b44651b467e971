import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The handler of a server-side connection in HTTP mode. While a session uses it,
/// every event goes to that session; while it waits in the idle set it only watches
/// for the server closing it (or sending bytes nobody asked for, which also closes it).
final class HTTPServerConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = ByteBuffer

    let server: Int
    private let idleSet: IdleServerConnections
    private(set) var context: ChannelHandlerContext?
    /// The session using the connection; nil while idle.
    private(set) var owner: HTTPClientSession?
    private var pendingRead = false
    private var purgeTask: Scheduled<Void>?
    private var idleSince: NIODeadline = .uptimeNanoseconds(0)
    /// Requests this connection has carried (0 for a fresh one).
    private(set) var uses = 0
    /// Its place in the idle set while parked (-1 otherwise), for an O(1) removal.
    var idleSlot = -1
    /// Bytes written since the last flush.
    private var unflushed = false

    init(server: Int, idleSet: IdleServerConnections) {
        self.server = server
        self.idleSet = idleSet
    }

    var isUsable: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }
    /// The server's address as dialled: a channel made from a socket still connecting
    /// has not learnt its peer's address.
    var target: SocketAddress?
    /// The socket of a connection Fulcrum opened itself, while its first write is
    /// pending (the channel owns it; only asked whether the handshake is done).
    var connectingDescriptor: CInt = -1

    /// Whether the kernel has a peer for the socket (the handshake completed), for a
    /// connect timer that fires while the first write is still going out.
    var isConnected: Bool {
        guard connectingDescriptor >= 0, context?.channel.isActive == true else { return false }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(connectingDescriptor, $0, &length) }
        } == 0
    }
    /// Its own address and the server's, for the log line (`%bi:%bp`, `%si:%sp`).
    var addresses: (SocketAddress?, SocketAddress?) { (context?.channel.localAddress, context?.channel.remoteAddress ?? target) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle()
        self.context = nil
        owner = nil
    }

    // MARK: - ownership

    func attach(_ session: HTTPClientSession) {
        owner = session
        uses += 1
        if !busy, let context {
            busy = true
            idleSet.began(server: server, on: context.eventLoop)
        }
    }

    /// Counted among the connections in use (for how many idle ones are worth keeping).
    private var busy = false

    private func settle() {
        guard busy, let context else { return }
        busy = false
        idleSet.ended(server: server, on: context.eventLoop)
    }

    /// Back to the idle set; false if it could not go there (the caller closes it).
    func park() -> Bool {
        settle()
        guard let context, context.channel.isActive else { return false }
        owner = nil
        guard idleSet.park(self, server: server, on: context.eventLoop) else { return false }
        idleSince = context.eventLoop.now
        schedulePurge(context, at: idleSince + idleSet.purgeDelay)
        // An idle connection keeps reading, to notice the server closing it.
        resumeRead()
        return true
    }

    /// One timer outlives many park/attach cycles: it is re-armed from the last idle
    /// moment when it fires, instead of being scheduled for every request.
    private func schedulePurge(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard purgeTask == nil else { return }
        purgeTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.purgeTask = nil
            guard self.owner == nil, let context = self.context else { return }
            let expiry = self.idleSince + self.idleSet.purgeDelay
            if expiry <= context.eventLoop.now {
                self.close()
            } else {
                self.schedulePurge(context, at: expiry)
            }
        }
    }

    func close() {
        settle()
        owner = nil
        context?.close(promise: nil)
    }

    /// Writes the request head on a connection whose connect() may still be under way.
    /// The kernel takes the bytes only once the connection is established, so `done`
    /// hears nil then, or the error that ended the attempt (refused, reset, closed).
    func sendFirst(_ head: ByteBuffer, _ done: @escaping (Error?) -> Void) {
        guard let context else {
            done(ChannelError.ioOnClosedChannel)
            return
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success: done(nil)
            case .failure(let error): done(error)
            }
        }
        context.writeAndFlush(wrapOutboundOut(head), promise: promise)
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
        unflushed = true
    }

    /// A flush with nothing written since the last one still walks the pipeline and
    /// the channel's checks: the session asks for one after every client read.
    func flush() {
        guard unflushed else { return }
        unflushed = false
        context?.flush()
    }

    func resumeRead() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    // MARK: - channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let owner {
            owner.serverRead(unwrapInboundIn(data))
        } else {
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner?.serverReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle()
        purgeTask?.cancel()
        purgeTask = nil
        if let owner {
            self.owner = nil
            owner.serverClosed(self)
        } else {
            idleSet.remove(self, server: server, on: context.eventLoop)
        }
    }

    /// The channel allows half-closure so that a tunnel (after 101) can pass a half-close
    /// on; in HTTP the server's end of input ends the connection.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        owner?.serverWritabilityChanged(context.channel.isWritable)
    }

    func read(context: ChannelHandlerContext) {
        if owner?.wantsServerData ?? true {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
