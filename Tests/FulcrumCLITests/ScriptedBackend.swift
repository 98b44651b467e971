import Foundation

/// A listening socket on loopback that the test itself answers from: it accepts a
/// connection when asked and then reads and writes exactly the bytes the test wants,
/// so a server that misbehaves at one precise moment can be played.
final class ScriptedBackend {
    let fd: Int32
    let port: Int

    /// `receiveBuffer` caps the kernel's receive buffer of accepted connections, so
    /// that what the test has not read yet is mostly still on Fulcrum's side;
    /// `segmentSize` lowers the MSS they announce, which keeps Fulcrum's send buffer
    /// toward them small as well.
    init(receiveBuffer: Int32? = nil, segmentSize: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        Loopback.narrow(fd, receiveBuffer: receiveBuffer, segmentSize: segmentSize)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }

    /// The next connection from Fulcrum, or nil if none comes within `timeout` ms.
    func accept(timeout: Int32 = 5000) -> HTTPTestConnection? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeout) == 1 else { return nil }
        let peer = Glibc.accept(fd, nil, nil)
        return peer >= 0 ? HTTPTestConnection(fd: peer) : nil
    }
}

extension HTTPTestConnection {
    /// The head of the next message as text (through its empty line), nil at end of stream.
    func readHead() throws -> String? {
        var head: [UInt8] = []
        while !(head.count >= 4 && Array(head.suffix(4)) == [13, 10, 13, 10]) {
            let byte = try readBytes(1)
            if byte.isEmpty { return nil }
            head += byte
        }
        return String(decoding: head, as: UTF8.self)
    }
}
