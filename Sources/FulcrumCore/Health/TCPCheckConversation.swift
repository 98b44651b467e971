/// `option tcp-check` rules run in order: `send`/`send-binary` write, `expect` waits
/// for bytes that match (`string`, `rstring`, `binary`, `rbinary`, negated with `!`),
/// `comment` names the next step in failure messages. Each expect looks only at what
/// arrived after the previous one matched. The protocol checks (`redis-check`,
/// `smtpchk`, `pgsql-check`, `mysql-check`, `ssl-hello-chk`) are such scripts too.
public struct TCPCheckConversation: CheckConversation, Hashable {
    public enum Match: Hashable, Sendable {
        case string(String)
        case stringPattern(CheckPattern)
        case binary([UInt8])
        /// Matched against the bytes written as uppercase hexadecimal, as HAProxy does.
        case binaryPattern(CheckPattern)
    }

    public enum Step: Hashable, Sendable {
        case send([UInt8])
        case expect(Match, negated: Bool, comment: String?)
    }

    public let steps: [Step]
    private var next = 0
    private var consumed = 0
    static let maxAnswer = 16384

    public init(steps: [Step]) {
        self.steps = steps
    }

    var hasExpect: Bool {
        steps.contains { if case .expect = $0 { return true } else { return false } }
    }

    public mutating func start() -> CheckStep { advance([]) }

    public mutating func received(_ bytes: [UInt8]) -> CheckStep { advance(bytes) }

    private mutating func advance(_ bytes: [UInt8]) -> CheckStep {
        var out: [UInt8] = []
        while next < steps.count {
            switch steps[next] {
            case .send(let data):
                out += data
                next += 1
            case .expect(let match, let negated, _):
                let fresh = Array(bytes[min(consumed, bytes.count)...])
                if fresh.isEmpty { return out.isEmpty ? .wait : .send(out) }
                var matched = Self.matches(match, fresh)
                if negated { matched.toggle() }
                if matched {
                    consumed = bytes.count
                    next += 1
                } else if !negated && fresh.count < Self.maxAnswer {
                    // The match may still come in the next bytes.
                    return out.isEmpty ? .wait : .send(out)
                } else {
                    return .finished(failure(match, negated: negated))
                }
            }
        }
        let result = hasExpect ? CheckResult(.l7ok, info: "(tcp-check)") : CheckResult(.l4ok)
        return out.isEmpty ? .finished(result) : .finishedAfterSending(out, result)
    }

    public func ended(timedOut: Bool, received bytes: [UInt8]) -> CheckResult {
        guard next < steps.count, case .expect(let match, let negated, let comment) = steps[next] else {
            return hasExpect ? CheckResult(.l7ok, info: "(tcp-check)") : CheckResult(.l4ok)
        }
        let place = "at step \(next + 1) of tcp-check (\(comment ?? Self.describe(match, negated: negated)))"
        // HAProxy's text starts with a space here; kept, so log searches match.
        if timedOut { return CheckResult(.l7timeout, info: " " + place) }
        if bytes.count <= consumed { return CheckResult(.l7invalidResponse, info: "TCPCHK got an empty response \(place)") }
        return failure(match, negated: negated)
    }

    func failure(_ match: Match, negated: Bool) -> CheckResult {
        if case .expect(_, _, let comment?) = steps[next] {
            return CheckResult(.l7invalidResponse, info: comment)
        }
        return CheckResult(.l7invalidResponse, info: "TCPCHK \(negated ? "matched unwanted" : "did not match") content '\(Self.pattern(match))' at step \(next + 1)")
    }

    static func matches(_ match: Match, _ bytes: [UInt8]) -> Bool {
        switch match {
        case .string(let needle):
            return contains(bytes, Array(needle.utf8))
        case .stringPattern(let pattern):
            return pattern.matches(String(decoding: bytes, as: UTF8.self))
        case .binary(let needle):
            return contains(bytes, needle)
        case .binaryPattern(let pattern):
            return pattern.matches(hex(bytes))
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// "deadbeef" to bytes; nil when it is not hexadecimal.
    public static func bytes(fromHex text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    static func pattern(_ match: Match) -> String {
        switch match {
        case .string(let s): return s
        case .stringPattern(let p): return p.source
        case .binary(let b): return hex(b)
        case .binaryPattern(let p): return p.source
        }
    }

    static func describe(_ match: Match, negated: Bool) -> String {
        let kind: String
        switch match {
        case .string: kind = "string"
        case .stringPattern: kind = "rstring"
        case .binary: kind = "binary"
        case .binaryPattern: kind = "rbinary"
        }
        return "expect \(negated ? "! " : "")\(kind) '\(pattern(match))'"
    }
}
