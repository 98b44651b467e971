import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Starts a TCP connection to a server with three system calls (socket, TCP_NODELAY,
/// connect) and hands the descriptor over before the handshake has finished.
///
/// NIO's `ClientBootstrap.connect` costs about a dozen more per connection (address
/// lookups before and after, a second TCP_NODELAY, SO_ERROR, extra epoll changes) and a
/// chain of futures, which made opening a server connection the largest user-space
/// cost of a request on a fresh connection. The caller wraps the descriptor in a
/// channel at once and learns the outcome from its first write: the kernel completes
/// that write only once the connection is established, and fails it when the
/// connection is refused or reset.
enum ServerSocketOpener {
    /// The descriptor of a socket whose non-blocking connect is under way (or done);
    /// nil for an address this path does not handle (a Unix socket); an error when the
    /// kernel refuses at once (no descriptor left, unreachable network, ...).
    static func open(_ address: SocketAddress) -> Result<CInt, IOError>? {
        let family: CInt
        switch address {
        case .v4: family = CInt(AF_INET)
        case .v6: family = CInt(AF_INET6)
        default: return nil
        }
        let fd = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(IOError(errnoCode: errno, reason: "socket")) }
        var one: CInt = 1
        _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
        let result = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        if result != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            return .failure(IOError(errnoCode: code, reason: "connect"))
        }
        return .success(fd)
    }

    /// The bootstrap that wraps an opened socket in a channel, made once per event-loop
    /// thread: building one per connection (and removing its default TCP_NODELAY
    /// option, which the opener already set) cost more than the wrapping itself.
    static func bootstrap(on loop: EventLoop) -> ClientBootstrap {
        // Keyed by the loop as well as the thread: one loop per thread is NIO's model
        // today, and a mismatch would hand a channel to the wrong loop.
        if let cached = bootstraps.currentValue, cached.loop === loop { return cached.bootstrap }
        let bootstrap = ClientBootstrap(group: loop)
            // Only drops that TCP_NODELAY option: MPTCP matters when the bootstrap
            // creates the socket, which it does not here.
            .enableMPTCP(true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                }
            }
        bootstraps.currentValue = LoopBootstrap(loop: loop, bootstrap: bootstrap)
        return bootstrap
    }

    private final class LoopBootstrap {
        let loop: EventLoop
        let bootstrap: ClientBootstrap
        init(loop: EventLoop, bootstrap: ClientBootstrap) {
            self.loop = loop
            self.bootstrap = bootstrap
        }
    }

    /// Each thread only ever sees its own value, so sharing the variable is safe.
    nonisolated(unsafe) private static let bootstraps = ThreadSpecificVariable<LoopBootstrap>()
}
