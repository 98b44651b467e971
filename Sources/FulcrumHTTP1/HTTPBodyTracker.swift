/// Follows one message body through its framing and says, for each batch of bytes,
/// how many belong to the body: the proxy forwards exactly those and keeps the rest
/// (the next pipelined request) for later.
public struct HTTPBodyTracker: Sendable {
    enum Mode: Sendable {
        case length(remaining: UInt64)
        case chunked(ChunkedBodyFraming)
        case untilClose
    }

    var mode: Mode

    public init(_ framing: HTTPBodyFraming) {
        switch framing {
        case .none: mode = .length(remaining: 0)
        case .contentLength(let n): mode = .length(remaining: n)
        case .chunked: mode = .chunked(ChunkedBodyFraming())
        case .untilClose: mode = .untilClose
        }
    }

    public var isFinished: Bool {
        switch mode {
        case .length(let remaining): return remaining == 0
        case .chunked(let framing): return framing.isFinished
        case .untilClose: return false
        }
    }

    /// True when only the peer closing ends the body.
    public var endsWithClose: Bool {
        if case .untilClose = mode { return true }
        return false
    }

    /// Consumes the body bytes at the start of `bytes`.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> ChunkedBodyFraming.Progress {
        switch mode {
        case .length(let remaining):
            let take = min(UInt64(bytes.count), remaining)
            mode = .length(remaining: remaining - take)
            return .init(consumed: Int(take), finished: remaining == take)
        case .chunked(var framing):
            let progress = try framing.consume(bytes)
            mode = .chunked(framing)
            return progress
        case .untilClose:
            return .init(consumed: bytes.count, finished: false)
        }
    }

    /// For a length-framed body, the bytes still to come (to skip a large body without
    /// looking at it).
    public var remainingLength: UInt64? {
        if case .length(let remaining) = mode { return remaining }
        return nil
    }
}
