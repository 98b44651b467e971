#if os(Linux)
import Dispatch
import NIOCore
import Synchronization

/// A fixed set of `EpollEventLoop`s handed out in turn (`nbthread` of them).
public final class EpollEventLoopGroup: EventLoopGroup, Sendable {
    public let loops: [EpollEventLoop]
    private let index = Atomic<Int>(0)

    public init(threads: Int, name: String = "fulcrum-loop") throws {
        precondition(threads > 0)
        var loops: [EpollEventLoop] = []
        for k in 0..<threads {
            loops.append(try EpollEventLoop(name: threads == 1 ? name : "\(name)-\(k)"))
        }
        self.loops = loops
        for loop in loops { loop.group = self }
    }

    public func next() -> any EventLoop {
        nextLoop()
    }

    /// The next loop in turn, as its own type.
    public func nextLoop() -> EpollEventLoop {
        loops[index.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    public func any() -> any EventLoop {
        for loop in loops where loop.inEventLoop { return loop }
        return loops[0]
    }

    public func makeIterator() -> EventLoopIterator {
        EventLoopIterator(loops)
    }

    public func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        for loop in loops { loop.requestStop() }
        DispatchQueue.global().async {
            for loop in self.loops { loop.waitUntilStopped() }
            queue.async { callback(nil) }
        }
    }
}
#endif
