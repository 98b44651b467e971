import FulcrumCore
import NIOCore
import NIOPosix
import Synchronization

/// Sends a ring's events to one of its `server` lines over TCP, as HAProxy's ring
/// forwarders do: from the oldest event the ring still holds, each event followed by a
/// newline (`log-proto legacy`) or preceded by its length (`octet-count`, RFC 6587),
/// connecting again after a failure or a close and going on where it stopped. It lives
/// on one event loop and never touches the loops that log: they only append to the
/// ring, which wakes the forwarder. A server that does not read is not waited for
/// longer than `timeout server`; the ring keeps only its `size`, so a server too slow
/// loses the oldest events (counted as the ring's dropped).
final class RingForwarder {
    let ring: LogRing
    let server: RingConfig.Server
    let loop: EventLoop
    private var channel: Channel?
    private var next = 0
    private var waiting = false
    private var stalled: Scheduled<Void>?

    /// A refused connection is tried again this long after; a lost one at once, almost
    /// (HAProxy 2.6 measured: the same).
    static let retryDelay = TimeAmount.seconds(1)
    static let reconnectDelay = TimeAmount.milliseconds(100)

    init(ring: LogRing, server: RingConfig.Server, loop: EventLoop) {
        self.ring = ring
        self.server = server
        self.loop = loop
    }

    private static let started = Atomic<Bool>(false)

    /// Starts one forwarder per ring server, once per process.
    static func startAll(on group: EventLoopGroup) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        for ring in LogRing.all {
            for server in ring.config.servers {
                let loop = group.next()
                loop.execute { RingForwarder(ring: ring, server: server, loop: loop).connect() }
            }
        }
    }

    private var bound: NIOLoopBound<RingForwarder> { NIOLoopBound(self, eventLoop: loop) }

    private func connect() {
        guard case .inet(let host, _) = server.address.kind, let port = server.address.ports?.lowerBound else { return }
        let me = bound
        ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(ring.config.connectTimeout?.milliseconds ?? 1000)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Watcher(forwarder: me))
                }
            }
            .connect(host: host.isEmpty ? "127.0.0.1" : host, port: port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    me.value.channel = channel
                    me.value.pump()
                case .failure:
                    me.value.retry()
                }
            }
    }

    private func retry(after delay: TimeAmount = RingForwarder.retryDelay) {
        let me = bound
        loop.scheduleTask(in: delay) { me.value.connect() }
    }

    /// Writes what the ring holds from `next` on, then waits for more (or for the
    /// server to read what was written).
    fileprivate func pump() {
        guard let channel, channel.isActive else { return }
        guard channel.isWritable else {
            watchStall(channel)
            return
        }
        stalled?.cancel()
        stalled = nil
        let (events, lost, following) = ring.events(from: next)
        if lost > 0 { ring.dropped.add(lost, ordering: .relaxed) }
        if !events.isEmpty {
            var buffer = channel.allocator.buffer(capacity: events.reduce(0) { $0 + $1.count + 8 })
            for event in events {
                switch server.framing {
                case .legacy:
                    buffer.writeBytes(event)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                case .octetCount:
                    buffer.writeString("\(event.count) ")
                    buffer.writeBytes(event)
                }
            }
            channel.writeAndFlush(buffer, promise: nil)
        }
        next = following
        guard !waiting else { return }
        waiting = true
        let me = bound
        ring.notify(from: next) {
            me.eventLoop.execute {
                me.value.waiting = false
                me.value.pump()
            }
        }
    }

    /// `timeout server`: a server that takes nothing for that long is disconnected.
    private func watchStall(_ channel: Channel) {
        guard stalled == nil, let limit = ring.config.serverTimeout?.milliseconds, limit > 0 else { return }
        stalled = loop.scheduleTask(in: .milliseconds(Int64(limit))) { channel.close(promise: nil) }
    }

    fileprivate func closed() {
        // A connection that never came up is retried by `connect` itself.
        guard channel != nil else { return }
        stalled?.cancel()
        stalled = nil
        channel = nil
        retry(after: Self.reconnectDelay)
    }

    /// Passes the connection's events on; whatever the server sends is ignored.
    private final class Watcher: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let forwarder: NIOLoopBound<RingForwarder>

        init(forwarder: NIOLoopBound<RingForwarder>) { self.forwarder = forwarder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            if context.channel.isWritable { forwarder.value.pump() }
            context.fireChannelWritabilityChanged()
        }

        func channelInactive(context: ChannelHandlerContext) {
            forwarder.value.closed()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
