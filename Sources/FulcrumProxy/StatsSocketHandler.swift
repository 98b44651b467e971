import FulcrumCore
import NIOCore

/// One connection to the stats socket: a line of `;`-separated commands, answered,
/// then the connection closes, unless `prompt` asked for the interactive mode (a `> `
/// prompt after each answer, until `quit`).
///
/// Whatever the client does, what it costs stays bounded: a line longer than 64 KiB
/// is refused and the connection closed; lines are taken one at a time, and the next
/// one only once the answer to the previous one left (the socket is not read while an
/// answer waits for a client that does not read), so a client that sends commands
/// without reading the answers holds one answer in memory, not all of them.
final class StatsSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let api: RuntimeAPI
    private let level: RuntimeAPI.Level
    private var pending: ByteBuffer?
    private var interactive = false
    /// A command whose answer is being worked out on other event loops, or an answer
    /// the client has not taken yet: no further line is run meanwhile.
    private var busy = false
    private var readPending = false
    private var ending = false
    static let maxLine = 65536

    init(api: RuntimeAPI, level: RuntimeAPI.Level) {
        self.api = api
        self.level = level
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard !ending else { return }
        if pending == nil || pending!.readableBytes == 0 {
            pending = buffer
        } else {
            pending!.writeBuffer(&buffer)
        }
        runLines(context)
    }

    func read(context: ChannelHandlerContext) {
        // Nothing more is read while a line waits to run or an answer to leave.
        if busy || ending || hasCompleteLine {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && busy && !awaitingFuture {
            busy = false
            runLines(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, case .inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The client sent all it will: the complete lines run, then the connection
        // ends (a last line without its newline is dropped, as HAProxy does).
        inputClosed = true
        runLines(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private var awaitingFuture = false
    private var inputClosed = false
    private var answered = false

    private var hasCompleteLine: Bool {
        pending.map { $0.readableBytesView.contains(UInt8(ascii: "\n")) } ?? false
    }

    /// Runs the complete lines received, one at a time; without `prompt` the
    /// connection ends once the lines received are answered, as with HAProxy.
    private func runLines(_ context: ChannelHandlerContext) {
        while !busy && !ending, let newline = pending?.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending!.readString(length: newline - pending!.readerIndex) ?? ""
            pending!.moveReaderIndex(forwardBy: 1)
            run(RuntimeCommandLine.split(line)[...], answer: "", context)
        }
        pending?.discardReadBytes()
        guard !ending else { return }
        if let pending, pending.readableBytes > Self.maxLine, !hasCompleteLine {
            ending = true
            respond("Line too long.\n", context)
            finish(context)
            return
        }
        guard !busy else { return }
        if inputClosed || (!interactive && answered) {
            ending = true
            finish(context)
            return
        }
        if readPending {
            readPending = false
            context.read()
        }
    }

    /// Runs the commands of one line in order; an answer that comes later (from other
    /// event loops) holds the next ones until it is there.
    private func run(_ commands: ArraySlice<[String]>, answer: String, _ context: ChannelHandlerContext) {
        var out = answer
        var commands = commands
        while let words = commands.popFirst() {
            if words == ["prompt"] {
                interactive.toggle()
                out += "\n"
                continue
            }
            switch api.run(words, level: level, on: context.eventLoop) {
            case .quit:
                ending = true
                respond(out, context)
                finish(context)
                return
            case .text(let text):
                out += Self.terminated(text)
            case .later(let future):
                busy = true
                awaitingFuture = true
                let rest = commands
                future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                    self.awaitingFuture = false
                    self.busy = false
                    let text = (try? result.get()) ?? "Internal error.\n"
                    self.run(rest, answer: out + Self.terminated(text), context)
                    self.runLines(context)
                }
                return
            }
        }
        answered = true
        respond(interactive ? out + "> " : out, context)
        // The next line waits until the client has taken this answer.
        if !context.channel.isWritable { busy = true }
    }

    /// HAProxy ends each answer with an empty line, so scripts can split them.
    private static func terminated(_ text: String) -> String {
        text.hasSuffix("\n\n") ? text : text + "\n"
    }

    private func respond(_ text: String, _ context: ChannelHandlerContext) {
        guard !text.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    private func finish(_ context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        promise.futureResult.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
