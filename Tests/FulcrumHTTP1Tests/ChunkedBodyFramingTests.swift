import Testing
@testable import FulcrumHTTP1

@Suite struct ChunkedBodyFramingTests {
    /// Feeds `text` in pieces of `step` bytes; returns the bytes taken and whether it finished.
    func run(_ text: String, step: Int = .max) throws(HTTPParseError) -> (Int, Bool) {
        var framing = ChunkedBodyFraming()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            let progress = try bytes[offset..<end].withUnsafeBytes { p in Result { () throws(HTTPParseError) in try framing.consume(p) } }.get()
            offset += progress.consumed
            if progress.finished { return (offset, true) }
            if progress.consumed == 0 { break }
        }
        return (offset, framing.isFinished)
    }

    let body = "5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n"

    @Test func findsTheEndWholeOrByteByByte() throws {
        let pipelined = body + "GET /next HTTP/1.1\r\n"
        for step in [Int.max, 1, 2, 3, 7] {
            let (taken, finished) = try run(pipelined, step: step)
            #expect(finished && taken == body.utf8.count, "step \(step)")
        }
        #expect(try run("0\r\n\r\n") == (5, true))
    }

    @Test func incompleteBodyIsNotFinished() throws {
        #expect(try run("5\r\nhel") == (6, false))
        #expect(try run("5\r\nhello\r\n0\r\n") == (13, false))
    }

    @Test func largeChunksAreSkippedNotScanned() throws {
        var framing = ChunkedBodyFraming()
        let header = Array("40000000\r\n".utf8)  // 1 GiB chunk
        _ = try header.withUnsafeBytes { p in Result { () throws(HTTPParseError) in try framing.consume(p) } }.get()
        let megabyte = [UInt8](repeating: 0x61, count: 1 << 20)
        for _ in 0..<3 {
            let progress = try megabyte.withUnsafeBytes { p in Result { () throws(HTTPParseError) in try framing.consume(p) } }.get()
            #expect(progress.consumed == megabyte.count && !progress.finished)
        }
    }

    @Test func malformedFramingIsRefused() {
        let cases: [(String, HTTPParseError.Reason)] = [
            ("g\r\n", .badChunkSize),
            ("\r\n", .badChunkSize),
            ("-5\r\n", .badChunkSize),
            ("5\nhello\r\n", .badChunkSize),
            ("5\r\nhelloX\r\n", .badChunkTerminator),
            ("5\r\nhello\rX", .badChunkTerminator),
            ("1000000000000000\r\n", .badChunkSize),
            ("0\r\nX-Trailer\n", .badTrailer),
            ("0\r\n\n", .badTrailer),
            ("5;" + String(repeating: "x", count: 5000) + "\r\n", .badChunkSize),
        ]
        for (text, reason) in cases {
            do { _ = try run(text); Issue.record("accepted \(text.prefix(20).debugDescription)") } catch {
                #expect(error.reason == reason, "\(text.prefix(20).debugDescription)")
            }
        }
    }

    /// What `req.body` sees of a chunked body: the data of every chunk there, a cut one
    /// included, without sizes, extensions or trailers.
    @Test func dechunksWhatHasArrived() {
        func dechunk(_ text: String) -> (String, Bool, Bool) {
            let r = Array(text.utf8).withUnsafeBytes { ChunkedBodyFraming.dechunk($0) }
            return (String(decoding: r.data, as: UTF8.self), r.finished, r.malformed)
        }
        #expect(dechunk(self.body + "GET /next") == ("helloabcdefghijklmnopqrstuvwxyz", true, false))
        #expect(dechunk("5\r\nhello\r\n1A\r\nabc") == ("helloabc", false, false))
        #expect(dechunk("5\r\nhel") == ("hel", false, false))
        #expect(dechunk("") == ("", false, false))
        #expect(dechunk("5\r\nhelloXX") == ("hello", false, true))
        #expect(dechunk("zz\r\n") == ("", false, true))
    }
}

/// Random and mutated input never traps the parsers.
@Suite struct HTTPParserFuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    @Test func mutatedMessages() {
        var rng = SplitMix(state: 3)
        let seeds = [
            "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        ]
        let alphabet = Array("\r\n :,;0123456789abcdefABCDEF\t\u{0}\u{7f}HTTP/1.".utf8)
        for _ in 0..<4000 {
            var bytes = Array(seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                default: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                }
                if bytes.isEmpty { bytes = [0x0A] }
            }
            bytes.withUnsafeBytes { p in
                _ = try? HTTPHeadParser.parseRequest(p)
                _ = try? HTTPHeadParser.parseResponse(p, requestWasHEAD: false)
                var framing = ChunkedBodyFraming()
                _ = try? framing.consume(p)
                _ = HTTPHeadParser.endOfHead(p, from: Int.random(in: 0...p.count, using: &rng))
            }
        }
    }
}
