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
///
/// The listener is level-triggered, so a connection it cannot take now would wake it
/// again at once. When `accept4` fails for want of descriptors or memory (`EMFILE`,
/// `ENFILE`, `ENOBUFS`, `ENOMEM`) the listener therefore backs off, as HAProxy limits
/// such a listener: it stops watching the socket for `retryDelay` and then tries
/// again, while the connections wait in the kernel's queue. Without this the loop
/// would spin at full CPU, calling `accept4` in vain, for as long as the process is
/// out of descriptors.
///
/// The back-off and the owner's `pause` are separate: the socket is watched only when
/// neither holds it. An owner's pause outlasts the back-off, and an owner's resume
/// during it waits for the delay to pass instead of accepting (and failing) again.
public final class StreamListener: ReadinessHandler {
    public let fd: CInt
    public unowned let loop: EpollEventLoop
    public weak var delegate: (any StreamListenerDelegate)?
    /// How many connections one readiness accepts before the loop serves the others
    /// (`tune.maxaccept`; 4 by default, as HAProxy, which measured it best: a burst of
    /// new connections no longer delays the responses waiting in the same turn).
    public var acceptBatch = 4
    /// How long the listener stops accepting after running out of descriptors or
    /// memory (HAProxy waits 100 ms before it enables such a listener again).
    public var retryDelay = TimeAmount.milliseconds(100)
    private var registration: EpollEventLoop.Registration?
    /// The owner paused the listener (`pause`), until it resumes it.
    public private(set) var isPaused = false
    /// The listener paused itself after an exhaustion error, until `retryTimer` fires.
    public private(set) var isBackingOff = false
    /// What the epoll set watches the socket for now: input, or nothing.
    private var isWatched = true
    /// Holds the listener weakly: `stop` disarms it, and a listener still registered is
    /// kept alive by its loop, so the timer never calls a listener that is gone.
    private lazy var retryTimer = LoopTimer { [weak self] in self?.retry() }

    /// Watches `fd`, a bound and listening non-blocking socket the caller keeps open
    /// (and closes after `stop`). On the loop's thread only.
    public init(fd: CInt, loop: EpollEventLoop, delegate: any StreamListenerDelegate) throws {
        self.fd = fd
        self.loop = loop
        self.delegate = delegate
        registration = try loop.register(fd, for: .input, edgeTriggered: false, handler: self)
    }

    public func ready(_ events: Readiness) {
        guard !isPaused, !isBackingOff else { return }
        var address = sockaddr_storage()
        for _ in 0..<acceptBatch {
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let accepted = withUnsafeMutablePointer(to: &address) { fulcrum_accept(fd, $0, &length) }
            guard accepted >= 0 else {
                let code = errno
                if Self.isExhaustion(code) { backOff() }
                // Otherwise nothing is waiting (`EAGAIN`), or the connection went before
                // it was taken (`ECONNABORTED`): the next readiness, at once for a
                // level-triggered listener, goes on with what is left in the queue.
                return
            }
            delegate?.accepted(accepted, peer: Self.address(address, length: length), on: self)
            if isPaused || registration == nil { return }
        }
    }

    /// Errors that trying again at once would only repeat: the process or the system is
    /// out of descriptors, or the kernel out of memory for the socket.
    private static func isExhaustion(_ code: CInt) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
    }

    /// Stops accepting: new connections wait in the kernel's queue (a `maxconn` reached).
    /// Accepting starts again only with `resume`, whatever a back-off does meanwhile.
    public func pause() {
        guard !isPaused, registration != nil else { return }
        isPaused = true
        watch()
    }

    /// Accepts again, starting with what waited in the queue; during a back-off, once
    /// its delay has passed.
    public func resume() {
        guard isPaused, registration != nil else { return }
        isPaused = false
        watch()
    }

    /// Stops watching the socket until `retryDelay` has passed.
    private func backOff() {
        guard !isBackingOff, registration != nil else { return }
        isBackingOff = true
        watch()
        loop.arm(retryTimer, at: .now() + retryDelay)
    }

    /// The delay has passed: accepting starts again unless the owner paused.
    private func retry() {
        guard isBackingOff, registration != nil else { return }
        isBackingOff = false
        watch()
    }

    /// Watches the socket for connections exactly while neither the owner nor a back-off
    /// holds the listener. A level-triggered descriptor switched back on is reported at
    /// once if connections are waiting.
    private func watch() {
        let wanted = !isPaused && !isBackingOff
        guard let registration, wanted != isWatched else { return }
        isWatched = wanted
        try? loop.modify(registration, fd: fd, for: wanted ? .input : [], edgeTriggered: false)
    }

    /// Leaves the loop; the descriptor stays open for its owner to close or hand on.
    public func stop() {
        guard let registration else { return }
        if isBackingOff {
            isBackingOff = false
            loop.disarm(retryTimer)
        }
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
