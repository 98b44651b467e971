import FulcrumEventLoop
import NIOCore

/// The end of one HTTP client connection, told once, on its loop: its entry leaves
/// the session table, its places in the process's, frontend's and listener's counts
/// are given back, and whatever waits for the end hears of it.
///
/// One object per connection in place of a promise and its callbacks: with a new
/// connection per request, the future, its two callbacks and their closures were a
/// tenth of the user time spent per connection. A future is made only for code that
/// asks for one (connection tracking rules).
final class SessionEnd: @unchecked Sendable {
    private let loop: EpollEventLoop
    private let limits: [ConnectionLimit]
    private var counted: (registry: SessionRegistry, id: Int?, connections: ConnectionCounter, frontend: ConnectionCounter)?
    private var waiting: EventLoopPromise<Void>?
    private(set) var isFinished = false

    init(loop: EpollEventLoop, limits: [ConnectionLimit]) {
        self.loop = loop
        self.limits = limits
    }

    /// Completed when the connection ends.
    var future: EventLoopFuture<Void> {
        if isFinished { return loop.makeSucceededVoidFuture() }
        if let waiting { return waiting.futureResult }
        let promise = loop.makePromise(of: Void.self)
        waiting = promise
        return promise.futureResult
    }

    /// The connection is open: it counts, and `show sess` lists it. On the loop.
    func open(in registry: SessionRegistry, frontend: String, session: any LiveSession,
              connections: ConnectionCounter, frontendConnections: ConnectionCounter) -> SessionRegistry.Registration? {
        connections.add(1)
        frontendConnections.add(1)
        let id = registry.add(on: loop, frontend: frontend, session: session)
        counted = (registry, id, connections, frontendConnections)
        return id.map { SessionRegistry.Registration(registry: registry, id: $0) }
    }

    /// The connection is over (closed, refused, or its tunnel ended). On the loop;
    /// only the first call counts.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        if let counted {
            if let id = counted.id { counted.registry.remove(id, on: loop) }
            counted.connections.add(-1)
            counted.frontend.add(-1)
        }
        ProxyRuntime.release(limits)
        waiting?.succeed(())
    }
}
