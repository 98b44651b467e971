/// RFC 1071 ones'-complement sum, the checksum of VRRPv2, of VRRPv3 (over a pseudo-header
/// first) and of the IPv4 header.
public struct InternetChecksum: Sendable {
    private var sum: UInt32 = 0
    private var odd: UInt8?

    public init() {}

    public mutating func add<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        for b in bytes {
            if let high = odd {
                sum &+= UInt32(high) << 8 | UInt32(b)
                odd = nil
            } else {
                odd = b
            }
        }
    }

    public var value: UInt16 {
        var s = sum
        if let high = odd { s &+= UInt32(high) << 8 }
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return ~UInt16(s)
    }

    public static func of<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.value
    }
}
