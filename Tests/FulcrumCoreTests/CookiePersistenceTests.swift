import Testing
@testable import FulcrumCore

@Suite struct CookiePersistenceTests {
    func persistence(_ options: [String]) throws -> CookiePersistence {
        try CookiePersistence(CookieConfig(name: "SRV", options: options), serverValues: ["s1", "s2", nil])
    }
    func b(_ s: String) -> ArraySlice<UInt8> { Array(s.utf8)[...] }

    @Test func insertIndirectFindsTheServerAndHidesTheCookie() throws {
        let p = try persistence(["insert", "indirect", "nocache", "httponly"])
        let (server, forward) = p.inspect(b("a=1; SRV=s2; b=2"))
        #expect(server == 1)
        #expect(forward == Array("a=1; b=2".utf8))
        #expect(p.inspect(b("SRV=s1")).forward == [], "the only cookie: the header goes")
        #expect(p.inspect(b("SRV=nobody")).server == nil)
        #expect(p.insertedCookie(for: 0) == Array("SRV=s1; path=/; HttpOnly".utf8))
        #expect(p.insertedCookie(for: 2) == nil, "a server without a cookie value gets none")
        #expect(p.setsOurCookie(b("SRV=x; Path=/")) && !p.setsOurCookie(b("SRVX=1")))
    }

    @Test func insertWithoutIndirectForwardsUnchanged() throws {
        let p = try persistence(["insert"])
        let (server, forward) = p.inspect(b("SRV=s1"))
        #expect(server == 0 && forward == nil)
    }

    @Test func prefixAndRewrite() throws {
        let prefix = try persistence(["prefix"])
        #expect(prefix.rewriteSetCookie(b("SRV=abc; Path=/"), server: 1) == Array("SRV=s2~abc; Path=/".utf8))
        let (server, forward) = prefix.inspect(b("SRV=s2~abc; other=1"))
        #expect(server == 1 && forward == Array("SRV=abc; other=1".utf8))
        let rewrite = try persistence(["rewrite"])
        #expect(rewrite.rewriteSetCookie(b("SRV=whatever; HttpOnly"), server: 0) == Array("SRV=s1; HttpOnly".utf8))
        #expect(rewrite.rewriteSetCookie(b("OTHER=1"), server: 0) == nil)
        let passive = try persistence([])
        #expect(passive.mode == .passive && passive.inspect(b("SRV=s2")).server == 1)
        #expect(throws: CookiePersistence.Unsupported.self) { try persistence(["insert", "maxidle", "1h"]) }
    }
}
