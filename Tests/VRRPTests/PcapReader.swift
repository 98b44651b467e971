import Foundation

/// Just enough of the classic pcap format (Ethernet link type, either byte order,
/// micro- or nanosecond stamps) to pull keepalived's reference packets out of the lab's
/// captures.
struct PcapReader {
    struct Frame {
        var time: Double
        var bytes: [UInt8]
    }

    var frames: [Frame] = []

    init(path: String) throws {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        guard data.count >= 24 else { throw CocoaError(.fileReadCorruptFile) }
        let magic = UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
        let little: Bool
        let nano: Bool
        switch magic {
        case 0xa1b2c3d4: little = true; nano = false
        case 0xa1b23c4d: little = true; nano = true
        case 0xd4c3b2a1: little = false; nano = false
        case 0x4d3cb2a1: little = false; nano = true
        default: throw CocoaError(.fileReadCorruptFile)
        }
        func u32(_ at: Int) -> UInt32 {
            let b = data[at..<at + 4].map(UInt32.init)
            return little ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
        }
        var offset = 24
        while offset + 16 <= data.count {
            let seconds = Double(u32(offset)), fraction = Double(u32(offset + 4))
            let captured = Int(u32(offset + 8))
            offset += 16
            guard offset + captured <= data.count else { break }
            frames.append(Frame(time: seconds + fraction / (nano ? 1e9 : 1e6), bytes: Array(data[offset..<offset + captured])))
            offset += captured
        }
    }

    /// IPv4 and IPv6 payloads of protocol 112 with the fields a receiver sees.
    struct VRRPFrame {
        var source: [UInt8]
        var destination: [UInt8]
        var ttl: UInt8
        var payload: [UInt8]
        var ethernetSource: [UInt8]
        var ipDatagram: [UInt8]
    }

    var vrrpFrames: [VRRPFrame] {
        frames.compactMap { f in
            let b = f.bytes
            guard b.count > 14 else { return nil }
            let ethertype = UInt16(b[12]) << 8 | UInt16(b[13])
            let ip = Array(b[14...])
            if ethertype == 0x0800, ip.count >= 20, ip[9] == 112 {
                let ihl = Int(ip[0] & 0x0f) * 4
                let total = Int(ip[2]) << 8 | Int(ip[3])
                return VRRPFrame(source: Array(ip[12..<16]), destination: Array(ip[16..<20]), ttl: ip[8],
                                 payload: Array(ip[ihl..<total]), ethernetSource: Array(b[6..<12]), ipDatagram: Array(ip[..<total]))
            }
            if ethertype == 0x86dd, ip.count >= 40, ip[6] == 112 {
                let length = Int(ip[4]) << 8 | Int(ip[5])
                return VRRPFrame(source: Array(ip[8..<24]), destination: Array(ip[24..<40]), ttl: ip[7],
                                 payload: Array(ip[40..<40 + length]), ethernetSource: Array(b[6..<12]), ipDatagram: Array(ip[..<(40 + length)]))
            }
            return nil
        }
    }

    /// Gratuitous ARPs: requests whose sender and target protocol addresses are equal.
    var gratuitousARPs: [[UInt8]] {
        frames.compactMap { f in
            let b = f.bytes
            guard b.count >= 42, b[12] == 0x08, b[13] == 0x06, b[21] == 1, b[28..<32] == b[38..<42] else { return nil }
            return b
        }
    }
}
