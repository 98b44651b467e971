import FulcrumCore
import NIOCore

/// The responses Fulcrum produces itself (400, 408, 502, 503, 504, ...): an `errorfile`
/// when one is configured, sent byte for byte as HAProxy does, otherwise a short
/// built-in page. Built once at start-up; sending one is a buffer copy-on-write.
/// An `http-error` page written as a log-format is rendered for each answer instead,
/// as a `return` rule's is; where no request is known yet (a request that could not
/// be parsed), the built-in page answers, as HAProxy's does.
/// A class: rules carry it along on every request.
final class HTTPErrorPages: Sendable {
    private let pages: [Int: ByteBuffer]
    private let replies: [Int: CompiledHTTPRule]
    /// The `http-errors` sections by name, for `return ... errorfiles <name>`.
    private let sections: [String: [Int: [UInt8]]]

    /// No page of its own: the built-in ones.
    static let builtIn = HTTPErrorPages([])

    static let reasons: [Int: String] = [
        200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone", 413: "Payload Too Large", 425: "Too Early",
        429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
        502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]

    static let explanations: [Int: String] = [
        200: "The service is ready.",
        400: "The request could not be understood.",
        401: "This resource needs authentication.",
        403: "The request was refused by the proxy's rules.",
        404: "Nothing was found for this request.",
        405: "This method is not allowed here.",
        410: "This resource is no longer available.",
        425: "The request was sent too early.",
        429: "Too many requests were sent; try again later.",
        408: "The request was not received in time.",
        413: "The request is too large.",
        431: "The request headers are too large.",
        500: "The proxy failed while handling the request.",
        501: "The request uses a transfer coding this proxy cannot handle.",
        502: "The server sent an invalid response or none at all.",
        503: "No server is available for this request.",
        504: "The server did not answer in time.",
        505: "This HTTP version is not supported.",
    ]

    /// `errorFiles` in order of precedence: later dictionaries override earlier ones.
    /// `replies`: for each of them, the compiled pages of its `http-error`s rendered per
    /// request (`ProxyRuleSet.errorReplies`).
    init(_ errorFiles: [[Int: ErrorFileConfig]], replies: [[Int: CompiledHTTPRule]] = [], sections: [String: [Int: ErrorFileConfig]] = [:]) {
        var pages: [Int: ByteBuffer] = [:], rendered: [Int: CompiledHTTPRule] = [:]
        for (k, files) in errorFiles.enumerated() {
            for (status, file) in files {
                if file.reply != nil {
                    pages[status] = nil
                    rendered[status] = k < replies.count ? replies[k][status] : nil
                } else {
                    pages[status] = ByteBuffer(bytes: file.contents)
                    rendered[status] = nil
                }
            }
        }
        self.pages = pages
        self.replies = rendered
        self.sections = sections.mapValues { $0.mapValues(\.contents) }
    }

    /// Some page is rendered per request: answers need the transaction's samples.
    var rendersPerRequest: Bool { !replies.isEmpty }

    /// A `return` rule's whole message, as head and body.
    func pageParts(_ status: Int, from source: ErrorPageSource, for s: SampleContext?, _ log: RequestLogContext) -> (head: [UInt8], body: [UInt8]) {
        switch source {
        case .proxy: return pageParts(status, for: s, log)
        case .file(let bytes): return Self.split(bytes)
        case .section(let name):
            guard let bytes = sections[name]?[status] else { return pageParts(status, for: s, log) }
            return Self.split(bytes)
        }
    }

    /// The page for `status` as head and body, rendered for the transaction `s` when
    /// it is written as a log-format.
    func pageParts(_ status: Int, for s: SampleContext?, _ log: RequestLogContext) -> (head: [UInt8], body: [UInt8]) {
        if let s, let rule = replies[status], case .respond(let reply) = rule.action {
            return HTTPRuleRunner.answer(reply, samples: rule.samples, s, log)
        }
        return pageParts(status)
    }

    func response(_ status: Int) -> ByteBuffer {
        pages[status] ?? Self.builtIn(status)
    }

    static func builtIn(_ status: Int) -> ByteBuffer {
        ByteBuffer(bytes: builtInBytes(status, keepAlive: false))
    }

    /// The page for a request a rule refused (`deny`): the connection stays open, as
    /// HAProxy keeps it after a deny, unless an errorfile says otherwise.
    func page(_ status: Int, keepAlive: Bool) -> [UInt8] {
        if let custom = pages[status] { return Array(custom.readableBytesView) }
        return Self.builtInBytes(status, keepAlive: keepAlive)
    }

    /// The page for `status` as its head (final empty line included) and its body,
    /// for answers that add headers or decide about the connection themselves.
    func pageParts(_ status: Int) -> (head: [UInt8], body: [UInt8]) {
        Self.split(page(status, keepAlive: true))
    }

    /// A whole message into its head (final empty line included) and body.
    static func split(_ page: [UInt8]) -> (head: [UInt8], body: [UInt8]) {
        var k = 0
        while k + 3 < page.count {
            if page[k] == 13 && page[k + 1] == 10 && page[k + 2] == 13 && page[k + 3] == 10 {
                return (Array(page[..<(k + 4)]), Array(page[(k + 4)...]))
            }
            k += 1
        }
        return (page, [])
    }

    static func builtInBytes(_ status: Int, keepAlive: Bool) -> [UInt8] {
        let reason = reasons[status] ?? "Error"
        let body = "<html><body><h1>\(status) \(reason)</h1>\n\(explanations[status] ?? reason + ".")\n</body></html>\n"
        let head = "HTTP/1.1 \(status) \(reason)\r\ncontent-length: \(body.utf8.count)\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\(keepAlive ? "" : "connection: close\r\n")\r\n"
        return Array((head + body).utf8)
    }
}
