import Testing
@testable import FulcrumHTTP1

@Suite struct HTTPHeadEditorTests {
    func editor(_ text: String) throws -> HTTPHeadEditor {
        let bytes = Array(text.utf8)
        let head = try bytes.withUnsafeBytes { p in Result { () throws(HTTPParseError) in try HTTPHeadParser.parseRequest(p) } }.get()
        return HTTPHeadEditor(bytes: bytes, startLine: head.method.lowerBound..<(head.target.upperBound + 9), target: head.target, headers: head.headers)
    }

    func text(_ e: HTTPHeadEditor) -> String { String(decoding: e.serialized(), as: UTF8.self) }

    @Test func untouchedHeadIsReproducedExactly() throws {
        let request = "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Odd:   spaced  \r\n\r\n"
        #expect(text(try editor(request)) == request)
    }

    @Test func addSetDeleteFollowHAProxy() throws {
        var e = try editor("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nX-B: b\r\n\r\n")
        e.add("X-New", Array("n".utf8))
        e.set("X-A", Array("3".utf8))
        e.delete("x-b")
        #expect(text(e) == "GET / HTTP/1.1\r\nHost: x\r\nX-New: n\r\nX-A: 3\r\n\r\n")
        #expect(e.contains("x-new") && !e.contains("X-B"))
    }

    @Test func replaceValuesOnlyTouchesMatches() throws {
        var e = try editor("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n")
        e.replaceValues(of: "cookie") { $0.first == UInt8(ascii: "a") ? Array("z=9".utf8) : nil }
        #expect(text(e) == "GET / HTTP/1.1\r\nHost: x\r\nCookie: z=9\r\nCookie: b=2\r\n\r\n")
    }

    @Test func pathAndTargetRewrites() throws {
        var e = try editor("GET /old/path?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        e.setPath(Array("/new".utf8))
        #expect(text(e).hasPrefix("GET /new?q=1 HTTP/1.1\r\n"))
        e.setTarget(Array("/t".utf8))
        #expect(text(e).hasPrefix("GET /t HTTP/1.1\r\n"))
        var absolute = try editor("GET http://h:8/p/q?x HTTP/1.1\r\nHost: h\r\n\r\n")
        absolute.setPath(Array("/r".utf8))
        #expect(text(absolute).hasPrefix("GET http://h:8/r?x HTTP/1.1\r\n"))
        var star = try editor("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
        star.setPath(Array("/s".utf8))
        #expect(text(star).hasPrefix("OPTIONS /s HTTP/1.1\r\n"))
    }
}

@Suite struct HTTPBodyTrackerTests {
    func feed(_ tracker: inout HTTPBodyTracker, _ text: String) throws(HTTPParseError) -> ChunkedBodyFraming.Progress {
        try Array(text.utf8).withUnsafeBytes { p in Result { () throws(HTTPParseError) in try tracker.consume(p) } }.get()
    }

    @Test func contentLengthStopsAtTheBoundary() throws {
        var t = HTTPBodyTracker(.contentLength(5))
        #expect(try feed(&t, "abc") == .init(consumed: 3, finished: false))
        #expect(try feed(&t, "deGET") == .init(consumed: 2, finished: true), "the next pipelined request is left alone")
        #expect(t.isFinished)
    }

    @Test func noBodyAndUntilClose() throws {
        var none = HTTPBodyTracker(.none)
        #expect(none.isFinished)
        #expect(try feed(&none, "GET") == .init(consumed: 0, finished: true))
        var close = HTTPBodyTracker(.untilClose)
        #expect(try feed(&close, "anything") == .init(consumed: 8, finished: false))
        #expect(close.endsWithClose && !close.isFinished)
    }

    @Test func chunkedFindsTheEnd() throws {
        var t = HTTPBodyTracker(.chunked)
        #expect(try feed(&t, "3\r\nabc\r\n0\r\n\r\nNEXT") == .init(consumed: 13, finished: true))
        var bad = HTTPBodyTracker(.chunked)
        #expect(throws: HTTPParseError.self) { try feed(&bad, "zz\r\n") }
    }
}
