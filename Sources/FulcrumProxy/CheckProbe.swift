import FulcrumCore
import NIOCore

/// The handler of one check connection: carries out what the check conversation
/// decides, keeps the read deadline, and reports the verdict once. It lives on the
/// checker's event loop, never on a client's request path.
final class CheckProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var conversation: any CheckConversation
    private var received: [UInt8] = []
    private let readTimeout: TimeAmount
    private let proxyLine: Bool
    private var finish: ((CheckResult) -> Void)?
    private var timer: Scheduled<Void>?

    init(conversation: any CheckConversation, readTimeout: TimeAmount, proxyLine: Bool, finish: @escaping (CheckResult) -> Void) {
        self.conversation = conversation
        self.readTimeout = readTimeout
        self.proxyLine = proxyLine
        self.finish = finish
    }

    func channelActive(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) {
            self.report(self.conversation.ended(timedOut: true, received: self.received))
            context.close(promise: nil)
        }
        if proxyLine, let local = context.channel.localAddress, let remote = context.channel.remoteAddress,
           let src = local.ipAddress, let dst = remote.ipAddress, let sport = local.port, let dport = remote.port {
            // PROXY v1 for `tcp-check connect send-proxy`: the check's own addresses.
            let family = local.protocol == .inet6 ? "TCP6" : "TCP4"
            write(context, Array("PROXY \(family) \(src) \(dst) \(sport) \(dport)\r\n".utf8))
        }
        act(conversation.start(), context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        act(conversation.received(received), context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(conversation.ended(timedOut: false, received: received))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func act(_ step: CheckStep, _ context: ChannelHandlerContext) {
        switch step {
        case .wait:
            break
        case .send(let bytes):
            write(context, bytes)
        case .finished(let result):
            report(result)
            context.close(promise: nil)
        case .finishedAfterSending(let bytes, let result):
            report(result)
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
            promise.futureResult.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func report(_ result: CheckResult) {
        timer?.cancel()
        timer = nil
        guard let finish else { return }
        self.finish = nil
        finish(result)
    }
}
