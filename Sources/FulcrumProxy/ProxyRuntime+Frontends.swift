#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// `disable frontend`, `enable frontend` and `shutdown frontend`: what SIGTTOU and
/// SIGTTIN do to every listener, done to one frontend's. The runtime API runs on an
/// event loop, so it gets futures; only starting an HTTP listener waits (briefly) for
/// Fulcrum's own loops to take the socket.
extension ProxyRuntime {
    private func planIndices(_ frontend: String) -> Set<Int> {
        Set(plans.indices.filter { plans[$0].frontend == frontend })
    }

    /// Stops accepting on the frontend's listeners; their TCP sockets stay bound (shut
    /// down for reading, so connection attempts are refused) to listen again later.
    func pauseFrontend(_ frontend: String, on loop: EventLoop) -> EventLoopFuture<Void> {
        var closing: [EventLoopFuture<Void>] = []
        for entry in listeners.remove(plans: planIndices(frontend)) {
            if let fd = entry.fd {
                let kept = dup(fd)
                if kept >= 0 {
                    _ = Glibc.shutdown(kept, Int32(SHUT_RD))
                    listeners.keepPaused(entry.plan, kept)
                }
            }
            closing.append(entry.stop())
        }
        return EventLoopFuture.andAllComplete(closing, on: loop)
    }

    /// Listens again on the frontend's sockets; false if one of them could not.
    func resumeFrontend(_ frontend: String, on loop: EventLoop) -> EventLoopFuture<Bool> {
        var opening: [EventLoopFuture<Bool>] = []
        for index in planIndices(frontend).sorted() {
            do {
                let (future, fd) = try bootstrap(plans[index], index: index)
                let listeners = self.listeners
                opening.append(future.map { stop in
                    listeners.append(ListenerSet.Entry(stop: stop, fd: fd, plan: index))
                    return true
                }.recover { _ in false })
            } catch {
                opening.append(loop.makeSucceededFuture(false))
            }
        }
        return EventLoopFuture.whenAllComplete(opening, on: loop).map { results in
            results.allSatisfy { (try? $0.get()) == true }
        }
    }

    /// Closes the frontend's listeners for good; connections in flight go on.
    func shutdownFrontend(_ frontend: String, on loop: EventLoop) -> EventLoopFuture<Void> {
        let plans = planIndices(frontend)
        for plan in plans {
            if let fd = listeners.takePaused(plan) { close(fd) }
        }
        let closing = listeners.remove(plans: plans).map { $0.stop() }
        return EventLoopFuture.andAllComplete(closing, on: loop)
    }
}
