/// The xxHash family as the `xxh32`, `xxh64` and `xxh3` converters compute it: the
/// published XXH32, XXH64 and XXH3 (64-bit, seeded) algorithms, written from their
/// specification. The values are the ones every xxHash library gives, so a key
/// hashed here and by another proxy or tool lands on the same number.
public enum XXHash {
    static let p32: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x9E37_79B1, 0x85EB_CA77, 0xC2B2_AE3D, 0x27D4_EB2F, 0x1656_67B1)
    static let p64: (UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x9E37_79B1_85EB_CA87, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63, 0x27D4_EB2F_1656_67C5
    )

    public static func xxh32(_ data: [UInt8], seed: UInt32) -> UInt32 {
        data.withUnsafeBytes { b in
            let n = b.count
            var i = 0
            var h: UInt32
            func round(_ acc: UInt32, _ input: UInt32) -> UInt32 { (acc &+ input &* p32.1).rotated(13) &* p32.0 }
            if n >= 16 {
                var v = (seed &+ p32.0 &+ p32.1, seed &+ p32.1, seed, seed &- p32.0)
                while i + 16 <= n {
                    v.0 = round(v.0, b.le32(i))
                    v.1 = round(v.1, b.le32(i + 4))
                    v.2 = round(v.2, b.le32(i + 8))
                    v.3 = round(v.3, b.le32(i + 12))
                    i += 16
                }
                h = v.0.rotated(1) &+ v.1.rotated(7) &+ v.2.rotated(12) &+ v.3.rotated(18)
            } else {
                h = seed &+ p32.4
            }
            h &+= UInt32(truncatingIfNeeded: n)
            while i + 4 <= n {
                h = (h &+ b.le32(i) &* p32.2).rotated(17) &* p32.3
                i += 4
            }
            while i < n {
                h = (h &+ UInt32(b[i]) &* p32.4).rotated(11) &* p32.0
                i += 1
            }
            h ^= h >> 15
            h &*= p32.1
            h ^= h >> 13
            h &*= p32.2
            return h ^ (h >> 16)
        }
    }

    public static func xxh64(_ data: [UInt8], seed: UInt64) -> UInt64 {
        data.withUnsafeBytes { b in
            let n = b.count
            var i = 0
            var h: UInt64
            if n >= 32 {
                var v = (seed &+ p64.0 &+ p64.1, seed &+ p64.1, seed, seed &- p64.0)
                while i + 32 <= n {
                    v.0 = round64(v.0, b.le64(i))
                    v.1 = round64(v.1, b.le64(i + 8))
                    v.2 = round64(v.2, b.le64(i + 16))
                    v.3 = round64(v.3, b.le64(i + 24))
                    i += 32
                }
                h = v.0.rotated(1) &+ v.1.rotated(7) &+ v.2.rotated(12) &+ v.3.rotated(18)
                for lane in [v.0, v.1, v.2, v.3] { h = (h ^ round64(0, lane)) &* p64.0 &+ p64.3 }
            } else {
                h = seed &+ p64.4
            }
            h &+= UInt64(n)
            while i + 8 <= n {
                h = (h ^ round64(0, b.le64(i))).rotated(27) &* p64.0 &+ p64.3
                i += 8
            }
            if i + 4 <= n {
                h = (h ^ UInt64(b.le32(i)) &* p64.0).rotated(23) &* p64.1 &+ p64.2
                i += 4
            }
            while i < n {
                h = (h ^ UInt64(b[i]) &* p64.4).rotated(11) &* p64.0
                i += 1
            }
            return avalanche64(h)
        }
    }

    static func round64(_ acc: UInt64, _ input: UInt64) -> UInt64 { (acc &+ input &* p64.1).rotated(31) &* p64.0 }

    static func avalanche64(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= p64.1
        h ^= h >> 29
        h &*= p64.2
        return h ^ (h >> 32)
    }

    /// XXH3's default 192-byte secret, a constant of the algorithm.
    static let secret: [UInt8] = [
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    ]

    /// XXH3, 64-bit output, with a seed: short inputs mix with windows of the secret
    /// moved by the seed; long ones run the striped accumulator over a secret derived
    /// from the seed.
    public static func xxh3(_ data: [UInt8], seed: UInt64) -> UInt64 {
        let n = data.count
        if n > 240 {
            var key = secret
            if seed != 0 {
                for k in stride(from: 0, to: key.count, by: 16) {
                    key.storeLE64(key.withUnsafeBytes { $0.le64(k) } &+ seed, at: k)
                    key.storeLE64(key.withUnsafeBytes { $0.le64(k + 8) } &- seed, at: k + 8)
                }
            }
            return data.withUnsafeBytes { b in key.withUnsafeBytes { s in long(b, s) } }
        }
        return data.withUnsafeBytes { b in secret.withUnsafeBytes { s in short(b, s, seed) } }
    }

    static func short(_ b: UnsafeRawBufferPointer, _ s: UnsafeRawBufferPointer, _ seed: UInt64) -> UInt64 {
        let n = b.count
        let len = UInt64(n)
        switch n {
        case 0:
            return avalanche64(seed ^ s.le64(56) ^ s.le64(64))
        case 1...3:
            let combined = UInt32(b[0]) << 16 | UInt32(b[n >> 1]) << 24 | UInt32(b[n - 1]) | UInt32(n) << 8
            let flip = UInt64(s.le32(0) ^ s.le32(4)) &+ seed
            return avalanche64(UInt64(combined) ^ flip)
        case 4...8:
            let s2 = seed ^ UInt64(UInt32(truncatingIfNeeded: seed).byteSwapped) << 32
            let flip = (s.le64(8) ^ s.le64(16)) &- s2
            let input = UInt64(b.le32(n - 4)) &+ UInt64(b.le32(0)) << 32
            var h = input ^ flip
            h ^= h.rotated(49) ^ h.rotated(24)
            h &*= 0x9FB2_1C65_1E98_DF25
            h ^= (h >> 35) &+ len
            h &*= 0x9FB2_1C65_1E98_DF25
            return h ^ (h >> 28)
        case 9...16:
            let lo = b.le64(0) ^ ((s.le64(24) ^ s.le64(32)) &+ seed)
            let hi = b.le64(n - 8) ^ ((s.le64(40) ^ s.le64(48)) &- seed)
            return avalanche3(len &+ lo.byteSwapped &+ hi &+ fold(lo, hi))
        case 17...128:
            var acc = len &* p64.0
            var pairs: [(Int, Int)] = [(0, 0)]
            if n > 32 { pairs.append((16, 32)) }
            if n > 64 { pairs.append((32, 64)) }
            if n > 96 { pairs.append((48, 96)) }
            for (offset, k) in pairs {
                acc &+= mix16(b, offset, s, k, seed)
                acc &+= mix16(b, n - offset - 16, s, k + 16, seed)
            }
            return avalanche3(acc)
        default:
            var acc = len &* p64.0
            for k in 0..<8 { acc &+= mix16(b, 16 * k, s, 16 * k, seed) }
            acc = avalanche3(acc)
            for k in 8..<(n / 16) { acc &+= mix16(b, 16 * k, s, 16 * (k - 8) + 3, seed) }
            acc &+= mix16(b, n - 16, s, 136 - 17, seed)
            return avalanche3(acc)
        }
    }

    static func long(_ b: UnsafeRawBufferPointer, _ s: UnsafeRawBufferPointer) -> UInt64 {
        let n = b.count
        var acc: [UInt64] = [UInt64(p32.2), p64.0, p64.1, p64.2, p64.3, UInt64(p32.1), p64.4, UInt64(p32.0)]
        let stripesPerBlock = (s.count - 64) / 8
        let blockLength = 64 * stripesPerBlock
        let blocks = (n - 1) / blockLength
        func stripe(_ at: Int, _ key: Int) {
            for k in 0..<8 {
                let value = b.le64(at + 8 * k)
                let keyed = value ^ s.le64(key + 8 * k)
                acc[k ^ 1] &+= value
                acc[k] &+= (keyed & 0xFFFF_FFFF) &* (keyed >> 32)
            }
        }
        for block in 0..<blocks {
            for k in 0..<stripesPerBlock { stripe(block * blockLength + 64 * k, 8 * k) }
            for k in 0..<8 {
                var a = acc[k]
                a ^= a >> 47
                a ^= s.le64(s.count - 64 + 8 * k)
                acc[k] = a &* UInt64(p32.0)
            }
        }
        let stripes = ((n - 1) - blockLength * blocks) / 64
        for k in 0..<stripes { stripe(blocks * blockLength + 64 * k, 8 * k) }
        stripe(n - 64, s.count - 64 - 7)
        var result = UInt64(n) &* p64.0
        for k in 0..<4 { result &+= fold(acc[2 * k] ^ s.le64(11 + 16 * k), acc[2 * k + 1] ^ s.le64(11 + 16 * k + 8)) }
        return avalanche3(result)
    }

    static func mix16(_ b: UnsafeRawBufferPointer, _ at: Int, _ s: UnsafeRawBufferPointer, _ key: Int, _ seed: UInt64) -> UInt64 {
        fold(b.le64(at) ^ (s.le64(key) &+ seed), b.le64(at + 8) ^ (s.le64(key + 8) &- seed))
    }

    /// The 128-bit product's halves xored.
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }

    static func avalanche3(_ x: UInt64) -> UInt64 {
        var h = x ^ (x >> 37)
        h &*= 0x1656_6791_9E37_79F9
        return h ^ (h >> 32)
    }
}

extension UnsafeRawBufferPointer {
    func le32(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func le64(_ at: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}

extension [UInt8] {
    mutating func storeLE64(_ v: UInt64, at: Int) {
        for k in 0..<8 { self[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
    }
}

extension UInt32 {
    func rotated(_ k: UInt32) -> UInt32 { self << k | self >> (32 - k) }
}

extension UInt64 {
    func rotated(_ k: UInt64) -> UInt64 { self << k | self >> (64 - k) }
}
