#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOCore

/// The owner of a `StreamListener`: handed each accepted connection.
public protocol StreamListenerDelegate: AnyObject {
    /// A connection was accepted: `fd` is non-blocking and closed on exec, and the
    /// delegate owns it. A Unix socket's client has a Unix address, usually with an
    /// empty path.
    func accepted(_ fd: CInt, peer: SocketAddress?, on listener: StreamListener)
}

/// A listening socket watched by one `EpollEventLoop`: each readiness accepts up to
/// `acceptBatch` connections with `accept4`, which also gives the peer's address (NIO
/// asks `getpeername` and `getsockname` for every connection).
///
/// Several loops may watch the same listening descriptor, each with a listener of its
/// own: the kernel wakes them all, and those that find the queue empty hear `EAGAIN`.
public final class StreamListener: ReadinessHandler {
    public let fd: CInt
    public unowned let loop: EpollEventLoop
    public weak var delegate: (any StreamListenerDelegate)?
    /// How many connections one readiness accepts before the loop serves the others
    /// (HAProxy's `tune.maxaccept` is 64 by default).
    public var acceptBatch = 64
    private var registration: EpollEventLoop.Registration?
    public private(set) var isPaused = false

    /// Watches `fd`, a bound and listening non-blocking socket the caller keeps open
    /// (and closes after `stop`). On the loop's thread only.
    public init(fd: CInt, loop: EpollEventLoop, delegate: any StreamListenerDelegate) throws {
        self.fd = fd
        self.loop = loop
        self.delegate = delegate
        registration = try loop.register(fd, for: .input, edgeTriggered: false, handler: self)
    }

    public func ready(_ events: Readiness) {
        guard !isPaused else { return }
        var address = sockaddr_storage()
        for _ in 0..<acceptBatch {
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let accepted = withUnsafeMutablePointer(to: &address) { fulcrum_accept(fd, $0, &length) }
            // Nothing waiting, or a failure (EMFILE, say) that the next readiness, at
            // once for a level-triggered listener, tries again.
            guard accepted >= 0 else { return }
            delegate?.accepted(accepted, peer: Self.address(address, length: length), on: self)
            if isPaused || registration == nil { return }
        }
    }

    /// Stops accepting: new connections wait in the kernel's queue (a `maxconn` reached).
    public func pause() {
        guard !isPaused, let registration else { return }
        isPaused = true
        try? loop.modify(registration, fd: fd, for: [], edgeTriggered: false)
    }

    /// Accepts again, starting with what waited in the queue.
    public func resume() {
        guard isPaused, let registration else { return }
        isPaused = false
        try? loop.modify(registration, fd: fd, for: .input, edgeTriggered: false)
    }

    /// Leaves the loop; the descriptor stays open for its owner to close or hand on.
    public func stop() {
        guard let registration else { return }
        loop.deregister(registration, fd: fd)
        self.registration = nil
    }

    /// NIO's address for a `sockaddr` the kernel filled (`accept4`, `getsockname`);
    /// nil for a family other than IPv4, IPv6 and Unix.
    public static func address(_ storage: sockaddr_storage, length: UInt32) -> SocketAddress? {
        var storage = storage
        switch CInt(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
            }
        case AF_UNIX:
            // A Unix socket's client is usually unnamed: its address has an empty path.
            let path = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { address in
                    withUnsafeBytes(of: address.pointee.sun_path) { raw in
                        String(decoding: raw.prefix(max(0, Int(length) - 2)).prefix { $0 != 0 }, as: UTF8.self)
                    }
                }
            }
            return try? SocketAddress(unixDomainSocketPath: path)
        default:
            return nil
        }
    }
}
#endif
