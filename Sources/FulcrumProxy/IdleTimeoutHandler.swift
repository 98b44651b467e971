import NIOCore

/// Closes a connection that saw no traffic in either direction for the configured
/// time (`timeout client` on the client side, `timeout server` on the server side,
/// `timeout tunnel` on both when set).
final class IdleTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    /// Read from the event loop's clock, so tests drive time instead of sleeping.
    private var lastActivity: NIODeadline = .uptimeNanoseconds(0)
    private var task: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        if context.channel.isActive { schedule(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        schedule(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    /// One timer per connection, re-armed lazily: activity only stores a timestamp.
    private func schedule(_ context: ChannelHandlerContext) {
        guard task == nil else { return }
        let deadline = lastActivity + timeout
        task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.task = nil
            if self.lastActivity + self.timeout <= context.eventLoop.now {
                context.close(promise: nil)
            } else {
                self.schedule(context)
            }
        }
    }
}
