/// `redirect location|prefix|scheme <to> [code N] [drop-query] [append-slash]
/// [set-cookie NAME[=VALUE]] [clear-cookie NAME]`, as the `redirect` keyword and the
/// `http-request redirect` action take it.
public struct HTTPRedirect: Sendable {
    public enum Kind: Sendable { case location, prefix, scheme }

    public var kind: Kind
    public var location: LogFormat
    public var code: Int
    public var dropQuery = false
    public var appendSlash = false
    public var setCookie: String?
    public var clearCookie: String?

    /// The statuses HAProxy's deny/tarpit accept, and their reasons.
    public static let errorReasons: [Int: String] = [
        200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone", 413: "Payload Too Large", 425: "Too Early",
        429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
        503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    public static let reasons: [Int: String] = [301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect"]

    public init(parsing args: [String]) throws(ConfigError) {
        var p = RuleArguments(action: "redirect", args: args)
        let kindWord = try p.next("location, prefix or scheme")
        switch kindWord {
        case "location": kind = .location
        case "prefix": kind = .prefix
        case "scheme": kind = .scheme
        default: throw ConfigError("'redirect' expects 'location', 'prefix' or 'scheme' (got '\(kindWord)').")
        }
        location = try p.format("a destination after '\(kindWord)'")
        code = 302
        while let word = p.optional() {
            switch word {
            case "code":
                let text = try p.next("a code after 'code'")
                guard let n = Int(text), Self.reasons[n] != nil else {
                    throw ConfigError("'redirect': unsupported HTTP code '\(text)' (expects 301, 302, 303, 307 or 308).")
                }
                code = n
            case "drop-query": dropQuery = true
            case "append-slash": appendSlash = true
            case "set-cookie": setCookie = try p.next("a cookie after 'set-cookie'")
            case "clear-cookie": clearCookie = try p.next("a cookie after 'clear-cookie'")
            default:
                throw ConfigError("'redirect': unexpected argument '\(word)'.", hint: "expects [code N] [drop-query] [append-slash] [set-cookie NAME[=VALUE]] [clear-cookie NAME]")
            }
        }
    }

    /// The Location value for a request whose target and Host are given, with the
    /// rendered destination.
    public func locationValue(destination: [UInt8], target: ArraySlice<UInt8>, host: [UInt8]?) -> [UInt8]? {
        var uri = Array(target)
        if dropQuery, let q = uri.firstIndex(of: UInt8(ascii: "?")) { uri = Array(uri[..<q]) }
        if appendSlash, dropQuery, uri.last != UInt8(ascii: "/") { uri.append(UInt8(ascii: "/")) }
        switch kind {
        case .location:
            return destination
        case .prefix:
            if destination == [UInt8(ascii: "/")] { return uri }
            return destination + uri
        case .scheme:
            guard let host else { return nil }
            return destination + Array("://".utf8) + host + uri
        }
    }
}
