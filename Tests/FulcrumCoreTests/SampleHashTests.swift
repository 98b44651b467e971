import Testing
import HAProxyConfig
@testable import FulcrumCore

/// The hash and digest converters against published vectors: every length class of
/// the xxHash algorithms (short, mid-size, striped, several blocks) with and without
/// a seed, CRC-32C's check value, and OpenSSL's digests and HMAC.
@Suite struct SampleHashTests {
    /// Bytes `(7i + 3) mod 251`: no two windows alike, so a wrong offset shows.
    static func data(_ n: Int) -> [UInt8] { (0..<n).map { UInt8((7 * $0 + 3) % 251) } }

    /// Length, seed, XXH32, XXH64, XXH3-64 as the reference xxHash library gives them.
    static let vectors: [(Int, UInt64, UInt32, UInt64, UInt64)] = [
        (0, 0, 0x02CC5D05, 0xEF46DB3751D8E999, 0x2D06800538D394C2),
        (0, 42, 0xD5BE6EB8, 0x98B1582B0977E704, 0xB029411FF43D84D2),
        (1, 0, 0x21AE663A, 0x1F25C8D0BC1F4BB6, 0x13E608BC156DEFED),
        (1, 42, 0x8CF52D56, 0x4D71BEF0290052DB, 0xD0C83C4BDEED078B),
        (3, 0, 0xCD3D2242, 0x31D2363F52E564C9, 0xA9088DDA485B481C),
        (3, 42, 0xB28042B7, 0xBF4DD3C814A1FB9E, 0x3A6EB7A191052C81),
        (4, 0, 0x725479F2, 0x9BB64B7D66EE9FDA, 0x6D9253B16C8B1ED3),
        (4, 42, 0xC4D1632E, 0xBCB54295AB591E0D, 0x5D8DDB4735733BAB),
        (8, 0, 0x29B5025A, 0xDAB99D95C6F90092, 0x60539DB630471163),
        (8, 42, 0x279919E4, 0x9FE8789AC2A1A649, 0x53A895CA319FAB31),
        (9, 0, 0xD8286C54, 0x170BB6BF975B4C02, 0xFEFF668361D723A8),
        (9, 42, 0x46737935, 0xB866C9D8538B675C, 0x43F019F90F24F866),
        (16, 0, 0x8845547D, 0x434850232B787BE2, 0xB8C859B0F030B585),
        (16, 42, 0x7724E104, 0x87501F5CD956CB28, 0x6B1B54F65D114C69),
        (17, 0, 0x450E5F84, 0x1EFA7025F1B97A7A, 0x714A04408E79B80F),
        (17, 42, 0x91AD7E28, 0x74218770B0DD9F78, 0x148ADA809B3845DD),
        (32, 0, 0xE988CCB7, 0x23C3C17EF790FD97, 0x19FF4EE1D6BA1A55),
        (32, 42, 0x184F3D6D, 0x232E8071E826D4BF, 0xDC188514409A9166),
        (33, 0, 0x94F536D5, 0x50A7CFC7BA588784, 0x3E44983AD21679C8),
        (33, 42, 0xE1B85039, 0x9D08407E35697B1F, 0x9F3DF11BFFF1C982),
        (64, 0, 0xA15C1DB5, 0x2CD990A1BEED6894, 0x38BCDE5122F74956),
        (64, 42, 0xE106DF22, 0xF61144184A0C8FA9, 0xD174EAC601FF1BD5),
        (65, 0, 0xDB5C619B, 0xC763DA59981E980E, 0x95A166C5957453D9),
        (65, 42, 0xD0507E42, 0xE105F988530CC04A, 0xE5423723451138AE),
        (96, 0, 0x7FB437FC, 0x82AFD80D820311F8, 0x75D654BDAEE123DF),
        (96, 42, 0x0D168373, 0xEE3A85AB0535738B, 0xABC1FBFE98E5F1FE),
        (97, 0, 0x5DF60BDE, 0xF24E2367293AFC66, 0x1296F9E2421AB74C),
        (97, 42, 0x4090CD85, 0xD56B86ED679DAB21, 0x8E80421D9F446496),
        (128, 0, 0x7053A91E, 0xA0A0AE06F88AB606, 0x4634AE6A253A60E4),
        (128, 42, 0x7139AC3E, 0xC70E1A67C3528196, 0x4C47AADD0E1CB48A),
        (129, 0, 0x1587E1F7, 0x8ED7D1D815851679, 0xC095B9B1B087722D),
        (129, 42, 0x2177940E, 0x866CC3EC954CA262, 0xD587A29CB2D71123),
        (200, 0, 0x6E528E3C, 0x1852812FA0B23EF3, 0xA369F2930049476F),
        (200, 42, 0x04F18C09, 0x5BC94BE38A6E54A3, 0x3ABBB8471F53BCAB),
        (240, 0, 0xD1C7D188, 0x3E675F9E43D97699, 0x887AF00281F75D38),
        (240, 42, 0x00A7032C, 0x5438C59F6ED09848, 0x031723DCB3627131),
        (241, 0, 0xC2CD5D04, 0xC2D85DD2FCC8DC06, 0x82B1DE299F6E411E),
        (241, 42, 0x3F1A0550, 0xA9E28E7209FBA9E3, 0x29FAD60D2CF85B2D),
        (1024, 0, 0xE7427049, 0xBCC14BBBBB35EDE2, 0xF75E768C7CDD54B2),
        (1024, 42, 0x5E45C5A6, 0x0CEB3A2B36429F21, 0x95DBDDFB73C2D5E4),
        (1025, 0, 0xE3B7A24E, 0x198148DA92C6C1CF, 0x667A5EABE344E5DF),
        (1025, 42, 0xF4A9C0AE, 0x935DC29CE30FFBCC, 0xDCA9397B2B75157C),
        (3000, 0, 0x045B10CB, 0x4CC5F8B151C7DDD0, 0xB54504A9E625239F),
        (3000, 42, 0x8E4551DF, 0xAB7C7E44F312E131, 0x6992B94E9E50D2A9),
    ]

    @Test func xxHashMatchesTheReference() {
        for (n, seed, h32, h64, h3) in Self.vectors {
            let d = Self.data(n)
            #expect(XXHash.xxh32(d, seed: UInt32(seed)) == h32, "xxh32 length \(n) seed \(seed)")
            #expect(XXHash.xxh64(d, seed: seed) == h64, "xxh64 length \(n) seed \(seed)")
            #expect(XXHash.xxh3(d, seed: seed) == h3, "xxh3 length \(n) seed \(seed)")
        }
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    func value(_ expression: String, _ c: SampleContext = SampleContext()) throws -> SampleValue? {
        try SampleExpression(parsing: expression, files: PatternFiles(readFile: { _ in nil })).value(in: c)
    }

    func hex(_ expression: String, _ c: SampleContext = SampleContext()) throws -> String? {
        try value(expression + ",hex", c).map { String(decoding: $0.bytes, as: UTF8.self).lowercased() }
    }

    @Test(.enabled(if: MessageDigest.library != nil)) func digestsThroughLibcrypto() throws {
        #expect(try hex("str(abc),sha1") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(try hex("str(abc),sha2") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(try hex("str(abc),sha2(224)") == "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
        #expect(try hex("str(abc),digest(md5)") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(try hex("str(),sha2(512)")?.hasPrefix("cf83e1357eefb8bdf1542850d66d8007") == true)
        // RFC 4231 test case 2: key "Jefe", base64 "SmVmZQ==".
        #expect(try hex("str(what do ya want for nothing?),hmac(sha256,SmVmZQ==)") == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let c = SampleContext()
        c.variables["txn.key"] = .string(Array("SmVmZQ==".utf8))
        #expect(try hex("str(what do ya want for nothing?),hmac(sha256,txn.key)", c)?.hasPrefix("5bdcc146") == true)
        #expect(try value("str(x),hmac(sha256,txn.missing)") == nil)
    }

    @Test func hashConvertersGiveHAProxysIntegers() throws {
        #expect(try value("str(123456789),crc32c") == .integer(0xE306_9283))
        #expect(try value("str(),xxh32") == .integer(0x02CC_5D05))
        #expect(try value("str(),xxh64") == .integer(Int64(bitPattern: 0xEF46_DB37_51D8_E999)))
        #expect(try value("str(),xxh3(42)") == .integer(Int64(bitPattern: 0xB029_411F_F43D_84D2)))
    }

    @Test func badArgumentsAreRefused() {
        for bad in ["str(a),sha2(100)", "str(a),digest(nosuchdigest)", "str(a),digest", "str(a),hmac(sha256)", "str(a),hmac(sha256,!!!)", "str(a),xxh3(x)", "str(a),sha1(1)"] {
            #expect(throws: ConfigError.self, "\(bad)") { try value(bad) }
        }
    }
}
