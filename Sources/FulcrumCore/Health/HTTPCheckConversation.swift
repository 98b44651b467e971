/// `option httpchk` with `http-check send` and `http-check expect`: one request, then
/// the status line (and the body, when an expectation needs it) judged as HAProxy
/// does. Without an `expect`, any 2xx or 3xx passes.
public struct HTTPCheckConversation: CheckConversation, Hashable {
    public enum Match: Hashable, Sendable {
        case status([ClosedRange<Int>])
        case statusPattern(CheckPattern)
        case string(String)
        case stringPattern(CheckPattern)
    }

    public struct Expectation: Hashable, Sendable {
        public var match: Match
        public var negated: Bool

        public init(_ match: Match, negated: Bool = false) {
            self.match = match
            self.negated = negated
        }

        var needsBody: Bool {
            switch match {
            case .status, .statusPattern: return false
            case .string, .stringPattern: return true
            }
        }
    }

    public let request: [UInt8]
    public let expectations: [Expectation]
    /// HAProxy judges what fits in one buffer.
    static let maxAnswer = 16384

    public init(request: [UInt8], expectations: [Expectation]) {
        self.request = request
        self.expectations = expectations
    }

    /// The request `option httpchk METHOD URI VERSION` and `http-check send` describe.
    /// A version written with "\r\n" and header lines after it (the legacy way to add
    /// a Host header) sends those lines too.
    public static func request(method: String, uri: String, version: String, headers: [(String, String)], body: String?) -> [UInt8] {
        var versionLines = Self.lines(Array(version.utf8))
        let firstLine = versionLines.removeFirst()
        var text = "\(method) \(uri) \(firstLine)\r\n"
        for line in versionLines where !line.isEmpty { text += line + "\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        let named = Set((versionLines.compactMap { $0.split(separator: ":").first.map { $0.lowercased() } }) + headers.map { $0.0.lowercased() })
        if firstLine == "HTTP/1.1" && !named.contains("connection") { text += "Connection: close\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        return Array(text.utf8)
    }

    public mutating func start() -> CheckStep { .send(request) }

    public mutating func received(_ bytes: [UInt8]) -> CheckStep {
        guard let head = Self.parseHead(bytes) else {
            if bytes.count >= Self.maxAnswer || Self.cannotBeHTTP(bytes) { return .finished(CheckResult(.l7invalidResponse)) }
            return .wait
        }
        let body = Array(bytes[head.bodyStart...])
        let bodyComplete = head.contentLength.map { body.count >= $0 } ?? false
        if expectations.contains(where: \.needsBody) && !bodyComplete && bytes.count < Self.maxAnswer { return .wait }
        return .finished(judge(head, body: body))
    }

    public func ended(timedOut: Bool, received bytes: [UInt8]) -> CheckResult {
        if let head = Self.parseHead(bytes), !timedOut || !expectations.contains(where: \.needsBody) {
            return judge(head, body: Array(bytes[head.bodyStart...]))
        }
        if timedOut { return CheckResult(.l7timeout) }
        return CheckResult(.l7invalidResponse)
    }

    func judge(_ head: Head, body: [UInt8]) -> CheckResult {
        if expectations.isEmpty {
            let ok = (200..<400).contains(head.status)
            return CheckResult(ok ? .l7ok : .l7wrongStatus, code: head.status, info: ok ? nil : head.reason)
        }
        let text = String(decoding: body, as: UTF8.self)
        for expectation in expectations {
            var matched: Bool
            switch expectation.match {
            case .status(let ranges): matched = ranges.contains { $0.contains(head.status) }
            case .statusPattern(let pattern): matched = pattern.matches(String(head.status))
            case .string(let needle): matched = text.contains(needle)
            case .stringPattern(let pattern): matched = pattern.matches(text)
            }
            if expectation.negated { matched.toggle() }
            guard matched else {
                if expectation.needsBody {
                    return CheckResult(.l7invalidResponse, info: "HTTP content check did not match")
                }
                return CheckResult(.l7wrongStatus, code: head.status, info: head.reason)
            }
        }
        return CheckResult(.l7ok, code: head.status)
    }

    struct Head {
        var status: Int
        var reason: String
        var bodyStart: Int
        var contentLength: Int?
    }

    /// The status line and headers, once they are complete.
    static func parseHead(_ bytes: [UInt8]) -> Head? {
        guard let end = endOfHead(bytes) else { return nil }
        let headLines = Self.lines(Array(bytes[..<end]))
        let statusLine = headLines[0]
        guard statusLine.hasPrefix("HTTP/1."), statusLine.count >= 12 else { return nil }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[1].count == 3, let status = Int(parts[1]) else { return nil }
        var contentLength: Int?
        for line in headLines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length" {
                contentLength = Int(pair[1].trimmingCharacters(in: " \t"))
            }
        }
        return Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", bodyStart: end, contentLength: contentLength)
    }

    /// Lines split on LF with any CR before it dropped (a Swift `String` would keep
    /// "\r\n" together as one character).
    static func lines(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 10, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line[...], as: UTF8.self)
        }
    }

    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 10 {
                if bytes[i + 1] == 10 { return i + 2 }
                if i + 2 < bytes.count && bytes[i + 1] == 13 && bytes[i + 2] == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// An answer whose first bytes already rule out an HTTP status line.
    static func cannotBeHTTP(_ bytes: [UInt8]) -> Bool {
        let prefix = Array("HTTP/1.".utf8)
        let n = min(bytes.count, prefix.count)
        return Array(bytes[..<n]) != Array(prefix[..<n])
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
