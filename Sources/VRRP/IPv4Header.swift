import KeepalivedConfig

/// What a receiver needs from the IPv4 header a raw socket delivers in front of
/// each packet.
public struct IPv4Header: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var ttl: UInt8
    public var ipProtocol: UInt8
    public var headerLength: Int
    public var totalLength: Int

    /// nil when the bytes are not a plausible IPv4 header (wrong version, header or
    /// total length beyond the buffer).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> IPv4Header? {
        let b = Array(bytes)
        guard b.count >= 20, b[0] >> 4 == 4 else { return nil }
        let ihl = Int(b[0] & 0x0f) * 4
        guard ihl >= 20, b.count >= ihl else { return nil }
        let total = Int(b[2]) << 8 | Int(b[3])
        guard total >= ihl, total <= b.count else { return nil }
        return IPv4Header(source: IPAddress(bytes: Array(b[12..<16]))!, destination: IPAddress(bytes: Array(b[16..<20]))!,
                          ttl: b[8], ipProtocol: b[9], headerLength: ihl, totalLength: total)
    }
}
