/// How the end of a message body is found (RFC 9112 section 6).
public enum HTTPBodyFraming: Hashable, Sendable {
    /// No body (a request without Content-Length or Transfer-Encoding, a HEAD response, 1xx/204/304).
    case none
    case contentLength(UInt64)
    case chunked
    /// A response without length: the body ends when the server closes.
    case untilClose
}
