import FulcrumEventLoop
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The local address of a socket, asked of the kernel (`getsockname`).
enum LocalAddress {
    static func of(_ fd: CInt) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return StreamListener.address(storage, length: UInt32(length))
    }
}
