/// Cookie persistence (`cookie NAME insert|rewrite|prefix ...` with `server ... cookie
/// VALUE`): a client that carries a server's value goes back to that server. Pure
/// byte work on header values, so it is tested without sockets.
///
/// - `insert`: Fulcrum sets `NAME=VALUE` on the response when the request did not
///   already name this server; with `indirect` the cookie is taken out of requests
///   before they reach the server; a server's own `NAME` cookie is removed unless
///   `preserve`; `nocache` adds `Cache-Control: private` where a cookie is inserted.
/// - `rewrite`: the server sets `NAME`; its value is replaced by the server's.
/// - `prefix`: the server's `NAME` value becomes `VALUE~value`; requests get it back
///   without the prefix.
/// - none of them: the cookie is only read; the server sets it with its own value.
public struct CookiePersistence: Hashable, Sendable {
    /// Without insert, rewrite or prefix the cookie is only read: the server sets it.
    public enum Mode: Hashable, Sendable { case passive, insert, rewrite, prefix }

    public let name: String
    public let mode: Mode
    public let indirect: Bool
    public let nocache: Bool
    public let preserve: Bool
    public let httpOnly: Bool
    public let secure: Bool
    public let domains: [String]
    /// The cookie value of each server, by index (nil: the server has none).
    public let serverValues: [String?]

    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(_ config: CookieConfig, serverValues: [String?]) throws(Unsupported) {
        name = config.name
        self.serverValues = serverValues
        var mode = Mode.passive
        var indirect = false, nocache = false, preserve = false, httpOnly = false, secure = false
        var domains: [String] = []
        var i = 0
        let o = config.options
        while i < o.count {
            switch o[i] {
            case "insert": mode = .insert
            case "rewrite": mode = .rewrite
            case "prefix": mode = .prefix
            case "indirect": indirect = true
            case "nocache": nocache = true
            case "preserve": preserve = true
            case "httponly": httpOnly = true
            case "secure": secure = true
            case "postonly": break
            case "domain":
                if i + 1 < o.count { domains.append(o[i + 1]) }
                i += 1
            case "maxidle", "maxlife", "dynamic", "attr":
                throw Unsupported(description: "'cookie ... \(o[i])' is not implemented yet")
            default:
                break
            }
            i += 1
        }
        self.mode = mode
        self.indirect = indirect
        self.nocache = nocache
        self.preserve = preserve
        self.httpOnly = httpOnly
        self.secure = secure
        self.domains = domains
    }

    /// In a request's `Cookie` value: which server the persistence cookie names, and
    /// the value to forward instead (nil: forward unchanged; empty: drop the header).
    public func inspect(_ value: ArraySlice<UInt8>) -> (server: Int?, forward: [UInt8]?) {
        var server: Int? = nil
        var kept: [ArraySlice<UInt8>] = []
        var changed = false
        for part in value.split(separator: UInt8(ascii: ";")) {
            let pair = trim(part)
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")), Array(pair[..<eq]) == Array(name.utf8) else {
                kept.append(pair)
                continue
            }
            let cookieValue = pair[(eq + 1)...]
            switch mode {
            case .prefix:
                if let tilde = cookieValue.firstIndex(of: UInt8(ascii: "~")) {
                    server = index(of: cookieValue[..<tilde])
                    kept.append(pair[..<(eq + 1)] + cookieValue[(tilde + 1)...])
                    changed = true
                } else {
                    kept.append(pair)
                }
            case .insert, .rewrite, .passive:
                server = index(of: cookieValue)
                if indirect && mode == .insert {
                    changed = true
                } else {
                    kept.append(pair)
                }
            }
        }
        guard changed else { return (server, nil) }
        var out: [UInt8] = []
        for (k, part) in kept.enumerated() {
            if k > 0 { out += Array("; ".utf8) }
            out += part
        }
        return (server, out)
    }

    /// Whether a request's `Cookie` value carries the persistence cookie at all (valid
    /// or not), for the log's cookie state.
    public func isPresent(in value: ArraySlice<UInt8>) -> Bool {
        let nameBytes = Array(name.utf8)
        return value.split(separator: UInt8(ascii: ";")).contains { part in
            let pair = trim(part)
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { return false }
            return Array(pair[..<eq]) == nameBytes
        }
    }

    /// The `Set-Cookie` value that makes a client stick to `server` (insert mode).
    public func insertedCookie(for server: Int) -> [UInt8]? {
        guard let value = serverValues[server] else { return nil }
        var text = "\(name)=\(value); path=/"
        for domain in domains { text += "; domain=\(domain)" }
        if httpOnly { text += "; HttpOnly" }
        if secure { text += "; Secure" }
        return Array(text.utf8)
    }

    /// Whether a server's `Set-Cookie` value sets the persistence cookie.
    public func setsOurCookie(_ value: ArraySlice<UInt8>) -> Bool {
        let nameBytes = Array(name.utf8)
        let pair = trim(value.prefix { $0 != UInt8(ascii: ";") })
        guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { return false }
        return Array(pair[..<eq]) == nameBytes
    }

    /// rewrite and prefix: the server's own `Set-Cookie: NAME=...` as the client
    /// must see it.
    public func rewriteSetCookie(_ value: ArraySlice<UInt8>, server: Int) -> [UInt8]? {
        guard setsOurCookie(value), let ours = serverValues[server] else { return nil }
        let start = value.firstIndex(of: UInt8(ascii: "="))! + 1
        let end = value[start...].firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
        let original = value[start..<end]
        let replaced: [UInt8]
        switch mode {
        case .rewrite: replaced = Array(ours.utf8)
        case .prefix: replaced = Array(ours.utf8) + [UInt8(ascii: "~")] + original
        case .insert, .passive: return nil
        }
        return Array(value[..<start]) + replaced + Array(value[end...])
    }

    func index(of value: ArraySlice<UInt8>) -> Int? {
        let bytes = Array(value)
        return serverValues.firstIndex { $0.map { Array($0.utf8) == bytes } ?? false }
    }

    func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }
}
