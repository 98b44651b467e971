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
///
/// With `maxidle`/`maxlife` (insert mode) the inserted value carries the dates it was
/// last and first seen (`s1|<last>|<first>`, see `CookieDate`); a cookie idle or alive
/// longer than allowed, or dated more than a day ahead, no longer names a server, and
/// a valid one is refreshed in the response once its last date has passed.
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
    /// `postonly`: a cookie is inserted only in responses to POST requests (which no
    /// cache keeps), so a cached page never hands one client's cookie to others.
    public let postOnly: Bool
    public let domains: [String]
    /// The cookie value of each server, by index (nil: the server has none).
    public let serverValues: [String?]
    /// `maxidle`, `maxlife` in seconds.
    public let maxIdle: Int64?
    public let maxLife: Int64?

    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(_ config: CookieConfig, serverValues: [String?]) throws(Unsupported) {
        name = config.name
        self.serverValues = serverValues
        var mode = Mode.passive
        var indirect = false, nocache = false, preserve = false, httpOnly = false, secure = false, postOnly = false
        var domains: [String] = []
        var maxIdle: Int64?, maxLife: Int64?
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
            case "postonly": postOnly = true
            case "domain":
                if i + 1 < o.count { domains.append(o[i + 1]) }
                i += 1
            case "maxidle", "maxlife":
                guard i + 1 < o.count, let seconds = Self.seconds(o[i + 1]) else {
                    throw Unsupported(description: "'cookie \(config.name) \(o[i])' expects a time (seconds by default)")
                }
                if o[i] == "maxidle" { maxIdle = seconds } else { maxLife = seconds }
                i += 1
            case "dynamic", "attr":
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
        self.postOnly = postOnly
        self.domains = domains
        self.maxIdle = maxIdle
        self.maxLife = maxLife
    }

    /// `maxidle`/`maxlife` take seconds when no unit is written.
    static func seconds(_ text: String) -> Int64? {
        if let n = Int64(text), n >= 0 { return n }
        guard let d = try? DurationValue.parse(text, keyword: "cookie") else { return nil }
        return Int64(d.milliseconds / 1000)
    }

    /// What a request's `Cookie` value says: the server its persistence cookie names
    /// (nil when absent, unknown or past `maxidle`/`maxlife` at `now`), the value to
    /// forward instead (as `inspect`), and the cookie's dates.
    public struct Lookup: Equatable, Sendable {
        public var server: Int?
        public var forward: [UInt8]?
        public var lastDate: Int64?
        public var firstDate: Int64?
    }

    public func lookup(_ value: ArraySlice<UInt8>, now: Int64) -> Lookup {
        let (server, forward) = inspect(value)
        var result = Lookup(server: server, forward: forward)
        guard server != nil, let raw = rawValue(value) else { return result }
        let parts = raw.split(separator: UInt8(ascii: "|"), maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count > 1 { result.lastDate = CookieDate.decode(parts[1]) }
        if parts.count > 2 { result.firstDate = CookieDate.decode(parts[2]) }
        let day: Int64 = 86_400
        if let first = result.firstDate, let maxLife, now - first > maxLife || first - now > day {
            return Lookup(server: nil, forward: forward)
        }
        if let last = result.lastDate, let maxIdle, now - last > maxIdle || last - now > day {
            return Lookup(server: nil, forward: forward)
        }
        return result
    }

    /// Insert mode: whether the response must set the cookie again for a request whose
    /// cookie already named its server (dates to add, refresh or drop).
    public func needsRefresh(_ found: Lookup, now: Int64) -> Bool {
        if (maxIdle != nil || found.lastDate != nil) && (found.lastDate.map { $0 < now } ?? true) { return true }
        if maxLife != nil && found.firstDate == nil { return true }
        if maxLife == nil && found.firstDate != nil { return true }
        return false
    }

    /// The last value of the persistence cookie in a `Cookie` header value.
    func rawValue(_ value: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var found: ArraySlice<UInt8>?
        for part in value.split(separator: UInt8(ascii: ";")) {
            let pair = trim(part)
            if let eq = pair.firstIndex(of: UInt8(ascii: "=")), pair[..<eq].elementsEqual(name.utf8) { found = pair[(eq + 1)...] }
        }
        return found
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

    /// The `Set-Cookie` value that makes a client stick to `server` (insert mode), with
    /// the dates `maxidle`/`maxlife` need (`firstDate`: the request cookie's, kept).
    public func insertedCookie(for server: Int, now: Int64 = 0, firstDate: Int64? = nil) -> [UInt8]? {
        guard let value = serverValues[server] else { return nil }
        var text = "\(name)=\(value)"
        if maxIdle != nil || maxLife != nil {
            text += "|" + String(decoding: CookieDate.encode(now: now), as: UTF8.self)
            if maxLife != nil {
                let first = firstDate.map { CookieDate.encode(steps: Int($0 >> 2)) } ?? CookieDate.encode(now: now)
                text += "|" + String(decoding: first, as: UTF8.self)
            }
        }
        text += "; path=/"
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
        // A date suffix (`|...`) is not part of the server's value.
        let bytes = Array(value.prefix { $0 != UInt8(ascii: "|") })
        return serverValues.firstIndex { $0.map { Array($0.utf8) == bytes } ?? false }
    }

    func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }
}
