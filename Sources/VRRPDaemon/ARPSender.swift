#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// Sends gratuitous ARP frames through an AF_PACKET socket on the instance's interface.
final class ARPSender {
    let fd: Int32
    let interfaceIndex: Int32

    init(interfaceIndex: Int32) throws {
        self.interfaceIndex = interfaceIndex
        fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(UInt16(0x0806).bigEndian))
        guard fd >= 0 else { throw SystemError("socket(AF_PACKET)") }
    }

    deinit { close(fd) }

    func send(_ frame: [UInt8]) throws {
        // sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]
        var sll = [UInt8](repeating: 0, count: 20)
        sll[0] = UInt8(AF_PACKET & 0xff)
        sll[2] = 0x08; sll[3] = 0x06
        withUnsafeBytes(of: interfaceIndex.littleEndian) { for i in 0..<4 { sll[4 + i] = $0[i] } }
        sll[11] = 6
        for i in 0..<6 { sll[12 + i] = 0xff }
        let n = frame.withUnsafeBytes { f in
            sll.withUnsafeBytes { a in sendto(fd, f.baseAddress, f.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self), 20) }
        }
        guard n == frame.count else { throw SystemError("sendto(AF_PACKET)") }
    }
}
