import FulcrumCore
import NIOCore

/// One connection to the stats socket: a line of `;`-separated commands, answered,
/// then the connection closes, unless `prompt` asked for the interactive mode (a `> `
/// prompt after each answer, until `quit`). A line longer than 64 KiB is refused and
/// the connection closed; nothing else is affected.
final class StatsSocketHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let api: RuntimeAPI
    private let level: RuntimeAPI.Level
    private var pending: [UInt8] = []
    private var interactive = false
    static let maxLine = 65536

    init(api: RuntimeAPI, level: RuntimeAPI.Level) {
        self.api = api
        self.level = level
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeFirst(newline + 1)
            guard handle(line, context) else { return }
        }
        if pending.count > Self.maxLine {
            respond("Line too long.\n", context)
            finish(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// Runs one line; false once the connection is ending.
    private func handle(_ line: String, _ context: ChannelHandlerContext) -> Bool {
        var out = ""
        for words in RuntimeCommandLine.split(line) {
            if words == ["prompt"] {
                interactive.toggle()
                continue
            }
            guard let answer = api.run(words, level: level) else {
                respond(out, context)
                finish(context)
                return false
            }
            out += answer
            // HAProxy ends each answer with an empty line, so scripts can split them.
            if !answer.hasSuffix("\n\n") { out += "\n" }
        }
        if interactive {
            respond(out + "> ", context)
            return true
        }
        respond(out, context)
        finish(context)
        return false
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
