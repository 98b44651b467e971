#if os(Linux)
import Glibc
import NIOCore
import Testing
@testable import FulcrumEventLoop

/// What a socket keeps while its peer does not read: the bytes, not the larger buffers
/// they were sliced from.
@Suite struct StreamSocketQueueTests {
    @Test func smallSlicesWaitingForThePeerDoNotKeepTheirBuffers() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let (mine, peer) = try connectedPair(.unix)
        defer { Glibc.close(peer) }
        let recorder = Recorder()
        let (queued, storage) = try onLoop(loop) { () -> (Int, Int) in
            let socket = try StreamSocket(fd: mine, loop: loop, peer: nil, delegate: recorder)
            // Fills the kernel's buffers: the peer reads nothing.
            socket.write(ByteBuffer(repeating: 7, count: 4 << 20))
            // Then 100 small slices of 64 KiB buffers, as reads of a stream of events give.
            for _ in 0..<100 {
                var big = ByteBufferAllocator().buffer(capacity: 65536)
                big.writeRepeatingByte(1, count: 65536)
                socket.write(big.getSlice(at: 0, length: 200)!)
            }
            socket.enqueue({ var b = ByteBufferAllocator().buffer(capacity: 65536); b.writeRepeatingByte(2, count: 100); return b }())
            socket.flush()
            let result = (socket.pendingBytes, socket.pendingStorage)
            socket.close()
            return result
        }
        #expect(queued > 100 * 200)
        // The 4 MiB remainder keeps its own buffer; the small ones are copied out.
        #expect(storage < (4 << 20) + 100 * 1024)
    }
}
#endif
