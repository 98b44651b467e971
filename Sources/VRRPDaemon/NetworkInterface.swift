#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig

/// What the daemon needs to know about one interface, read with getifaddrs at start-up:
/// its index, MAC (for gratuitous ARP), addresses (the primary one is the advert source)
/// and whether it is up and running.
public struct NetworkInterface: Sendable {
    public var name: String
    public var index: Int32
    public var mac: [UInt8] = []
    public var ipv4: [IPAddress] = []
    public var ipv6: [IPAddress] = []
    public var running = false

    public var primaryIPv4: IPAddress? { ipv4.first }
    /// VRRPv3 over IPv6 is sent from the link-local address (RFC 5798 §5.1.1.1).
    public var linkLocalIPv6: IPAddress? { ipv6.first { $0.bytes[0] == 0xfe && $0.bytes[1] & 0xc0 == 0x80 } }

    public static func lookup(_ name: String, excluding vips: Set<IPAddress> = []) -> NetworkInterface? {
        let index = if_nametoindex(name)
        guard index != 0 else { return nil }
        var iface = NetworkInterface(name: name, index: Int32(index))
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return iface }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard String(cString: entry.pointee.ifa_name) == name, let sa = entry.pointee.ifa_addr else { continue }
            iface.running = entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 && entry.pointee.ifa_flags & UInt32(IFF_RUNNING) != 0
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                let bytes = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in withUnsafeBytes(of: p.pointee.sin_addr) { Array($0) } }
                if let a = IPAddress(bytes: bytes), !vips.contains(a) { iface.ipv4.append(a) }
            case AF_INET6:
                let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) } }
                if let a = IPAddress(bytes: bytes), !vips.contains(a) { iface.ipv6.append(a) }
            case AF_PACKET:
                // sockaddr_ll: family(2) protocol(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
                let raw = UnsafeRawPointer(sa)
                let halen = Int(raw.load(fromByteOffset: 11, as: UInt8.self))
                iface.mac = (0..<min(halen, 8)).map { raw.load(fromByteOffset: 12 + $0, as: UInt8.self) }
            default:
                break
            }
        }
        return iface
    }
}
