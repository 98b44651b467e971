#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses HTTP/1.0 and 1.1 message heads in place (RFC 9112), recording offsets. It is
/// strict where leniency lets two parties disagree on where a message ends: several
/// Content-Length values, Content-Length with Transfer-Encoding, chunked not last,
/// obsolete line folding, white space before a colon, control characters.
public enum HTTPHeadParser {
    static let CR = UInt8(ascii: "\r"), LF = UInt8(ascii: "\n"), SP = UInt8(ascii: " "), HT = UInt8(ascii: "\t")

    /// The length of the head (through its empty line) if `bytes` holds all of it.
    /// `from` lets a caller resume where the previous scan of a growing buffer stopped;
    /// pass the previous `bytes.count` (it backs up to re-check a split line ending).
    public static func endOfHead(_ bytes: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        var i = max(0, from - 3)
        let n = bytes.count
        while let lf = index(of: LF, in: bytes, from: i, to: n) {
            // An empty line is LF LF or LF CR LF.
            if lf + 1 < n && bytes[lf + 1] == LF { return lf + 2 }
            if lf + 2 < n && bytes[lf + 1] == CR && bytes[lf + 2] == LF { return lf + 3 }
            i = lf + 1
        }
        return nil
    }

    /// The first `byte` in `from..<to`, found by memchr (vectorised), which scans a head
    /// several times faster than a loop over the bytes.
    @inline(__always)
    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(byte), to - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    // MARK: - requests

    public static func parseRequest(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPRequestHead {
        guard let length = endOfHead(bytes) else { throw HTTPParseError(.badRequestLine, at: bytes.count) }
        var lines = LineReader(bytes: bytes, end: length)
        // RFC 9112 2.2: empty lines before the request line are ignored.
        var first = try lines.next()
        while let line = first, line.isEmpty { first = try lines.next() }
        guard let requestLine = first else { throw HTTPParseError(.badRequestLine, at: 0) }

        var i = requestLine.lowerBound
        let end = requestLine.upperBound
        let methodStart = i
        while i < end && isToken(bytes[i]) { i += 1 }
        guard i > methodStart, i < end, bytes[i] == SP else { throw HTTPParseError(.badRequestLine, at: i) }
        let method = methodStart..<i
        i += 1
        let targetStart = i
        while i < end && bytes[i] > SP && bytes[i] != 0x7F { i += 1 }
        guard i > targetStart, i < end, bytes[i] == SP else { throw HTTPParseError(.badRequestLine, at: i) }
        let target = targetStart..<i
        i += 1
        let versionMinor = try parseVersion(bytes, i..<end, error: .badRequestLine)

        let headers = try parseHeaders(bytes, &lines)
        let facts = try HeaderFacts(bytes, headers)
        if facts.hosts > 1 { throw HTTPParseError(.duplicateHost, at: 0) }
        if facts.hosts == 0 && versionMinor == 1 { throw HTTPParseError(.missingHost, at: 0) }
        let framing = try framing(bytes, transferEncoding: facts.transferEncoding, contentLength: facts.contentLength, versionMinor: versionMinor, isRequest: true)
        return HTTPRequestHead(method: method, target: target, versionMinor: versionMinor, headers: headers, length: length,
                               framing: framing, keepAlive: facts.keepAlive(versionMinor: versionMinor),
                               upgrade: facts.connectionUpgrade && facts.upgradeHeader, expectContinue: facts.expectContinue,
                               isHEAD: equals(bytes, method, "HEAD"), isIdempotent: isIdempotent(bytes, method),
                               usesBareLF: lines.sawBareLF)
    }

    // MARK: - responses

    public static func parseResponse(_ bytes: UnsafeRawBufferPointer, requestWasHEAD: Bool) throws(HTTPParseError) -> HTTPResponseHead {
        guard let length = endOfHead(bytes) else { throw HTTPParseError(.badStatusLine, at: bytes.count) }
        var lines = LineReader(bytes: bytes, end: length)
        guard let statusLine = try lines.next(), !statusLine.isEmpty else { throw HTTPParseError(.badStatusLine, at: 0) }
        let start = statusLine.lowerBound, end = statusLine.upperBound
        guard end - start >= 12 else { throw HTTPParseError(.badStatusLine, at: start) }
        let versionMinor = try parseVersion(bytes, start..<(start + 8), error: .badStatusLine)
        guard bytes[start + 8] == SP else { throw HTTPParseError(.badStatusLine, at: start + 8) }
        var status = 0
        for k in (start + 9)..<(start + 12) {
            guard bytes[k] >= UInt8(ascii: "0"), bytes[k] <= UInt8(ascii: "9") else { throw HTTPParseError(.badStatusLine, at: k) }
            status = status * 10 + Int(bytes[k] - UInt8(ascii: "0"))
        }
        guard status >= 100, end == start + 12 || bytes[start + 12] == SP else { throw HTTPParseError(.badStatusLine, at: start + 9) }
        let headers = try parseHeaders(bytes, &lines)
        let facts = try HeaderFacts(bytes, headers)
        var keepAlive = facts.keepAlive(versionMinor: versionMinor)
        var framing: HTTPBodyFraming
        if requestWasHEAD || (status >= 100 && status < 200) || status == 204 || status == 304 {
            framing = .none
        } else {
            framing = try Self.framing(bytes, transferEncoding: facts.transferEncoding, contentLength: facts.contentLength, versionMinor: versionMinor, isRequest: false)
            if framing == .untilClose { keepAlive = false }
        }
        return HTTPResponseHead(status: status, versionMinor: versionMinor, headers: headers, length: length, framing: framing,
                                keepAlive: keepAlive, usesBareLF: lines.sawBareLF)
    }

    // MARK: - shared pieces

    /// RFC 9110 section 9.2.2: a request with one of these methods may be sent again.
    static func isIdempotent(_ bytes: UnsafeRawBufferPointer, _ method: Range<Int>) -> Bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains { equals(bytes, method, $0) }
    }

    static func framing(_ bytes: UnsafeRawBufferPointer, transferEncoding: [Range<Int>], contentLength: UInt64?, versionMinor: Int, isRequest: Bool) throws(HTTPParseError) -> HTTPBodyFraming {
        if !transferEncoding.isEmpty {
            if contentLength != nil { throw HTTPParseError(.contentLengthWithTransferEncoding, at: transferEncoding[0].lowerBound) }
            if versionMinor == 0 { throw HTTPParseError(.transferEncodingInHTTP10, at: transferEncoding[0].lowerBound) }
            let known = ["chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"]
            for (k, coding) in transferEncoding.enumerated() {
                guard known.contains(where: { equalsIgnoringCase(bytes, coding, $0) }) else {
                    throw HTTPParseError(.unsupportedTransferCoding, at: coding.lowerBound)
                }
                if equalsIgnoringCase(bytes, coding, "chunked") && k != transferEncoding.count - 1 {
                    throw HTTPParseError(.chunkedNotFinal, at: coding.lowerBound)
                }
            }
            if equalsIgnoringCase(bytes, transferEncoding.last!, "chunked") { return .chunked }
            if isRequest { throw HTTPParseError(.chunkedNotFinal, at: transferEncoding.last!.lowerBound) }
            return .untilClose
        }
        if let contentLength { return contentLength == 0 && isRequest ? .none : .contentLength(contentLength) }
        return isRequest ? .none : .untilClose
    }

    static func parseVersion(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, error: HTTPParseError.Reason) throws(HTTPParseError) -> Int {
        guard range.count == 8, equals(bytes, range.lowerBound..<(range.lowerBound + 5), "HTTP/"), bytes[range.lowerBound + 6] == UInt8(ascii: ".") else {
            throw HTTPParseError(error, at: range.lowerBound)
        }
        let major = bytes[range.lowerBound + 5], minor = bytes[range.lowerBound + 7]
        guard major >= UInt8(ascii: "0"), major <= UInt8(ascii: "9"), minor >= UInt8(ascii: "0"), minor <= UInt8(ascii: "9") else {
            throw HTTPParseError(error, at: range.lowerBound)
        }
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else { throw HTTPParseError(.unsupportedVersion, at: range.lowerBound) }
        return Int(minor - UInt8(ascii: "0"))
    }

    static func parseHeaders(_ bytes: UnsafeRawBufferPointer, _ lines: inout LineReader) throws(HTTPParseError) -> [HTTPHeaderField] {
        var fields: [HTTPHeaderField] = []
        // One allocation for a usual head instead of growing through 1, 2, 4 and 8.
        fields.reserveCapacity(16)
        while let line = try lines.next(), !line.isEmpty {
            let first = bytes[line.lowerBound]
            if first == SP || first == HT { throw HTTPParseError(.obsoleteLineFolding, at: line.lowerBound) }
            var i = line.lowerBound
            while i < line.upperBound && isToken(bytes[i]) { i += 1 }
            guard i < line.upperBound, bytes[i] == UInt8(ascii: ":") else {
                throw HTTPParseError(i == line.lowerBound || i == line.upperBound ? .badHeaderLine : .badHeaderName, at: i)
            }
            guard i > line.lowerBound else { throw HTTPParseError(.badHeaderName, at: i) }
            let name = line.lowerBound..<i
            var valueStart = i + 1
            var valueEnd = line.upperBound
            for k in valueStart..<valueEnd where !isFieldValueByte(bytes[k]) { throw HTTPParseError(.badHeaderValue, at: k) }
            while valueStart < valueEnd && (bytes[valueStart] == SP || bytes[valueStart] == HT) { valueStart += 1 }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == SP || bytes[valueEnd - 1] == HT) { valueEnd -= 1 }
            fields.append(HTTPHeaderField(line: line, name: name, value: valueStart..<valueEnd))
        }
        return fields
    }

    static func parseContentLength(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) -> UInt64 {
        guard !range.isEmpty, range.count <= 19 else { throw HTTPParseError(.badContentLength, at: range.lowerBound) }
        var value: UInt64 = 0
        for k in range {
            let b = bytes[k]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { throw HTTPParseError(.badContentLength, at: k) }
            value = value * 10 + UInt64(b - UInt8(ascii: "0"))
        }
        return value
    }

    /// Comma-separated list items with optional white space, empty items skipped.
    /// Handed to `body` one by one: the heads of most messages have a `Connection` or
    /// `Content-Length` header, and an array per header was an allocation per message.
    /// Returns how many there were.
    @discardableResult
    static func forEachListItem(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (Range<Int>) throws(HTTPParseError) -> Void) throws(HTTPParseError) -> Int {
        var count = 0
        var start = range.lowerBound
        for k in range.lowerBound...range.upperBound where k == range.upperBound || bytes[k] == UInt8(ascii: ",") {
            var a = start, b = k
            while a < b && (bytes[a] == SP || bytes[a] == HT) { a += 1 }
            while b > a && (bytes[b - 1] == SP || bytes[b - 1] == HT) { b -= 1 }
            if a < b {
                count += 1
                try body(a..<b)
            }
            start = k + 1
        }
        return count
    }

    static func isToken(_ b: UInt8) -> Bool { tokenTable[Int(b)] }

    private static let tokenTable: [Bool] = (0..<256).map { v in
        let b = UInt8(v)
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// Visible characters, space, tab and obs-text; never NUL, CR, LF or other controls.
    static func isFieldValueByte(_ b: UInt8) -> Bool { b == HT || (b >= SP && b != 0x7F) }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        for k in 0..<range.count where bytes[range.lowerBound + k] != p[k] { return false }
        return true
    }

    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: String) -> Bool {
        guard range.count == lowercase.utf8.count else { return false }
        var k = range.lowerBound
        for c in lowercase.utf8 {
            var b = bytes[k]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b += 32 }
            if b != c { return false }
            k += 1
        }
        return true
    }
}

/// What the headers say about framing and persistence, gathered in one pass that
/// requests and responses share (so the two cannot come to disagree on framing).
struct HeaderFacts {
    var contentLength: UInt64? = nil
    var transferEncoding: [Range<Int>] = []
    var hosts = 0
    var sawClose = false
    var sawKeepAlive = false
    var connectionUpgrade = false
    var upgradeHeader = false
    var expectContinue = false

    init(_ bytes: UnsafeRawBufferPointer, _ headers: [HTTPHeaderField]) throws(HTTPParseError) {
        typealias P = HTTPHeadParser
        for field in headers {
            // The names this looks for all differ in length: one comparison per header.
            switch field.name.count {
            case 4, 6, 7, 10, 14, 17: break
            default: continue
            }
            if P.equalsIgnoringCase(bytes, field.name, "content-length") {
                let count = try P.forEachListItem(bytes, field.value) { item throws(HTTPParseError) in
                    let value = try P.parseContentLength(bytes, item)
                    if let existing = contentLength, existing != value { throw HTTPParseError(.conflictingContentLength, at: field.line.lowerBound) }
                    contentLength = value
                }
                if count == 0 { throw HTTPParseError(.badContentLength, at: field.value.lowerBound) }
            } else if P.equalsIgnoringCase(bytes, field.name, "transfer-encoding") {
                try P.forEachListItem(bytes, field.value) { transferEncoding.append($0) }
            } else if P.equalsIgnoringCase(bytes, field.name, "host") {
                hosts += 1
            } else if P.equalsIgnoringCase(bytes, field.name, "connection") {
                try P.forEachListItem(bytes, field.value) { item in
                    if P.equalsIgnoringCase(bytes, item, "close") { sawClose = true }
                    else if P.equalsIgnoringCase(bytes, item, "keep-alive") { sawKeepAlive = true }
                    else if P.equalsIgnoringCase(bytes, item, "upgrade") { connectionUpgrade = true }
                }
            } else if P.equalsIgnoringCase(bytes, field.name, "upgrade") {
                upgradeHeader = true
            } else if P.equalsIgnoringCase(bytes, field.name, "expect") {
                expectContinue = P.equalsIgnoringCase(bytes, field.value, "100-continue")
            }
        }
    }

    /// HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive`; `close` wins.
    func keepAlive(versionMinor: Int) -> Bool {
        !sawClose && (versionMinor == 1 || sawKeepAlive)
    }
}

/// Splits a head into lines ending in CRLF or a bare LF; a CR anywhere else is refused.
struct LineReader {
    let bytes: UnsafeRawBufferPointer
    let end: Int
    var position = 0
    /// A line ended in LF alone (accepted, as RFC 9112 allows, but worth rewriting).
    private(set) var sawBareLF = false

    mutating func next() throws(HTTPParseError) -> Range<Int>? {
        guard position < end, let i = HTTPHeadParser.index(of: HTTPHeadParser.LF, in: bytes, from: position, to: end) else { return nil }
        var lineEnd = i
        if lineEnd > position && bytes[lineEnd - 1] == HTTPHeadParser.CR { lineEnd -= 1 } else { sawBareLF = true }
        if let cr = HTTPHeadParser.index(of: HTTPHeadParser.CR, in: bytes, from: position, to: lineEnd) {
            throw HTTPParseError(.badHeaderLine, at: cr)
        }
        let line = position..<lineEnd
        position = i + 1
        return line
    }
}
