/// The hash functions of `hash-type`: sdbm (the default), djb2, crc32, none (the key's
/// own first bytes), optionally followed by the avalanche mix that spreads keys which
/// differ in few bits. wt6 is not implemented yet (refused at start).
public enum HashFunction: String, Sendable, CaseIterable {
    case sdbm, djb2, crc32, none

    public func hash<C: Collection>(_ key: C, avalanche: Bool) -> UInt32 where C.Element == UInt8 {
        var h: UInt32
        switch self {
        case .sdbm:
            h = 0
            for c in key { h = UInt32(c) &+ (h << 6) &+ (h << 16) &- h }
        case .djb2:
            h = 5381
            for c in key { h = (h << 5) &+ h &+ UInt32(c) }
        case .crc32:
            h = 0xFFFF_FFFF
            for c in key {
                h ^= UInt32(c)
                for _ in 0..<8 { h = (h >> 1) ^ (0xEDB8_8320 & (0 &- (h & 1))) }
            }
            h = ~h
        case .none:
            h = 0
            for c in key.prefix(4) { h = (h << 8) | UInt32(c) }
        }
        return avalanche ? Self.mix(h) : h
    }

    /// A 32-bit integer mix (every input bit affects every output bit).
    public static func mix(_ x: UInt32) -> UInt32 {
        var a = x
        a = (a ^ 61) ^ (a >> 16)
        a = a &+ (a << 3)
        a ^= a >> 4
        a = a &* 0x27d4_eb2d
        a ^= a >> 15
        return a
    }
}
