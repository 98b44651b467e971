import NIOCore

/// Joins two channels on the same event loop, one handler in each pipeline. Bytes read
/// on one side are written to the other unchanged and flushed once per read batch.
/// Backpressure: a side only asks its socket for more data while its partner is
/// writable, so a slow reader never makes Fulcrum buffer without bound. Half-close is
/// passed on: end of input on one side shuts the partner's output down.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    private var outputClosed = false
    /// Bytes read on this side (for the access log).
    private(set) var bytesRead = 0
    /// Told when this side's socket fails (a reset, most often), before the pair closes.
    var failed: (() -> Void)?

    private init() {}

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
        self.failed = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesRead += unwrapInboundIn(data).readableBytes
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerCloseFull()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            partner?.partnerWriteEOF()
            closeIfDone()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failed?()
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    // MARK: - calls from the partner

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerWriteEOF() {
        guard let context, !outputClosed else { return }
        outputClosed = true
        if inputClosed {
            // Both directions are done; a half-close here would become a full close
            // at once and discard what is still queued for this side.
            closeAfterFlush()
        } else {
            // Data read just before the end of input may not have been flushed yet; an
            // output shutdown waits for the queued writes.
            context.flush()
            context.close(mode: .output, promise: nil)
        }
    }

    /// The partner is gone: what it sent before going is still delivered, then this
    /// side closes too.
    private func partnerCloseFull() {
        closeAfterFlush()
    }

    /// Closing at once would drop the writes still queued on this channel; an empty
    /// write completes only after all of them. A reader that never drains them is cut
    /// off by the idle timeout on this channel.
    private func closeAfterFlush() {
        guard let context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        promise.futureResult.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }

    /// Both directions finished: nothing more can pass, release the socket.
    private func closeIfDone() {
        if inputClosed && outputClosed { closeAfterFlush() }
    }
}
