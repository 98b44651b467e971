#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// IP protocol 112 sockets for one instance. Receiving: an unbound raw socket tied to the
/// interface, with the multicast group joined (a raw socket alone gets nothing). Sending:
/// a second raw socket bound to the source address, so the kernel cannot pick another
/// one (the VIP, once added, is a candidate too) and the v3 checksum's pseudo-header
/// matches; TTL/hop limit 255 and `IP_MULTICAST_IF` set, since without a default route
/// multicast has no way out otherwise.
final class RawVRRPSocket {
    let receiveFD: Int32
    let sendFD: Int32
    let ipv6: Bool
    let interfaceIndex: Int32

    struct Received {
        var source: IPAddress
        var destination: IPAddress
        var ttl: UInt8
        var payload: ArraySlice<UInt8>
    }

    /// `unicastTTL`: the TTL (hop limit) of unicast adverts (`unicast_ttl`); multicast ones always carry 255.
    init(interface: NetworkInterface, source: IPAddress, group: IPAddress?, ipv6: Bool, unicastTTL: Int = 255) throws {
        self.ipv6 = ipv6
        self.interfaceIndex = interface.index
        let family = ipv6 ? AF_INET6 : AF_INET
        let type = Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let r = socket(family, type, Int32(VRRPAdvertisement.ipProtocol))
        guard r >= 0 else { throw SystemError("socket(raw, 112)") }
        let s = socket(family, type, Int32(VRRPAdvertisement.ipProtocol))
        guard s >= 0 else { close(r); throw SystemError("socket(raw, 112)") }
        receiveFD = r
        sendFD = s
        var name = Array(interface.name.utf8CString)
        _ = name.withUnsafeMutableBytes { setsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, $0.baseAddress, socklen_t($0.count)) }
        _ = name.withUnsafeMutableBytes { setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, $0.baseAddress, socklen_t($0.count)) }
        // The send socket would also queue unicast adverts addressed to us; keep it small.
        setOption(s, SOL_SOCKET, SO_RCVBUF, Int32(256))
        if ipv6 {
            setOption(s, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, Int32(255))
            setOption(s, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, Int32(unicastTTL))
            setOption(s, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, UInt32(interface.index))
            setOption(s, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, Int32(0))
            setOption(r, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, Int32(1))
            setOption(r, Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, Int32(1))
            var sa = makeSockaddrIn6(source.bytes, scope: UInt32(interface.index))
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            guard rc == 0 else { throw SystemError("bind(\(source))") }
            if let group {
                var mreq = ipv6_mreq()
                withUnsafeMutableBytes(of: &mreq.ipv6mr_multiaddr) { raw in for i in 0..<16 { raw[i] = group.bytes[i] } }
                mreq.ipv6mr_interface = UInt32(interface.index)
                guard setOption(r, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, mreq) else { throw SystemError("IPV6_ADD_MEMBERSHIP \(group)") }
            }
        } else {
            setOption(s, Int32(IPPROTO_IP), IP_MULTICAST_TTL, UInt8(255))
            setOption(s, Int32(IPPROTO_IP), IP_TTL, Int32(unicastTTL))
            setOption(s, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, UInt8(0))
            // DSCP CS6 (network control), as keepalived marks its adverts.
            setOption(s, Int32(IPPROTO_IP), IP_TOS, Int32(0xc0))
            var mreqn = ip_mreqn()
            mreqn.imr_ifindex = interface.index
            withUnsafeMutableBytes(of: &mreqn.imr_address) { raw in for i in 0..<4 { raw[i] = source.bytes[i] } }
            guard setOption(s, Int32(IPPROTO_IP), IP_MULTICAST_IF, mreqn) else { throw SystemError("IP_MULTICAST_IF") }
            var sa = makeSockaddrIn(source.bytes)
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { throw SystemError("bind(\(source))") }
            if let group {
                var join = ip_mreqn()
                join.imr_ifindex = interface.index
                withUnsafeMutableBytes(of: &join.imr_multiaddr) { raw in for i in 0..<4 { raw[i] = group.bytes[i] } }
                guard setOption(r, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, join) else { throw SystemError("IP_ADD_MEMBERSHIP \(group)") }
            }
        }
    }

    deinit {
        close(receiveFD)
        close(sendFD)
    }

    func send(_ bytes: [UInt8], to destination: IPAddress) throws {
        let n: Int
        if ipv6 {
            var sa = makeSockaddrIn6(destination.bytes, scope: UInt32(interfaceIndex))
            n = bytes.withUnsafeBytes { buf in
                withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(sendFD, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            }
        } else {
            var sa = makeSockaddrIn(destination.bytes)
            n = bytes.withUnsafeBytes { buf in
                withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(sendFD, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
        }
        guard n == bytes.count else { throw SystemError("sendto(\(destination))") }
    }

    /// One packet, or nil when nothing is queued. IPv4 raw sockets deliver the IP header;
    /// for IPv6 the hop limit and destination come from ancillary data.
    func receive(malformed: inout Int) -> Received? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        if !ipv6 {
            let n = buffer.withUnsafeMutableBytes { recv(receiveFD, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            guard let ip = IPv4Header.parse(buffer[..<n]), ip.ipProtocol == VRRPAdvertisement.ipProtocol else {
                malformed += 1
                return receive(malformed: &malformed)
            }
            return Received(source: ip.source, destination: ip.destination, ttl: ip.ttl, payload: buffer[ip.headerLength..<ip.totalLength])
        }
        var from = sockaddr_in6()
        var control = [UInt8](repeating: 0, count: 256)
        var hopLimit: UInt8 = 0
        var destination = IPAddress(bytes: [UInt8](repeating: 0, count: 16))!
        let n: Int = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &from) { fromPtr in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPtr in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(fromPtr)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
                        msg.msg_iov = iovPtr
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        let got = recvmsg(receiveFD, &msg, 0)
                        // cmsghdr: len (size_t), level (int), type (int), data, 8-byte aligned.
                        var offset = 0
                        while got > 0, offset + 16 <= Int(msg.msg_controllen) {
                            let len = ctl.load(fromByteOffset: offset, as: Int.self)
                            let level = ctl.load(fromByteOffset: offset + 8, as: Int32.self)
                            let type = ctl.load(fromByteOffset: offset + 12, as: Int32.self)
                            guard len >= 16 else { break }
                            if level == Int32(IPPROTO_IPV6) && type == IPV6_HOPLIMIT {
                                hopLimit = UInt8(truncatingIfNeeded: ctl.load(fromByteOffset: offset + 16, as: Int32.self))
                            } else if level == Int32(IPPROTO_IPV6) && type == IPV6_PKTINFO {
                                destination = IPAddress(bytes: (0..<16).map { ctl[offset + 16 + $0] })!
                            }
                            offset += (len + 7) & ~7
                        }
                        return got
                    }
                }
            }
        }
        guard n > 0 else { return nil }
        let source = withUnsafeBytes(of: from.sin6_addr) { IPAddress(bytes: Array($0))! }
        return Received(source: source, destination: destination, ttl: hopLimit, payload: buffer[0..<n])
    }
}
