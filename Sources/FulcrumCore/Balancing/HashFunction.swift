/// The hash functions of `hash-type` and of the `sdbm`, `djb2`, `wt6`, `crc32`
/// converters: sdbm (the default), djb2, wt6, crc32, and none (the key read as a
/// decimal number, for keys that already are hashes), optionally followed by the
/// avalanche mix that spreads keys which differ in few bits. The values are HAProxy's,
/// bit for bit: a backend hashed by both sends each key to the same server.
public enum HashFunction: String, Sendable, CaseIterable {
    case sdbm, djb2, wt6, crc32, none

    public func hash<C: Collection>(_ key: C, avalanche: Bool) -> UInt32 where C.Element == UInt8 {
        var h: UInt32
        switch self {
        case .sdbm:
            h = 0
            for c in key { h = UInt32(c) &+ (h << 6) &+ (h << 16) &- h }
        case .djb2:
            h = 5381
            for c in key { h = (h << 5) &+ h &+ UInt32(c) }
        case .wt6:
            h = Self.wt6(key)
        case .crc32:
            h = 0xFFFF_FFFF
            for c in key {
                h ^= UInt32(c)
                for _ in 0..<8 { h = (h >> 1) ^ (0xEDB8_8320 & (0 &- (h & 1))) }
            }
            h = ~h
        case .none:
            h = Self.decimal(key)
        }
        return avalanche ? Self.mix(h) : h
    }

    /// wt6: two 32-bit lanes, each byte complemented into both, then the lanes rotate
    /// into each other by amounts the previous state picks, so neither the input's
    /// alphabet nor the server count lines up with a fixed shift.
    static func wt6<C: Collection>(_ key: C) -> UInt32 where C.Element == UInt8 {
        var h0: UInt32 = 0xA53C_965A, h1: UInt32 = 0x5CA6_953A
        var step0: UInt32 = 6, step1: UInt32 = 18
        for byte in key {
            let c = UInt32(byte)
            h0 = ~(h0 ^ c)
            h1 = ~(h1 &+ c)
            let rotated = rotateLeft(h1, step0)
            h1 = rotateLeft(h0, step1)
            h0 = rotated
            let t = ((h0 >> 16) ^ h1) & 0xFFFF
            step0 = t & 0x1F
            step1 = t >> 11
        }
        return h0 ^ h1
    }

    static func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 {
        n == 0 ? x : (x << n) | (x >> (32 - n))
    }

    /// `none`: a key such as "1234" is its own hash (an optional minus sign, then the
    /// leading digits, kept modulo 2^32); a key without digits hashes to 0.
    static func decimal<C: Collection>(_ key: C) -> UInt32 where C.Element == UInt8 {
        var value: UInt64 = 0
        var negative = false
        var first = true
        for c in key {
            if first && c == UInt8(ascii: "-") { negative = true; first = false; continue }
            first = false
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { break }
            value = value &* 10 &+ UInt64(c - UInt8(ascii: "0"))
        }
        return UInt32(truncatingIfNeeded: negative ? 0 &- value : value)
    }

    /// The avalanche mix: Bob Jenkins' six-step 32-bit integer hash (every input bit
    /// affects every output bit), then a multiplication by a large prime that spreads
    /// results over the whole range.
    public static func mix(_ x: UInt32) -> UInt32 {
        var a = x
        a = (a &+ 0x7ED5_5D16) &+ (a << 12)
        a = (a ^ 0xC761_C23C) ^ (a >> 19)
        a = (a &+ 0x1656_67B1) &+ (a << 5)
        a = (a &+ 0xD3A2_646C) ^ (a << 9)
        a = (a &+ 0xFD70_46C5) &+ (a << 3)
        a = (a ^ 0xB55A_4F09) ^ (a >> 16)
        return a &* 3_221_225_473
    }
}
