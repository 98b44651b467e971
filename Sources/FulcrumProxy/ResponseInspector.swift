import FulcrumCore
import NIOCore

/// A TCP-mode backend's `tcp-response content` rules and `tcp-response inspect-delay`.
final class ResponseInspection: Sendable {
    let rules: [CompiledHTTPRule]
    let delay: TimeAmount?
    let tables: [String: StickTable]
    /// Bytes held at most: beyond, the rules decide on what arrived.
    static let maxInspected = 16 * 1024

    init(rules: [CompiledHTTPRule], delay: TimeAmount?, tables: [String: StickTable]) {
        self.rules = rules
        self.delay = delay
        self.tables = tables
    }
}

/// Sits on a server connection in TCP mode, before the relay, and holds the server's
/// first bytes until the `tcp-response content` rules decide: `accept` (or no rule
/// left to wait for) lets them through and leaves the pipeline, `reject` closes both
/// connections without a byte to the client, `close` closes the server connection
/// once what it sent has been passed on. Without `tcp-response inspect-delay` the
/// rules decide on the first bytes, as HAProxy's do; with it, a rule that does not
/// match yet waits for more bytes until the delay ends.
final class ResponseInspector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let inspection: ResponseInspection
    private let sample: SampleContext
    private let client: Channel
    private let backend: BackendPool
    private var held: [ByteBuffer] = []
    private var bytes: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var decided = false
    private var closeAfterRelease = false
    private var pendingInputClosed = false

    init(inspection: ResponseInspection, sample: SampleContext, client: Channel, backend: BackendPool) {
        self.inspection = inspection
        self.sample = sample
        self.client = client
        self.backend = backend
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let delay = inspection.delay else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            guard let self, !self.decided else { return }
            self.decide(context, final: true)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        let buffer = unwrapInboundIn(data)
        bytes += buffer.readableBytesView
        held.append(buffer)
        decide(context, final: bytes.count >= ResponseInspection.maxInspected)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if decided { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !decided, let e = event as? ChannelEvent, case .inputClosed = e {
            // The server said all it will: the rules decide on that.
            pendingInputClosed = true
            decide(context, final: true)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func decide(_ context: ChannelHandlerContext, final: Bool) {
        sample.responsePayload = bytes
        var log = RequestLogContext(frontendName: "")
        let outcome = HTTPRuleRunner.run(inspection.rules, response: true, sample, &log,
                                         errorPages: .builtIn, connectionLevel: true)
        switch outcome {
        case .reject:
            decided = true
            timer?.cancel()
            held = []
            backend.counters.deniedResponses.add(1, ordering: .relaxed)
            client.close(promise: nil)
            context.close(promise: nil)
        case .closeServer:
            closeAfterRelease = true
            release(context)
        case .proceed where !final && inspection.delay != nil:
            return
        default:
            release(context)
        }
    }

    private func release(_ context: ChannelHandlerContext) {
        decided = true
        timer?.cancel()
        let out = held
        held = []
        for buffer in out { context.fireChannelRead(wrapInboundOut(buffer)) }
        if !out.isEmpty { context.fireChannelReadComplete() }
        if pendingInputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        if closeAfterRelease {
            context.close(promise: nil)
            return
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
