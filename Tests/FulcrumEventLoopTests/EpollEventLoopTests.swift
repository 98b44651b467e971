#if os(Linux)
import FulcrumEventLoop
import NIOCore
import Testing

@Suite struct EpollEventLoopTests {
    @Test func futuresCompleteOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let value = try loop.submit { loop.inEventLoop ? 42 : 0 }.wait()
        #expect(value == 42)
        #expect(!loop.inEventLoop)
    }
}
#endif
