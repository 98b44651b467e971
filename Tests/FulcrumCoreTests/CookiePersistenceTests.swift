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
        #expect(try persistence(["insert", "postonly"]).postOnly && !(try persistence(["insert"]).postOnly))
        #expect(throws: CookiePersistence.Unsupported.self) { try persistence(["insert", "dynamic"]) }
        #expect(throws: CookiePersistence.Unsupported.self) { try persistence(["insert", "maxidle"]) }
    }

    @Test func datesAreFourSecondStepsInFiveBase64Digits() {
        #expect(CookieDate.encode(now: 1_700_000_000) == Array("ZVPxA".utf8))
        #expect(CookieDate.encode(steps: 1) == Array("AAAAB".utf8))
        #expect(CookieDate.encode(steps: (1 << 30) - 1) == Array("/////".utf8))
        #expect(CookieDate.decode(Array("ZVPxA".utf8)) == 1_700_000_000, "rounded up to a multiple of 4")
        #expect(CookieDate.decode(Array("AAAA".utf8)) == nil && CookieDate.decode(Array("AA*AA".utf8)) == nil)
        #expect(CookieDate.decode(Array("AAAAA".utf8)) == nil, "0 is no date")
    }

    @Test func maxIdleAndMaxLifeExpireAndRefreshTheCookie() throws {
        let p = try persistence(["insert", "indirect", "maxidle", "30m", "maxlife", "3600"])
        #expect(p.maxIdle == 1800 && p.maxLife == 3600)
        let now: Int64 = 1_700_000_000
        let inserted = try #require(p.insertedCookie(for: 1, now: now))
        #expect(inserted == Array("SRV=s2|ZVPxA|ZVPxA; path=/".utf8))
        func look(_ value: String, at t: Int64) -> CookiePersistence.Lookup { p.lookup(b(value), now: t) }
        #expect(look("SRV=s2|ZVPxA|ZVPxA", at: now + 60).server == 1)
        #expect(look("SRV=s2|ZVPxA|ZVPxA", at: now + 1801).server == nil, "idle past maxidle")
        #expect(look("SRV=s2|ZVPxA|ZVPxA", at: now - 86_401).server == nil, "dated more than a day ahead")
        let refreshed = String(decoding: try #require(p.insertedCookie(for: 1, now: now + 1700, firstDate: now)), as: UTF8.self)
        #expect(refreshed.hasSuffix("|ZVPxA; path=/"), "the first date is kept: \(refreshed)")
        let lastRefreshed = String(decoding: CookieDate.encode(now: now + 3000), as: UTF8.self)
        #expect(look("SRV=s2|\(lastRefreshed)|ZVPxA", at: now + 3599).server == 1)
        #expect(look("SRV=s2|\(lastRefreshed)|ZVPxA", at: now + 3601).server == nil, "alive past maxlife")
        #expect(look("SRV=s2", at: now).server == 1, "a cookie without dates is accepted")
        #expect(p.needsRefresh(look("SRV=s2", at: now), now: now), "...and gets its dates")
        #expect(!p.needsRefresh(look("SRV=s2|ZVPxA|ZVPxA", at: now - 2), now: now - 2), "its last date is still ahead")
        #expect(p.needsRefresh(look("SRV=s2|ZVPxA|ZVPxA", at: now + 1), now: now + 1))
        #expect(look("SRV=s2|ZVPxA|ZVPxA; x=1", at: now).forward == Array("x=1".utf8), "indirect: removed, dates and all")
    }
}
