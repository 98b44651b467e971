/// A parsed request head: offsets into the bytes it was parsed from, plus what the
/// proxy needs to decide (framing, persistence, upgrade, 100-continue).
public struct HTTPRequestHead: Hashable, Sendable {
    public var method: Range<Int>
    public var target: Range<Int>
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var versionMinor: Int
    public var headers: [HTTPHeaderField]
    /// Bytes of the head, final empty line included: the body (if any) starts here.
    public var length: Int
    public var framing: HTTPBodyFraming
    public var keepAlive: Bool
    public var upgrade: Bool
    public var expectContinue: Bool
    public var isHEAD: Bool
    /// GET, HEAD, OPTIONS, TRACE, PUT or DELETE.
    public var isIdempotent: Bool
    /// Some line ended in LF alone: forwarding the head unchanged would pass that on.
    public var usesBareLF: Bool
}
