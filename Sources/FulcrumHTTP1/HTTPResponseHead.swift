/// A parsed response head.
public struct HTTPResponseHead: Hashable, Sendable {
    public var status: Int
    public var versionMinor: Int
    public var headers: [HTTPHeaderField]
    public var length: Int
    public var framing: HTTPBodyFraming
    public var keepAlive: Bool
    /// Some line ended in LF alone: forwarding the head unchanged would pass that on.
    public var usesBareLF: Bool
    /// 101 Switching Protocols: the connection becomes a tunnel.
    public var switchesProtocols: Bool { status == 101 }
    /// 1xx other than 101: a final response still follows.
    public var isInterim: Bool { status >= 100 && status < 200 && status != 101 }
}
