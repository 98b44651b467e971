#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Where keep-alive HTTP client connections wait for their next request once they
/// have been idle for `tune.park-idle-clients`, outside NIO.
///
/// An idle NIO channel holds about 2.5 KiB besides the session (its pending-writes
/// ring, receive buffer, channel, pipeline and contexts): more than all HAProxy keeps
/// per idle client. A parked connection gives its channel up: a duplicate of its socket
/// waits in this thread's epoll set, reported once, and a small record of the session
/// stays (`ParkedHTTPClient`). When the client sends its next request (or closes), the
/// connection's event loop is told, and a new session takes a new channel for the same
/// socket there.
///
/// The event loops add and remove sockets themselves (epoll_ctl is thread-safe); the
/// thread only waits and hands each ready socket back to its loop.
final class IdleClientParking: @unchecked Sendable {
    /// One for the process, started by the first connection parked; nil when the
    /// kernel refuses an epoll set or a thread (connections then stay on their loops).
    static let shared: IdleClientParking? = make()

    private let epoll: CInt
    /// The sessions parked now, by the tag their socket carries in the epoll set.
    private let parked = NIOLockedValueBox<[UInt64: NIOLoopBound<ParkedHTTPClient>]>([:])
    private let nextTag = Atomic<UInt64>(1)
    private var thread = pthread_t()

    private static func make() -> IdleClientParking? {
        let epoll = fulcrum_epoll_create()
        guard epoll >= 0 else { return nil }
        let lot = IdleClientParking(epoll: epoll)
        // The thread keeps the lot, which lives as long as the process.
        let retained = Unmanaged.passRetained(lot).toOpaque()
        let created = pthread_create(&lot.thread, nil, { argument in
            Unmanaged<IdleClientParking>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, retained)
        guard created == 0 else {
            Unmanaged<IdleClientParking>.fromOpaque(retained).release()
            return nil
        }
        return lot
    }

    private init(epoll: CInt) {
        self.epoll = epoll
    }

    deinit {
        close(epoll)
    }

    /// The connections parked now, process-wide (`show info`); counted apart so that
    /// asking does not start the lot.
    static let count = Atomic<Int>(0)

    /// Watches `fd` (the parked connection's own duplicate) for input or the client's
    /// close; returns the tag `leave` takes, or nil when the socket cannot be watched.
    func park(_ fd: CInt, _ session: NIOLoopBound<ParkedHTTPClient>) -> UInt64? {
        let tag = nextTag.wrappingAdd(1, ordering: .relaxed).oldValue
        // In the table and counted first: the socket may be ready the moment it is added.
        parked.withLockedValue { $0[tag] = session }
        Self.count.add(1, ordering: .relaxed)
        guard fulcrum_epoll_add_once(epoll, fd, tag) == 0 else {
            parked.withLockedValue { $0[tag] = nil }
            Self.count.subtract(1, ordering: .relaxed)
            return nil
        }
        return tag
    }

    /// The session takes its socket back: to serve it again (`fd` leaves the epoll
    /// set, before NIO watches it) or to close it (nil: closing removes it). A report
    /// already on its way to the loop is ignored there, its tag no longer current.
    func leave(_ tag: UInt64, fd: CInt?) {
        if parked.withLockedValue({ $0.removeValue(forKey: tag) }) != nil { Self.count.subtract(1, ordering: .relaxed) }
        if let fd { _ = fulcrum_epoll_remove(epoll, fd) }
    }

    private func run() {
        var tags = [UInt64](repeating: 0, count: 64)
        var failed = [UInt8](repeating: 0, count: 64)
        while true {
            let count = tags.withUnsafeMutableBufferPointer { tags in
                failed.withUnsafeMutableBufferPointer { fulcrum_epoll_wait(epoll, tags.baseAddress!, $0.baseAddress!, 64, -1) }
            }
            if count < 0 {
                // Only a bad epoll set fails otherwise, which should never be; giving up
                // would leave every parked client unanswered, so it keeps trying.
                if errno != EINTR { usleep(10_000) }
                continue
            }
            for index in 0..<Int(count) {
                let tag = tags[index]
                guard let session = parked.withLockedValue({ $0.removeValue(forKey: tag) }) else { continue }
                Self.count.subtract(1, ordering: .relaxed)
                session.eventLoop.execute { session.value.ready(tag) }
            }
        }
    }
}
#else
import NIOCore

/// Parking needs epoll: elsewhere every connection stays on its event loop.
final class IdleClientParking: Sendable {
    static let shared: IdleClientParking? = nil
    func park(_ fd: CInt, _ session: NIOLoopBound<ParkedHTTPClient>) -> UInt64? { nil }
    func leave(_ tag: UInt64, fd: CInt?) {}
}
#endif
