/// Follows a chunked body (RFC 9112 section 7.1) without decoding it: it only says how
/// many of the bytes offered belong to the body, so the proxy forwards them unchanged and
/// keeps the rest (a pipelined request) for later. Chunk data is skipped in one step;
/// only size lines and trailers are looked at byte by byte. Strict CRLF everywhere.
public struct ChunkedBodyFraming: Sendable {
    enum State: Sendable, Equatable {
        case size(value: UInt64, digits: Int)
        case extensionText(value: UInt64, length: Int)
        case sizeLF(value: UInt64)
        case data(remaining: UInt64)
        case dataCR
        case dataLF
        case trailerStart
        case trailerText(length: Int)
        case trailerLF(empty: Bool)
        case done
    }

    public struct Progress: Equatable, Sendable {
        /// Bytes of the input that belong to the body (forward these).
        public var consumed: Int
        /// The final chunk and trailers are complete.
        public var finished: Bool
    }

    var state: State = .size(value: 0, digits: 0)
    /// A size line or trailer line longer than this is refused (it is not data).
    static let maximumLineLength = 4096
    static let CR = UInt8(ascii: "\r"), LF = UInt8(ascii: "\n")

    public init() {}

    public var isFinished: Bool { state == .done }

    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Progress {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            switch state {
            case .done:
                return Progress(consumed: i, finished: true)
            case .size(let value, let digits):
                if let d = Self.hexValue(b) {
                    guard digits < 15 else { throw HTTPParseError(.badChunkSize, at: i) }
                    state = .size(value: value << 4 | UInt64(d), digits: digits + 1)
                } else if digits > 0 && b == Self.CR {
                    state = .sizeLF(value: value)
                } else if digits > 0 && (b == UInt8(ascii: ";") || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")) {
                    state = .extensionText(value: value, length: 0)
                } else {
                    throw HTTPParseError(.badChunkSize, at: i)
                }
                i += 1
            case .extensionText(let value, let length):
                if b == Self.CR {
                    state = .sizeLF(value: value)
                } else {
                    guard b != Self.LF, length < Self.maximumLineLength else { throw HTTPParseError(.badChunkSize, at: i) }
                    state = .extensionText(value: value, length: length + 1)
                }
                i += 1
            case .sizeLF(let value):
                guard b == Self.LF else { throw HTTPParseError(.badChunkSize, at: i) }
                state = value == 0 ? .trailerStart : .data(remaining: value)
                i += 1
            case .data(let remaining):
                let take = min(UInt64(n - i), remaining)
                i += Int(take)
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                guard b == Self.CR else { throw HTTPParseError(.badChunkTerminator, at: i) }
                state = .dataLF
                i += 1
            case .dataLF:
                guard b == Self.LF else { throw HTTPParseError(.badChunkTerminator, at: i) }
                state = .size(value: 0, digits: 0)
                i += 1
            case .trailerStart:
                state = b == Self.CR ? .trailerLF(empty: true) : .trailerText(length: 1)
                guard b != Self.LF else { throw HTTPParseError(.badTrailer, at: i) }
                i += 1
            case .trailerText(let length):
                if b == Self.CR {
                    state = .trailerLF(empty: false)
                } else {
                    guard b != Self.LF, length < Self.maximumLineLength else { throw HTTPParseError(.badTrailer, at: i) }
                    state = .trailerText(length: length + 1)
                }
                i += 1
            case .trailerLF(let empty):
                guard b == Self.LF else { throw HTTPParseError(.badTrailer, at: i) }
                state = empty ? .done : .trailerStart
                i += 1
            }
        }
        return Progress(consumed: i, finished: state == .done)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
