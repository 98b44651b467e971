#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig

/// rtnetlink, spoken directly: virtual addresses are added and removed with
/// RTM_NEWADDR/RTM_DELADDR (never by running `ip`), and link state arrives as RTM_NEWLINK
/// events on a socket subscribed to RTMGRP_LINK, so a tracked interface is seen going
/// down when the kernel says so rather than at the next poll.
final class RouteNetlink {
    static let netlinkRoute: Int32 = 0
    static let rtmNewLink: UInt16 = 16, rtmDelLink: UInt16 = 17, rtmNewAddr: UInt16 = 20, rtmDelAddr: UInt16 = 21
    static let nlmsgError: UInt16 = 2, nlmsgDone: UInt16 = 3
    static let flagRequest: UInt16 = 0x1, flagAck: UInt16 = 0x4, flagReplace: UInt16 = 0x100, flagCreate: UInt16 = 0x400
    static let ifaAddress: UInt16 = 1, ifaLocal: UInt16 = 2, ifaLabel: UInt16 = 3, ifaBroadcast: UInt16 = 4
    static let groupLink: UInt32 = 1

    let commandFD: Int32
    let eventFD: Int32
    private var sequence: UInt32 = 1

    init() throws {
        let type = Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        commandFD = socket(AF_NETLINK, type, RouteNetlink.netlinkRoute)
        guard commandFD >= 0 else { throw SystemError("socket(AF_NETLINK)") }
        eventFD = socket(AF_NETLINK, type | Int32(SOCK_NONBLOCK.rawValue), RouteNetlink.netlinkRoute)
        guard eventFD >= 0 else { throw SystemError("socket(AF_NETLINK)") }
        setOption(commandFD, SOL_SOCKET, SO_RCVTIMEO, timeval(tv_sec: 2, tv_usec: 0))
        guard RouteNetlink.bind(eventFD, groups: RouteNetlink.groupLink) else { throw SystemError("bind(RTMGRP_LINK)") }
    }

    deinit {
        close(commandFD)
        close(eventFD)
    }

    /// sockaddr_nl: family, pad, port id (0: the kernel assigns), multicast groups.
    static func bind(_ fd: Int32, groups: UInt32) -> Bool {
        var sa = [UInt8](repeating: 0, count: 12)
        sa[0] = UInt8(AF_NETLINK & 0xff)
        withUnsafeBytes(of: groups.littleEndian) { for i in 0..<4 { sa[8 + i] = $0[i] } }
        return sa.withUnsafeBytes { Glibc.bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), 12) } == 0
    }

    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        let length = 4 + payload.count
        var out = le16(UInt16(length)) + le16(type) + payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }

    /// The RTM_NEWADDR/RTM_DELADDR message for one address; pure, so tests can check it.
    static func addressMessage(add: Bool, address vip: VirtualAddress, interfaceIndex: Int32, sequence: UInt32) -> [UInt8] {
        let family: UInt8 = vip.address.isIPv4 ? UInt8(AF_INET) : UInt8(AF_INET6)
        var body: [UInt8] = [family, UInt8(vip.prefixLength), 0, vip.scope.netlinkValue] + le32(UInt32(bitPattern: interfaceIndex))
        body += attribute(ifaLocal, vip.address.bytes)
        body += attribute(ifaAddress, vip.address.bytes)
        if let brd = vip.broadcast, vip.address.isIPv4 { body += attribute(ifaBroadcast, brd.bytes) }
        if let label = vip.label, vip.address.isIPv4 { body += attribute(ifaLabel, Array(label.utf8) + [0]) }
        let flags = flagRequest | flagAck | (add ? flagCreate | flagReplace : 0)
        return le32(UInt32(16 + body.count)) + le16(add ? rtmNewAddr : rtmDelAddr) + le16(flags) + le32(sequence) + le32(0) + body
    }

    /// Adds or removes one address and waits for the kernel's answer. Removing an
    /// address that is not there is not an error (EADDRNOTAVAIL).
    func change(add: Bool, address: VirtualAddress, interfaceIndex: Int32) throws {
        sequence &+= 1
        let message = RouteNetlink.addressMessage(add: add, address: address, interfaceIndex: interfaceIndex, sequence: sequence)
        var kernel = [UInt8](repeating: 0, count: 12)
        kernel[0] = UInt8(AF_NETLINK & 0xff)
        let sent = message.withUnsafeBytes { m in
            kernel.withUnsafeBytes { k in sendto(commandFD, m.baseAddress, m.count, 0, k.baseAddress!.assumingMemoryBound(to: sockaddr.self), 12) }
        }
        guard sent == message.count else { throw SystemError("netlink sendto") }
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(commandFD, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw SystemError("netlink recv") }
            var offset = 0
            while offset + 16 <= n {
                let length = Int(RouteNetlink.u32(buffer, offset))
                let type = RouteNetlink.u16(buffer, offset + 4)
                let seq = RouteNetlink.u32(buffer, offset + 8)
                guard length >= 16 else { break }
                if type == RouteNetlink.nlmsgError && seq == sequence {
                    let code = -Int32(bitPattern: RouteNetlink.u32(buffer, offset + 16))
                    if code == 0 || (!add && (code == EADDRNOTAVAIL || code == ENODEV)) || (add && code == EEXIST) { return }
                    throw SystemError(add ? "RTM_NEWADDR \(address.address)/\(address.prefixLength)" : "RTM_DELADDR \(address.address)", code: code)
                }
                offset += (length + 3) & ~3
            }
        }
    }

    /// Link changes queued on the event socket: interface index, whether it is up
    /// with carrier (IFF_UP and IFF_RUNNING), and whether it was deleted (RTM_DELLINK).
    func readLinkEvents() -> [(index: Int32, running: Bool, deleted: Bool)] {
        var events: [(Int32, Bool, Bool)] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(eventFD, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            var offset = 0
            while offset + 16 <= n {
                let length = Int(RouteNetlink.u32(buffer, offset))
                let type = RouteNetlink.u16(buffer, offset + 4)
                guard length >= 16, offset + length <= n else { break }
                if (type == RouteNetlink.rtmNewLink || type == RouteNetlink.rtmDelLink) && length >= 32 {
                    // ifinfomsg: family(1) pad(1) type(2) index(4) flags(4) change(4)
                    let index = Int32(bitPattern: RouteNetlink.u32(buffer, offset + 20))
                    let flags = RouteNetlink.u32(buffer, offset + 24)
                    let running = type == RouteNetlink.rtmNewLink && flags & 0x1 != 0 && flags & 0x40 != 0
                    events.append((index, running, type == RouteNetlink.rtmDelLink))
                }
                offset += (length + 3) & ~3
            }
        }
        return events
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
}
