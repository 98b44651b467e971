import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Starts a TCP connection to a server with three system calls (socket, TCP_NODELAY,
/// connect) and hands the descriptor over before the handshake has finished.
///
/// NIO's `ClientBootstrap.connect` costs about a dozen more per connection (address
/// lookups before and after, a second TCP_NODELAY, SO_ERROR, extra epoll changes) and a
/// chain of futures, which made opening a server connection the largest user-space
/// cost of a request on a fresh connection. The caller puts the descriptor on its loop
/// at once, queues the request head, and learns the outcome from the socket's first
/// output readiness (established) or error (refused, reset). A server on a Unix socket
/// is connected at once or refused.
enum ServerSocketOpener {
    /// A non-blocking socket whose connect() to `address` is started (`connecting`) or
    /// done; a failure to create or start it, with its errno.
    /// `delayHandshakeACK` (`option tcp-smart-connect`) turns TCP_QUICKACK off before
    /// connect(): the kernel then sends the handshake's last ACK with the request's
    /// first bytes instead of on its own, one packet less per connection.
    static func open(_ address: SocketAddress, delayHandshakeACK: Bool = false) -> Result<(fd: CInt, connecting: Bool), IOError> {
        let family: CInt
        switch address {
        case .v4: family = CInt(AF_INET)
        case .v6: family = CInt(AF_INET6)
        case .unixDomainSocket: family = CInt(AF_UNIX)
        }
        let fd = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(IOError(errnoCode: errno, reason: "socket")) }
        if family != AF_UNIX {
            var one: CInt = 1
            _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
            if delayHandshakeACK {
                var zero: CInt = 0
                _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_QUICKACK, &zero, socklen_t(MemoryLayout<CInt>.size))
            }
        }
        let result = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        if result == 0 { return .success((fd, false)) }
        let code = errno
        // A Unix socket's full listen queue says EAGAIN: a refusal, as the kernel would
        // block a blocking caller.
        if code == EINPROGRESS && family != AF_UNIX { return .success((fd, true)) }
        close(fd)
        return .failure(IOError(errnoCode: code, reason: "connect"))
    }
}
