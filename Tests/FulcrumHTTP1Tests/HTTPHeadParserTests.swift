import Testing
@testable import FulcrumHTTP1

@Suite struct HTTPHeadParserTests {
    func request(_ text: String) throws(HTTPParseError) -> (HTTPRequestHead, [UInt8]) {
        let bytes = Array(text.utf8)
        let head = try bytes.withUnsafeBytes { p in Result { () throws(HTTPParseError) in try HTTPHeadParser.parseRequest(p) } }.get()
        return (head, bytes)
    }

    func refusal(_ text: String) -> HTTPParseError.Reason? {
        do { _ = try request(text); return nil } catch { return error.reason }
    }

    func string(_ bytes: [UInt8], _ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    @Test func offsetsPointIntoTheOriginalBytes() throws {
        let (head, bytes) = try request("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nUser-Agent:  curl/8  \r\n\r\nBODY")
        #expect(string(bytes, head.method) == "GET")
        #expect(string(bytes, head.target) == "/a?b=1")
        #expect(head.versionMinor == 1)
        #expect(head.headers.map { string(bytes, $0.name) } == ["Host", "X-Empty", "User-Agent"])
        #expect(head.headers.map { string(bytes, $0.value) } == ["example.com", "", "curl/8"])
        #expect(string(bytes, head.headers[2].line) == "User-Agent:  curl/8  ")
        #expect(head.length == bytes.count - 4, "the body starts right after the empty line")
        #expect(head.framing == .none && head.keepAlive && !head.isHEAD)
    }

    @Test func endOfHeadResumesAcrossSplitLineEndings() {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        for split in 1..<text.count {
            let first = text[..<split].withUnsafeBytes { HTTPHeadParser.endOfHead($0) }
            let whole = text.withUnsafeBytes { HTTPHeadParser.endOfHead($0, from: split) }
            #expect(first == nil || first == text.count)
            #expect(whole == text.count, "split at \(split)")
        }
        #expect(Array("GET / HTTP/1.0\n\n".utf8).withUnsafeBytes { HTTPHeadParser.endOfHead($0) } == 16, "bare LF line endings")
    }

    @Test func persistence() throws {
        #expect(try request("GET / HTTP/1.1\r\nHost: a\r\n\r\n").0.keepAlive)
        #expect(try !request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").0.keepAlive)
        #expect(try !request("GET / HTTP/1.0\r\n\r\n").0.keepAlive)
        #expect(try request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").0.keepAlive)
        #expect(try !request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").0.keepAlive)
        #expect(try request("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n").0.upgrade)
        #expect(try request("PUT /o HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").0.expectContinue)
        #expect(try request("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").0.isHEAD)
    }

    @Test func framing() throws {
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").0.framing == .contentLength(12))
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").0.framing == .none)
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n").0.framing == .contentLength(7))
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").0.framing == .chunked)
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n").0.framing == .chunked)
        #expect(try request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10737418240\r\n\r\n").0.framing == .contentLength(10 << 30))
    }

    /// Every way two parties could disagree on where a request ends is refused.
    @Test func smugglingAndMalformedInputAreRefused() {
        let cases: [(String, HTTPParseError.Reason)] = [
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", .conflictingContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .badContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", .badContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .badContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", .badContentLength),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .chunkedNotFinal),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .chunkedNotFinal),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", .unsupportedTransferCoding),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .chunkedNotFinal),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", .badHeaderName),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", .obsoleteLineFolding),
            ("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .badHeaderLine),
            ("GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n", .badHeaderName),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{01}b\r\n\r\n", .badHeaderValue),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", .badHeaderLine),
            ("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", .badHeaderName),
            ("GET / HTTP/1.1\r\n\r\n", .missingHost),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
            ("GET /\r\n\r\n", .badRequestLine),
            ("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", .badRequestLine),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/1.x\r\nHost: a\r\n\r\n", .badRequestLine),
            ("GET / HTTP/1.1\r\nHost: a\r\n", .badRequestLine),
        ]
        for (text, reason) in cases {
            #expect(refusal(text) == reason, "\(text.debugDescription)")
        }
        #expect(HTTPParseError(.unsupportedTransferCoding, at: 0).status == 501)
        #expect(HTTPParseError(.unsupportedVersion, at: 0).status == 505)
        #expect(HTTPParseError(.conflictingContentLength, at: 0).status == 400)
    }

    @Test func leadingEmptyLinesAreIgnored() throws {
        #expect(try request("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").0.versionMinor == 1)
    }

    func response(_ text: String, head: Bool = false) throws(HTTPParseError) -> HTTPResponseHead {
        try Array(text.utf8).withUnsafeBytes { p in Result { () throws(HTTPParseError) in try HTTPHeadParser.parseResponse(p, requestWasHEAD: head) } }.get()
    }

    @Test func responseFraming() throws {
        #expect(try response("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n").framing == .contentLength(13))
        #expect(try response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing == .chunked)
        let eof = try response("HTTP/1.1 200 OK\r\n\r\n")
        #expect(eof.framing == .untilClose && !eof.keepAlive)
        #expect(try response("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", head: true).framing == .none)
        #expect(try response("HTTP/1.1 204 No Content\r\n\r\n").framing == .none)
        #expect(try response("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n").framing == .none)
        #expect(try response("HTTP/1.1 100 Continue\r\n\r\n").isInterim)
        #expect(try response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").switchesProtocols)
        #expect(try response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").status == 200)
        #expect(try !response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").keepAlive)
        for bad in ["HTTP/1.1 2OO OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n", "garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"] {
            #expect(throws: HTTPParseError.self, "\(bad.debugDescription)") { try response(bad) }
        }
    }
}
