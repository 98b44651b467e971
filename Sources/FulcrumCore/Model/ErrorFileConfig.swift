import HAProxyConfig

/// `errorfile CODE PATH`: the response to send, read once at load time. HAProxy sends
/// such a file verbatim, so the bytes are kept exactly as they are on disk.
/// `http-error status CODE ...` describes the response by its parts instead: built once
/// here when nothing in it depends on the request, else kept as `reply` and rendered
/// per request (`lf-string`, `lf-file`, a `hdr` value with `%` variables).
public struct ErrorFileConfig: Hashable, Sendable {
    public var status: Int
    public var path: String
    /// The whole message; empty when `reply` is rendered per request.
    public var contents: [UInt8]
    public var reply: HTTPReply?
    public var location: SourceLocation

    public init(status: Int, path: String, contents: [UInt8], location: SourceLocation) {
        self.status = status
        self.path = path
        self.contents = contents
        self.location = location
    }

    public init(reply: HTTPReply, location: SourceLocation) {
        status = reply.status
        path = ""
        self.location = location
        if reply.isConstant {
            contents = Self.response(reply.status, contentType: reply.contentType, body: reply.bodyFormat?.constantBytes ?? reply.body,
                                     headers: reply.headers.map { ($0.name, String(decoding: $0.value.constantBytes, as: UTF8.self)) })
        } else {
            contents = []
            self.reply = reply
        }
    }

    /// The status codes HAProxy can produce itself and so lets one replace.
    public static let supportedStatuses = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504]
}

extension ErrorFileConfig {
    static let reasons: [Int: String] = [
        200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone", 413: "Payload Too Large", 425: "Too Early",
        429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
        503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    /// The response `http-error status N ... string S` describes, as HAProxy builds it:
    /// the `hdr` headers, then content-length and content-type.
    static func response(_ code: Int, contentType: String?, body: [UInt8], headers: [(String, String)]) -> [UInt8] {
        var head = "HTTP/1.1 \(code) \(reasons[code] ?? "Error")\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "content-length: \(body.count)\r\n"
        if let contentType { head += "content-type: \(contentType)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }
}

/// `errorfiles NAME [CODE...]`: the error files of an `http-errors` section, resolved
/// once every section is read.
public struct ErrorFilesImport: Hashable, Sendable {
    public var section: String
    public var codes: [Int]
    public var location: SourceLocation
    /// `http-error status N errorfiles NAME`: replaces the proxy's own page for N
    /// (an `errorfiles` line only fills codes the proxy has no page for).
    public var overrides = false
}
