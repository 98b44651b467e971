#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// Opens the listening socket of an IPv4/IPv6 `bind` line by hand, so the options
/// NIO's bootstrap has no word for are set before `bind()`: `interface`
/// (SO_BINDTODEVICE), `transparent` (IP_TRANSPARENT), `v4v6`/`v6only` (IPV6_V6ONLY),
/// and IP_FREEBIND, which Fulcrum always sets so a virtual IP this node does not hold
/// yet can be bound (HAProxy needs `freebind` for that).
enum ListeningSocket {
    static func open(_ address: SocketAddress, backlog: Int32, options: BindOptions, reusePort: Bool) throws -> Int32 {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw failure("socket()") }
        do {
            try set(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            // As HAProxy: a new process can bind the port beside this one (reloads).
            if reusePort { try set(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
            try set(fd, Int32(IPPROTO_IP), IP_FREEBIND, 1, "IP_FREEBIND")
            // Accepted sockets inherit TCP_NODELAY from the listener: one call here
            // instead of a setsockopt (and NIO's getsockname) per connection.
            try set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
            if family == AF_INET6 {
                if options.v6only { try set(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY (v6only)") }
                if options.v4v6 { try set(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0, "IPV6_V6ONLY (v4v6)") }
            }
            if options.transparent {
                if family == AF_INET6 {
                    try set(fd, Int32(IPPROTO_IPV6), IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT (transparent; needs CAP_NET_ADMIN)")
                } else {
                    try set(fd, Int32(IPPROTO_IP), IP_TRANSPARENT, 1, "IP_TRANSPARENT (transparent; needs CAP_NET_ADMIN)")
                }
            }
            if let interface = options.interface {
                let rc = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
                guard rc == 0 else { throw failure("SO_BINDTODEVICE (interface \(interface))") }
            }
            try bindAndListen(fd, address, backlog: backlog)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// `option tcp-smart-accept`: TCP_QUICKACK off on a listening socket (accepted
    /// sockets inherit it), so a client's first request is acknowledged by the response,
    /// or by the kernel's delayed ACK (40 ms to start with) when the response is late,
    /// not by a packet of its own. Best effort: an inherited socket may not be TCP.
    /// Called after each listen(): shutting the socket down for reading (a pause)
    /// clears it.
    static func delayAcks(_ fd: Int32) {
        var zero: Int32 = 0
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &zero, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A listening Unix stream socket at `path`; a socket file already there (left by
    /// an earlier process) is replaced, as NIO's `cleanupExistingSocketFile` did.
    static func openUnix(_ path: String, backlog: Int32) throws -> Int32 {
        let address = try SocketAddress(unixDomainSocketPath: path)
        var status = stat()
        if stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw failure("socket()") }
        do {
            try bindAndListen(fd, address, backlog: backlog)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private static func bindAndListen(_ fd: Int32, _ address: SocketAddress, backlog: Int32) throws {
        let rc = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard rc == 0 else { throw failure("bind()") }
        guard listen(fd, backlog) == 0 else { throw failure("listen()") }
    }

    private static func set(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else { throw failure(label) }
    }

    private static func failure(_ call: String) -> ProxyStartError {
        ProxyStartError("\(call): \(String(cString: strerror(errno))) (errno: \(errno))")
    }
}
