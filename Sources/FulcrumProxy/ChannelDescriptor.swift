#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The socket descriptor under a NIO socket channel, for handing the connection over to
/// the splice relay.
///
/// NIO has no public way to give a descriptor back (nor to stop watching one without
/// reading from it), so the descriptor is read from the channel's stored properties by
/// reflection, then checked: it must be a socket whose local and peer ports are the
/// channel's own. Anything unexpected (a NIO version that stores it differently, a
/// channel of another kind) yields nil and the connection is relayed by NIO as before.
enum ChannelDescriptor {
    static func of(_ channel: Channel) -> CInt? {
        guard let socket = field("socket", in: channel), let fd = field("descriptor", in: socket) as? CInt, fd >= 0 else { return nil }
        return matches(fd, channel) ? fd : nil
    }

    /// A stored property by name, searched through the class hierarchy.
    private static func field(_ name: String, in value: Any) -> Any? {
        var mirror: Mirror? = Mirror(reflecting: value)
        while let current = mirror {
            if let child = current.children.first(where: { $0.label == name }) { return child.value }
            mirror = current.superclassMirror
        }
        return nil
    }

    /// Whether `fd` is the channel's socket: a stream socket with the channel's ports.
    private static func matches(_ fd: CInt, _ channel: Channel) -> Bool {
        var type: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == CInt(SOCK_STREAM.rawValue) else { return false }
        return port(fd, peer: false) == channel.localAddress?.port && port(fd, peer: true) == channel.remoteAddress?.port
    }

    /// The port of a TCP socket's local or peer address; nil for other families (whose
    /// channel addresses have no port either); -1, which matches no channel's port, when
    /// the address cannot be read.
    private static func port(_ fd: CInt, peer: Bool) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return -1 }
        switch CInt(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return nil
        }
    }
}
