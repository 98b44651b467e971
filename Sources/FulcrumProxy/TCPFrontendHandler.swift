import FulcrumCore
import NIOCore
import NIOPosix

/// The first handler of an accepted TCP-mode connection: picks a server, connects on
/// the same event loop (retrying and redispatching as configured), then replaces itself
/// with a glue pair. The client's bytes wait in the kernel meanwhile: the channel does
/// not read until the server side exists.
final class TCPFrontendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let backend: BackendPool
    private var policy: ConnectRetryPolicy
    private var failed: Set<Int> = []
    /// What arrived while the server side was being connected (the kernel may report
    /// data and end of input before Fulcrum asks to read): replayed into the glue.
    private var early: [NIOAny] = []
    private var earlyInputClosed = false

    init(backend: BackendPool) {
        self.backend = backend
        self.policy = ConnectRetryPolicy(retries: backend.retries, redispatch: backend.redispatch)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard let server = backend.pick(excluding: []) else {
            context.close(promise: nil)
            return
        }
        connect(to: server, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        early.append(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            earlyInputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func connect(to server: Int, context: ChannelHandlerContext) {
        let target = backend.servers[server]
        let address = target.address(clientLocalPort: context.channel.localAddress?.port)
        let serverTimeout = backend.serverTimeout
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(backend.connectTimeout)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(to: address)
            .hop(to: context.eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let serverChannel):
                    self.glue(context: context, serverChannel: serverChannel, serverTimeout: serverTimeout)
                case .failure:
                    self.failed.insert(server)
                    switch self.policy.afterFailure() {
                    case .retrySameServer:
                        self.connect(to: server, context: context)
                    case .redispatch:
                        if let other = self.backend.pick(excluding: self.failed) {
                            self.connect(to: other, context: context)
                        } else {
                            self.connect(to: server, context: context)
                        }
                    case .giveUp:
                        context.close(promise: nil)
                    }
                }
            }
    }

    private func glue(context: ChannelHandlerContext, serverChannel: Channel, serverTimeout: TimeAmount?) {
        guard context.channel.isActive else {
            serverChannel.close(promise: nil)
            return
        }
        let (clientGlue, serverGlue) = GlueHandler.matchedPair()
        do {
            if let serverTimeout {
                try serverChannel.pipeline.syncOperations.addHandler(IdleTimeoutHandler(timeout: serverTimeout))
            }
            try serverChannel.pipeline.syncOperations.addHandler(serverGlue)
            try context.pipeline.syncOperations.addHandler(clientGlue)
            for data in early { context.fireChannelRead(data) }
            if !early.isEmpty { context.fireChannelReadComplete() }
            early = []
            if earlyInputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            serverChannel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }
}
