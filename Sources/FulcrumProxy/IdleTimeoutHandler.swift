import NIOCore

/// Closes a connection that saw no traffic in either direction for the configured
/// time (`timeout client` on the client side, `timeout server` on the server side,
/// `timeout tunnel` on both when set). Once the connection is closed in one direction
/// (end of input read, or output shut down) the half-closed timeout takes over when
/// one is set (`timeout client-fin`, `timeout server-fin`), so a peer that never sends
/// its own FIN does not hold the connection for a whole tunnel timeout.
final class IdleTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private var timeout: TimeAmount?
    private let halfClosedTimeout: TimeAmount?
    /// Read from the event loop's clock, so tests drive time instead of sleeping.
    private var lastActivity: NIODeadline = .uptimeNanoseconds(0)
    private var task: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// Told before the close that a timer ran out (a TCP connection logs `cD`/`sD`).
    var expired: (() -> Void)?

    init(timeout: TimeAmount?, halfClosed: TimeAmount? = nil) {
        self.timeout = timeout
        self.halfClosedTimeout = halfClosed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
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
        self.context = nil
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { halfClosed(context) }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output { halfClosed(context) }
        context.close(mode: mode, promise: promise)
    }

    private func halfClosed(_ context: ChannelHandlerContext) {
        guard let fin = halfClosedTimeout, timeout != fin else { return }
        timeout = fin
        // The new deadline may come before the armed one.
        task?.cancel()
        task = nil
        if context.channel.isActive { schedule(context) }
    }

    /// One timer per connection, re-armed lazily: activity only stores a timestamp.
    private func schedule(_ context: ChannelHandlerContext) {
        guard task == nil, let timeout else { return }
        let deadline = lastActivity + timeout
        task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.task = nil
            guard let current = self.timeout else { return }
            if self.lastActivity + current <= context.eventLoop.now {
                self.expired?()
                context.close(promise: nil)
            } else {
                self.schedule(context)
            }
        }
    }
}
