#if canImport(Glibc)
import Glibc
#endif
import NIOCore
@_spi(Reflection) import Swift
import Synchronization

/// The socket descriptor under a NIO socket channel, for handing a TCP-mode connection
/// over to the splice relay.
///
/// NIO has no public way to give a descriptor back (nor to stop watching one without
/// reading from it), so the descriptor is read from the channel's stored properties:
/// the channel's `socket` reference, then that socket's `descriptor`. Their offsets are
/// found once per channel class in the runtime's field records (a Mirror walk cost
/// about 40 µs per connection), checked by type (a class reference, then a `CInt`), and
/// the descriptor found must be a socket whose local and peer ports are the channel's
/// own. Anything unexpected (a NIO version that stores it differently, a channel of
/// another kind) yields nil and the connection stays with NIO.
enum ChannelDescriptor {
    private struct Path {
        let socket: Int
        let descriptor: Int
    }

    private static let paths = Mutex<[ObjectIdentifier: Path?]>([:])

    static func of(_ channel: Channel) -> CInt? {
        let object = channel as AnyObject
        let kind: AnyClass = type(of: object)
        let key = ObjectIdentifier(kind)
        let path = paths.withLock { known -> Path? in
            if let found = known[key] { return found }
            let found = find(in: kind)
            known[key] = found
            return found
        }
        guard let path else { return nil }
        return withExtendedLifetime(object) {
            let base = UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
            guard let socket = base.load(fromByteOffset: path.socket, as: UnsafeRawPointer?.self) else { return nil }
            let fd = socket.load(fromByteOffset: path.descriptor, as: CInt.self)
            return fd >= 0 && matches(fd, channel) ? fd : nil
        }
    }

    /// The offsets of `socket` in the channel's class (or a superclass) and of
    /// `descriptor` in the socket's class (or a superclass).
    private static func find(in channelClass: AnyClass) -> Path? {
        guard let (socketOffset, socketType) = field("socket", in: channelClass, kind: .class),
              let socketClass = socketType as? AnyClass,
              let (descriptorOffset, descriptorType) = field("descriptor", in: socketClass, kind: .struct),
              descriptorType == CInt.self else { return nil }
        return Path(socket: socketOffset, descriptor: descriptorOffset)
    }

    /// A stored property's offset and declared type, searched through the class hierarchy.
    private static func field(_ name: String, in start: AnyClass, kind wanted: _MetadataKind) -> (Int, Any.Type)? {
        var current: AnyClass? = start
        while let cls = current {
            var found: (Int, Any.Type)?
            // `.classType`, which Swift 6 refuses to read as a mutable static.
            _forEachField(of: cls, options: _EachFieldOptions(rawValue: 1)) { label, offset, fieldType, kind in
                guard String(cString: label) == name else { return true }
                if kind == wanted { found = (offset, fieldType) }
                return false
            }
            if let found { return found }
            current = _getSuperclass(cls)
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
