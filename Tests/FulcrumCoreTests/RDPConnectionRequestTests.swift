import Testing
@testable import FulcrumCore

@Suite struct RDPConnectionRequestTests {
    /// A client's first packet: TPKT, the X.224 Connection Request, the cookie line,
    /// then an RDP negotiation request (8 bytes).
    static func request(_ cookie: String) -> [UInt8] {
        let line = Array(cookie.utf8) + [13, 10]
        let negotiation: [UInt8] = [0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]
        let x224: [UInt8] = [UInt8(6 + line.count + negotiation.count), 0xE0, 0, 0, 0, 0, 0]
        let length = 4 + x224.count + line.count + negotiation.count
        return [3, 0, UInt8(length >> 8), UInt8(length & 0xFF)] + x224 + line + negotiation
    }

    @Test func findsTheNamedCookieCaseInsensitively() {
        let r = Self.request("Cookie: mstshash=alice")
        #expect(RDPConnectionRequest.cookie(r, name: "mstshash") == .value(Array("alice".utf8)[...]))
        #expect(RDPConnectionRequest.cookie(r, name: "MSTSHASH") == .value(Array("alice".utf8)[...]))
        #expect(RDPConnectionRequest.cookie(r, name: nil) == .value(Array("mstshash=alice".utf8)[...]), "no name: the first cookie whole")
        #expect(RDPConnectionRequest.cookie(r, name: "msts") == RDPConnectionRequest.Cookie.none, "another name")
        #expect(RDPConnectionRequest.cookie(Self.request("Cookie:mstshash=bob"), name: "mstshash") == .value(Array("bob".utf8)[...]))
    }

    @Test func waitsForTheLineEndAndRefusesOtherData() {
        let r = Self.request("Cookie: mstshash=alice")
        #expect(RDPConnectionRequest.cookie(Array(r.prefix(20)), name: "mstshash") == .incomplete)
        #expect(RDPConnectionRequest.cookie(Array(r.prefix(33)), name: "mstshash") == .incomplete, "the value, but not its CRLF yet")
        #expect(RDPConnectionRequest.cookie(Array(r.prefix(5)), name: "mstshash") == .incomplete)
        #expect(RDPConnectionRequest.cookie(Array(repeating: 0x16, count: 40), name: "mstshash") == RDPConnectionRequest.Cookie.none, "not RDP")
        var bare = Self.request("Cookie: mstshash=alice")
        bare[bare.firstIndex(of: 13)!] = UInt8(ascii: "x")
        bare[bare.firstIndex(of: 10)!] = UInt8(ascii: "y")
        #expect(RDPConnectionRequest.cookie(bare, name: "mstshash") == .incomplete)
    }

    @Test func routingTokensNameAnAddressAndPort() {
        #expect(RDPConnectionRequest.routingToken(address: [127, 0, 0, 1], port: 3389) == "16777343.15629.0000")
        let parsed = RDPConnectionRequest.routingToken(Array("16777343.15629.0000".utf8)[...])
        #expect(parsed?.address == [127, 0, 0, 1] && parsed?.port == 3389)
        #expect(RDPConnectionRequest.routingToken(Array("alice".utf8)[...]) == nil)
        #expect(RDPConnectionRequest.routingToken(Array("1.2".utf8)[...]) == nil, "the port must be followed by a dot")
    }

    @Test func fetchesAndThePredefinedACL() throws {
        let s = SampleContext()
        s.payload = Self.request("Cookie: mstshash=alice")
        let files = PatternFiles(readFile: { _ in nil })
        #expect(try SampleExpression(parsing: "req.rdp_cookie(mstshash)", files: files).value(in: s) == .string(Array("alice".utf8)))
        #expect(try SampleExpression(parsing: "rdp_cookie_cnt", files: files).value(in: s) == .integer(1))
        #expect(try SampleExpression(parsing: "req.rdp_cookie_cnt(msts)", files: files).value(in: s) == .integer(0))
        #expect(try PredefinedACL.acl("RDP_COOKIE", files: files)?.matches(s) == true)
        s.payload = [3, 0]
        #expect(try PredefinedACL.acl("RDP_COOKIE", files: files)?.matches(s) == false)
    }
}
