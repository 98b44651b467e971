/// An answer of Fulcrum's own described by its parts, as `return` and `http-error`
/// write it: a status, a content type, a body given as it is (`string`, `file`) or as
/// a log-format rendered per request (`lf-string`, `lf-file`), and headers whose
/// values are log-formats.
public struct HTTPReply: Hashable, Sendable {
    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: LogFormat
    }

    public var status: Int
    public var contentType: String?
    /// The body as written; unused when `bodyFormat` renders it.
    public var body: [UInt8] = []
    public var bodyFormat: LogFormat?
    public var headers: [Header] = []

    public init(status: Int) {
        self.status = status
    }

    /// Every log-format the reply renders, for compiling their `%[...]` samples.
    public var formats: [LogFormat] { headers.map(\.value) + (bodyFormat.map { [$0] } ?? []) }

    /// Nothing in it depends on the request: it can be built once at start-up.
    public var isConstant: Bool { formats.allSatisfy(\.isConstant) }

    /// Reads one of the payload words `return` and `http-error` share (`content-type`,
    /// `string`, `lf-string`, `file`, `lf-file`, `hdr`) with its values; false, and
    /// nothing read, for any other word.
    mutating func read(_ word: String, _ args: inout RuleArguments, keyword: String, readFile: (String) -> [UInt8]?) throws(ConfigError) -> Bool {
        switch word {
        case "content-type":
            contentType = try args.next("a type after 'content-type'")
        case "string":
            body = Array(try args.next("a string after 'string'").utf8)
            bodyFormat = nil
        case "lf-string":
            bodyFormat = try args.format("a format after 'lf-string'")
        case "file", "lf-file":
            let path = try args.next("a file after '\(word)'")
            guard let bytes = readFile(path) else { throw ConfigError("'\(keyword)': error opening file '\(path)'.") }
            if word == "file" {
                body = bytes
                bodyFormat = nil
            } else {
                bodyFormat = try LogFormat(parsing: String(decoding: bytes, as: UTF8.self))
            }
        case "hdr":
            let what = "<name> <fmt> after 'hdr'"
            headers.append(Header(name: try args.next(what), value: try args.format(what)))
        default:
            return false
        }
        return true
    }

    /// A body, or any log-format one (even an empty file), needs a content type, as
    /// HAProxy requires.
    func checkContentType(_ keyword: String) throws(ConfigError) {
        if (bodyFormat != nil || !body.isEmpty) && contentType == nil {
            throw ConfigError("'\(keyword)': a 'content-type' is required with a body.")
        }
    }
}
