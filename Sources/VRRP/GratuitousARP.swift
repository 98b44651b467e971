import KeepalivedConfig

/// The Ethernet frame a new master broadcasts per IPv4 virtual address so that
/// neighbours repoint their ARP entries: an ARP request whose sender and target are the
/// virtual address, target hardware address all ones, 42 bytes unpadded, as keepalived
/// sends it.
public enum GratuitousARP {
    public static func frame(senderMAC mac: [UInt8], address: IPAddress) -> [UInt8] {
        precondition(mac.count == 6 && address.isIPv4)
        let broadcast = [UInt8](repeating: 0xff, count: 6)
        var f: [UInt8] = broadcast + mac + [0x08, 0x06]
        f += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        f += mac + address.bytes + broadcast + address.bytes
        return f
    }
}
