import NIOCore

/// Sits in a listening channel's pipeline, ahead of the acceptor: while a `maxconn`
/// that counts this listener (its `bind` line's, its frontend's, the process's) is
/// reached, the listener stops accepting and new connections wait in the kernel's
/// listen queue, as HAProxy leaves them. A connection accepted in the same batch as the
/// last free slot is held (not served, not closed) until a slot frees.
final class AcceptLimiter: ChannelDuplexHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = NIOAny

    private let limits: [ConnectionLimit]
    private var context: ChannelHandlerContext?
    private var held: [Channel] = []
    private var readPending = false
    private var waiting = false

    init(limits: [ConnectionLimit]) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        for child in held { child.close(promise: nil) }
        held = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if held.isEmpty && acquireAll() {
            // Passed on as it came: unwrapping and wrapping the channel again cost a
            // dynamic cast per accepted connection (4 % of the accept path's CPU).
            context.fireChannelRead(data)
        } else {
            held.append(unwrapInboundIn(data))
            waitForRoom()
        }
    }

    func read(context: ChannelHandlerContext) {
        if held.isEmpty && limits.allSatisfy({ $0.count < $0.limit }) {
            context.read()
        } else {
            readPending = true
            waitForRoom()
        }
    }

    /// Every limit or none: a connection counts against all the limits it is under.
    private func acquireAll() -> Bool {
        for (k, limit) in limits.enumerated() where !limit.tryAcquire() {
            for taken in limits[..<k] { taken.release() }
            return false
        }
        return true
    }

    /// The places taken are given back by the connection's session when it ends (a
    /// spliced TCP connection outlives its channel), in the callback that also takes it
    /// off the connection counts: one callback per connection instead of two.
    private func admit(_ child: Channel, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(child))
    }

    /// Asks the first full limit to call back; the callback hops to this listener's loop.
    private func waitForRoom() {
        guard !waiting, let context else { return }
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        for limit in limits {
            if limit.notifyWhenFree({ me.eventLoop.execute { me.value.roomMayBeFree() } }) {
                waiting = true
                return
            }
        }
        // Nothing is full any more: go on right away.
        context.eventLoop.assumeIsolated().execute { self.roomMayBeFree() }
    }

    private func roomMayBeFree() {
        waiting = false
        guard let context else { return }
        // A held connection is not registered yet, so it cannot tell whether its
        // client left meanwhile: it is admitted and finds out once registered.
        while let child = held.first, acquireAll() {
            held.removeFirst()
            admit(child, context: context)
        }
        if !held.isEmpty {
            waitForRoom()
            return
        }
        if readPending {
            readPending = false
            read(context: context)
        }
    }
}
