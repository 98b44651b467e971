/// Why a message head or body framing was refused, and the status the client gets.
/// Anything ambiguous is refused rather than forwarded (request smuggling).
public struct HTTPParseError: Error, Hashable, Sendable {
    public enum Reason: String, Hashable, Sendable {
        case badRequestLine = "malformed request line"
        case badStatusLine = "malformed status line"
        case unsupportedVersion = "unsupported HTTP version"
        case badHeaderLine = "malformed header line"
        case badHeaderName = "invalid character in header name"
        case badHeaderValue = "invalid character in header value"
        case obsoleteLineFolding = "obsolete line folding"
        case conflictingContentLength = "several different Content-Length values"
        case badContentLength = "invalid Content-Length"
        case contentLengthWithTransferEncoding = "Content-Length with Transfer-Encoding"
        case unsupportedTransferCoding = "unsupported transfer coding"
        case chunkedNotFinal = "chunked is not the final transfer coding"
        case transferEncodingInHTTP10 = "Transfer-Encoding in an HTTP/1.0 message"
        case duplicateHost = "several Host headers"
        case headTooLarge = "headers too large"
        case badChunkSize = "invalid chunk size"
        case badChunkTerminator = "missing CRLF after chunk data"
        case badTrailer = "malformed trailer"
        case missingHost = "missing Host header in an HTTP/1.1 request"
    }

    public var reason: Reason
    /// Byte offset in the head where the problem was found.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// The status a proxy answers with: 400 for malformed input, 413/431 for size,
    /// 501 for codings it cannot frame, 505 for versions.
    public var status: Int {
        switch reason {
        case .unsupportedTransferCoding: return 501
        case .unsupportedVersion: return 505
        // HAProxy answers 400 to an oversized request head; so does Fulcrum.
        case .headTooLarge: return 400
        default: return 400
        }
    }
}
