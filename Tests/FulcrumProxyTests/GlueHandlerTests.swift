import NIOCore
import NIOEmbedded
import Testing
@testable import FulcrumProxy

/// The relay's handlers on two embedded channels sharing one loop: exact bytes across,
/// half-close passed on, reads held back while the other side cannot take more.
@Suite struct GlueHandlerTests {
    func pair() throws -> (client: EmbeddedChannel, server: EmbeddedChannel) {
        let loop = EmbeddedEventLoop()
        let client = EmbeddedChannel(loop: loop)
        let server = EmbeddedChannel(loop: loop)
        let (a, b) = GlueHandler.matchedPair()
        try client.pipeline.syncOperations.addHandler(a)
        try server.pipeline.syncOperations.addHandler(b)
        return (client, server)
    }

    @Test func bytesCrossUnchangedInBothDirections() throws {
        let (client, server) = try pair()
        try client.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try server.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        try server.writeInbound(ByteBuffer(string: "reply"))
        #expect(try client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "reply"))
    }

    @Test func endOfInputFlushesBeforeHalfClosingThePartner() throws {
        let (client, server) = try pair()
        try client.writeInbound(ByteBuffer(string: "last words"))
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        // EmbeddedChannel does not model output half-closure; the loopback test in
        // TCPProxyTests checks that the server still answers after it.
        #expect(try server.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "last words"), "flushed before the half-close")
    }

    @Test func closingOneSideClosesTheOther() throws {
        let (client, server) = try pair()
        try server.close().wait()
        #expect(!client.isActive)
    }

    /// Records the `read()` requests that reach the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    @Test func readsWaitWhileThePartnerIsNotWritable() throws {
        let (client, server) = try pair()
        let counter = ReadCounter()
        try client.pipeline.syncOperations.addHandler(counter, position: .first)
        server.isWritable = false
        client.read()
        #expect(counter.reads == 0, "no read while the server side is full")
        server.isWritable = true
        server.pipeline.fireChannelWritabilityChanged()
        #expect(counter.reads == 1, "the held read goes out once the server side drains")
    }
}

@Suite struct IdleTimeoutHandlerTests {
    @Test func closesAfterInactivityAndActivityPostponesIt() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: IdleTimeoutHandler(timeout: .seconds(5)), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        loop.advanceTime(by: .seconds(4))
        try channel.writeInbound(ByteBuffer(string: "x"))
        loop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "activity 4 s ago")
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "closed 5 s after the last activity")
    }

    @Test func halfClosedConnectionsSwitchToTheFinTimeout() throws {
        for halfClose in ["input", "output"] {
            let loop = EmbeddedEventLoop()
            // An embedded channel closes fully on an output shutdown: one stays open here.
            let channel = EmbeddedChannel(handlers: [OutputShutdownAbsorber(), IdleTimeoutHandler(timeout: .seconds(60), halfClosed: .seconds(1))], loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            loop.advanceTime(by: .seconds(10))
            #expect(channel.isActive, "a full-duplex connection has its 60 s")
            try channel.writeInbound(ByteBuffer(string: "x"))
            if halfClose == "input" {
                channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            } else {
                channel.close(mode: .output, promise: nil)
            }
            loop.advanceTime(by: .milliseconds(900))
            #expect(channel.isActive)
            loop.advanceTime(by: .milliseconds(200))
            #expect(!channel.isActive, "closed 1 s after the \(halfClose) side shut down")
        }
    }
}

/// Stands for a socket whose output is shut down while its input stays open.
final class OutputShutdownAbsorber: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output { promise?.succeed(()) } else { context.close(mode: mode, promise: promise) }
    }
}
