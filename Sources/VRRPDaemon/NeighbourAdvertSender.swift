#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig

/// IPv6's gratuitous ARP: an unsolicited neighbour advertisement (override flag, target
/// link-layer address option) to all-nodes, hop limit 255. The kernel fills in the
/// ICMPv6 checksum on raw ICMPv6 sockets.
final class NeighbourAdvertSender {
    let fd: Int32
    let interfaceIndex: Int32

    init(interfaceIndex: Int32) throws {
        self.interfaceIndex = interfaceIndex
        fd = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { throw SystemError("socket(ICMPv6)") }
        setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, Int32(255))
        setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, UInt32(interfaceIndex))
    }

    deinit { close(fd) }

    static func message(target: IPAddress, mac: [UInt8]) -> [UInt8] {
        [136, 0, 0, 0, 0x20, 0, 0, 0] + target.bytes + [2, 1] + mac
    }

    func send(target: IPAddress, mac: [UInt8]) throws {
        let m = NeighbourAdvertSender.message(target: target, mac: mac)
        var sa = makeSockaddrIn6(IPAddress("ff02::1")!.bytes, scope: UInt32(interfaceIndex))
        let n = m.withUnsafeBytes { buf in
            withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard n == m.count else { throw SystemError("sendto(ff02::1)") }
    }
}
