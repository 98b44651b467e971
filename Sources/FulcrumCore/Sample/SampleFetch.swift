import FulcrumHTTP1

/// One sample fetch, its arguments checked at load time. `values` produces every
/// candidate (each occurrence of a header, say) for an ACL to try in turn; `value`
/// produces the one a sample expression uses (the last occurrence, as HAProxy does).
public enum SampleFetch: Hashable, Sendable {
    case source, sourcePort, destination, destinationPort
    case listenerName, frontendName, backendName, serverName
    case usableServers(backend: String?)
    case method, path, pathWithQuery, url, query, base, version
    case urlParameter(String)
    /// `hdr`/`req.hdr` (split at commas) or `req.fhdr` (whole lines), from the request or
    /// the response; `occurrence` 0 means every one (ACL) or the last (expression).
    case header(name: String, occurrence: Int, split: Bool, response: Bool)
    case headerCount(name: String?, split: Bool, response: Bool)
    case cookie(name: String, response: Bool)
    case cookieCount(name: String, response: Bool)
    case status
    case requestBody, requestLength, requestBodyLength
    /// A parameter of an `application/x-www-form-urlencoded` body.
    case requestBodyParameter(String)
    case environment(String)
    case random(range: Int64?)
    case date(offset: Int64)
    case variable(String)
    case constant(SampleValue)
    case uniqueID
    /// A stick table datum (`http_req_rate`, `conn_cur`, `get_gpc0`...) of the entry
    /// tracked in slot `slot` (`sc0_*`, `sc_*(N)`), or of the client address's entry.
    case trackedCounter(slot: Int, name: String, table: String?)
    case sourceCounter(name: String, table: String?)
    /// `sc_inc_gpc0`/`src_inc_gpc0`: increments, then returns the new value.
    case incrementCounter(slot: Int?, which: Int, table: String?)
    case tableEntries(String?)
    /// The first bytes of a TCP-mode connection: a slice, the TLS SNI, hello type,
    /// record version.
    case payload(offset: Int, length: Int)
    /// `req.payload_lv(off1,len[,off2])`: a block whose big-endian length is the `len`
    /// bytes at `off1`, starting at `dataOffset` (absolute), or just after the length
    /// moved by `dataOffset` (relative).
    case payloadLengthValue(lengthOffset: Int, lengthSize: Int, dataOffset: Int?, relative: Bool)
    /// `res.payload(off,len)` and `res.len`: the server's first bytes, for
    /// `tcp-response content` rules.
    case responsePayload(offset: Int, length: Int)
    case responseLength
    case tlsServerName, tlsHelloType, tlsVersion
    /// The cookie of an RDP connection request (`req.rdp_cookie`), and whether there is
    /// one (`req.rdp_cookie_cnt`); nil: whatever cookie comes first.
    case rdpCookie(String?), rdpCookieCount(String?)
    /// `http_auth(L)`: the Basic credentials are valid in userlist L;
    /// `http_auth_group(L)`: the groups of the user they name.
    case httpAuth(String), httpAuthGroup(String)
    case proxyCount(ProxyCount, String?)
    case firstRequest
    /// Fulcrum terminates no TLS: `ssl_fc` is false and the TLS fetches have no value.
    case tlsFrontend, noValue

    /// Calls `body` with each candidate value until it returns true; returns whether
    /// one did.
    public func values(in c: SampleContext, _ body: (SampleValue) -> Bool) -> Bool {
        switch self {
        case .httpAuthGroup(let list):
            guard let user = Self.basicUser(c, list) else { return false }
            return user.groups.contains { body(.string(Array($0.utf8))) }
        case .header(let name, let occurrence, let split, let response):
            if occurrence != 0 {
                guard let v = c.withHead(response: response, { Self.headerValue($0, name, occurrence, split: split) }) ?? nil else { return false }
                return body(.string(v))
            }
            return c.withHead(response: response) { editor in
                var matched = false
                Self.forEachHeaderValue(editor, name, split: split) { v in
                    if body(.string(Array(v))) { matched = true; return false }
                    return true
                }
                return matched
            } ?? false
        case .cookie(let name, let response):
            return c.withHead(response: response) { editor in
                var matched = false
                Self.forEachCookie(editor, response: response) { n, v in
                    guard n.elementsEqual(name.utf8) else { return true }
                    if body(.string(Array(v))) { matched = true; return false }
                    return true
                }
                return matched
            } ?? false
        default:
            guard let v = value(in: c) else { return false }
            return body(v)
        }
    }

    /// Like `values`, as byte slices that are not copied, for the fetches that read a
    /// head (headers, cookies, path, target, method); nil for the others.
    public func slices(in c: SampleContext, _ body: (ArraySlice<UInt8>) -> Bool) -> Bool? {
        switch self {
        case .header(let name, let occurrence, let split, let response) where occurrence == 0:
            return c.withHead(response: response) { editor in
                var matched = false
                Self.forEachHeaderValue(editor, name, split: split) { v in
                    if body(v) { matched = true; return false }
                    return true
                }
                return matched
            } ?? false
        case .cookie(let name, let response):
            return c.withHead(response: response) { editor in
                var matched = false
                Self.forEachCookie(editor, response: response) { n, v in
                    guard n.elementsEqual(name.utf8) else { return true }
                    if body(v) { matched = true; return false }
                    return true
                }
                return matched
            } ?? false
        case .path: return c.pathSlice.map(body) ?? false
        case .url: return c.targetSlice.map(body) ?? false
        case .method: return c.methodSlice.map(body) ?? false
        default: return nil
        }
    }

    public func value(in c: SampleContext) -> SampleValue? {
        switch self {
        case .source: return c.client.map { .address($0) }
        case .sourcePort: return c.client == nil ? nil : .integer(Int64(c.clientPort))
        case .destination: return c.destination.map { .address($0) }
        case .destinationPort: return c.destination == nil ? nil : .integer(Int64(c.destinationPort))
        case .listenerName: return c.listenerName.isEmpty ? nil : .string(c.listenerName)
        case .frontendName: return .string(c.frontendName)
        case .backendName: return c.backendName.isEmpty ? nil : .string(c.backendName)
        case .serverName: return c.serverName.isEmpty ? nil : .string(c.serverName)
        case .usableServers(let backend): return c.proxies.map { .integer(Int64($0.usableServers(backend))) }
        case .method: return c.methodBytes.map { .string($0) }
        case .version: return c.requestVersion.map { .string($0) }
        case .url: return c.target.map { .string($0) }
        case .path: return c.path.map { .string($0) }
        case .pathWithQuery:
            guard let target = c.request?.currentTarget else { return nil }
            let path = HTTPHeadEditor.pathRange(in: target)
            return .string(Array(target[path.lowerBound...]))
        case .query:
            guard let target = c.request?.currentTarget, let q = target.firstIndex(of: UInt8(ascii: "?")) else { return nil }
            return .string(Array(target[(q + 1)...]))
        case .base:
            // Host header then path, as HAProxy's `base`.
            guard let editor = c.request, let target = c.request?.currentTarget else { return nil }
            let host = Self.headerValue(editor, "host", -1, split: false) ?? []
            return .string(host + Array(target[HTTPHeadEditor.pathRange(in: target)]))
        case .urlParameter(let name):
            guard let target = c.request?.currentTarget else { return nil }
            return BalanceKey.queryParameter(Array(target), name).map { .string($0) }
        case .header(let name, let occurrence, let split, let response):
            return c.withHead(response: response) { Self.headerValue($0, name, occurrence == 0 ? -1 : occurrence, split: split) }?.map { .string($0) }
        case .headerCount(let name, let split, let response):
            return c.withHead(response: response) { editor in
                var n: Int64 = 0
                if let name {
                    Self.forEachHeaderValue(editor, name, split: split) { _ in n += 1; return true }
                } else {
                    n = Int64(editor.fields.count)
                }
                return .integer(n)
            }
        case .cookie(let name, let response):
            guard let editor = response ? c.response : c.request else { return nil }
            // The last occurrence, as HAProxy's expressions take it.
            var found: ArraySlice<UInt8>?
            Self.forEachCookie(editor, response: response) { n, v in
                if n.elementsEqual(name.utf8) { found = v }
                return true
            }
            return found.map { .string(Array($0)) }
        case .cookieCount(let name, let response):
            guard let editor = response ? c.response : c.request else { return nil }
            var n: Int64 = 0
            Self.forEachCookie(editor, response: response) { k, _ in
                if name.isEmpty || k.elementsEqual(name.utf8) { n += 1 }
                return true
            }
            return .integer(n)
        case .status: return c.status.map { .integer(Int64($0)) }
        case .requestBody: return c.requestBody.map { .string($0) }
        case .requestBodyLength: return c.requestBody.map { .integer(Int64($0.count)) }
        case .requestBodyParameter(let name):
            guard let body = c.requestBody else { return nil }
            return BalanceKey.queryParameter([UInt8(ascii: "?")] + body, name).map { .string($0) }
        case .requestLength: return .integer(Int64(c.requestLength))
        case .environment(let name): return c.environment(name).map { .string(Array($0.utf8)) }
        case .random(let range):
            let r = c.randomNumber()
            guard let range, range > 0 else { return .integer(Int64(r >> 33)) }
            return .integer(Int64((r >> 32) % UInt64(range)))
        case .date(let offset): return .integer(c.now() + offset)
        case .variable(let name): return c.variables[name]
        case .constant(let v): return v
        case .uniqueID: return c.uniqueID.isEmpty ? nil : .string(c.uniqueID)
        case .trackedCounter(let slot, let name, let table):
            guard let tracker = c.trackers[slot] else { return nil }
            let t = table.flatMap { c.tables[$0] } ?? tracker.table
            return t.value(name, of: tracker.key, now: c.milliseconds()).map { .integer($0) }
        case .sourceCounter(let name, let table):
            guard let t = c.tables[table ?? c.defaultTable], let client = c.client, let key = t.key(.address(client)) else { return nil }
            return t.value(name, of: key, now: c.milliseconds()).map { .integer($0) }
        case .incrementCounter(let slot, let which, let table):
            let name = which == 0 ? "gpc0" : "gpc1"
            let target: (StickTable, [UInt8])?
            if let slot {
                target = c.trackers[slot].map { (table.flatMap { c.tables[$0] } ?? $0.table, $0.key) }
            } else if let t = c.tables[table ?? c.defaultTable], let client = c.client, let key = t.key(.address(client)) {
                target = (t, key)
            } else {
                target = nil
            }
            guard let (t, key) = target else { return nil }
            t.apply([.incrementGPC(which)], to: key, now: c.milliseconds())
            return t.value(name, of: key, now: c.milliseconds()).map { .integer($0) }
        case .tableEntries(let table):
            return c.tables[table ?? c.defaultTable].map { .integer(Int64($0.count(now: c.milliseconds()))) }
        case .payload(let offset, let length):
            guard let p = c.payload, offset <= p.count else { return nil }
            let end = length == 0 ? p.count : offset &+ length
            guard end <= p.count else { return nil }
            return .string(Array(p[offset..<end]))
        case .payloadLengthValue(let lengthOffset, let lengthSize, let dataOffset, let relative):
            guard let p = c.payload, lengthOffset + lengthSize <= p.count else { return nil }
            // The length as HAProxy reads it: an unsigned 32-bit number, wider ones wrap.
            let size = Int(p[lengthOffset..<(lengthOffset + lengthSize)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            var start = lengthOffset + lengthSize
            if let dataOffset { start = relative ? start + dataOffset : dataOffset }
            // A block that cannot fit in a buffer never will: no value, whatever arrives.
            guard size > 0, start + size <= Self.bufferSize, start + size <= p.count else { return nil }
            return .string(Array(p[start..<(start + size)]))
        case .responsePayload(let offset, let length):
            guard let p = c.responsePayload, offset <= p.count else { return nil }
            let end = length == 0 ? p.count : offset &+ length
            guard end <= p.count else { return nil }
            return .string(Array(p[offset..<end]))
        case .responseLength:
            return c.responsePayload.map { .integer(Int64($0.count)) }
        case .tlsServerName: return c.payload.flatMap(TLSClientHello.serverName).map { .string($0) }
        case .tlsHelloType: return c.payload.flatMap(TLSClientHello.handshakeType).map { .integer(Int64($0)) }
        case .tlsVersion: return c.payload.flatMap(TLSClientHello.helloVersion).map { .integer(Int64($0)) }
        case .rdpCookie(let name):
            guard let p = c.payload, case .value(let v) = RDPConnectionRequest.cookie(p, name: name) else { return nil }
            return .string(Array(v))
        case .rdpCookieCount(let name):
            guard let p = c.payload, case .value = RDPConnectionRequest.cookie(p, name: name) else { return .integer(0) }
            return .integer(1)
        case .httpAuth(let list): return .boolean(Self.basicUser(c, list) != nil)
        case .httpAuthGroup(let list): return Self.basicUser(c, list)?.groups.first.map { .string(Array($0.utf8)) }
        case .proxyCount(let kind, var name):
            if kind == .serverID {
                // The server the transaction went to: known once one was chosen.
                guard !c.serverName.isEmpty, !c.serverName.starts(with: Array("<".utf8)) else { return nil }
                name = String(decoding: c.backendName, as: UTF8.self) + "/" + String(decoding: c.serverName, as: UTF8.self)
            }
            guard let n = c.proxies?.count(kind, name) else { return nil }
            return kind == .serverIsUp ? .boolean(n != 0) : .integer(Int64(n))
        case .firstRequest: return .boolean(c.firstRequest)
        case .tlsFrontend: return .boolean(false)
        case .noValue: return nil
        }
    }

    /// HAProxy's default buffer size (`tune.bufsize`), the most a payload fetch reads.
    static let bufferSize = 16384

    /// The userlist user whose valid Basic credentials the request carries.
    static func basicUser(_ c: SampleContext, _ list: String) -> UserlistConfig.User? {
        if let known = c.authenticated[list] { return known }
        let user = checkBasicCredentials(c, list)
        c.authenticated[list] = .some(user)
        return user
    }

    static func checkBasicCredentials(_ c: SampleContext, _ list: String) -> UserlistConfig.User? {
        guard let userlist = c.userlists[list], let (user, password) = basicCredentials(c) else { return nil }
        return userlist.authenticate(user: user, password: password)
    }

    /// The user and password of the request's Basic `Authorization` header.
    public static func basicCredentials(_ c: SampleContext) -> (user: String, password: String)? {
        guard let editor = c.request, let value = headerValue(editor, "authorization", -1, split: false) else { return nil }
        let text = String(decoding: value, as: UTF8.self)
        guard text.lowercased().hasPrefix("basic "), let decoded = base64Decode(text.dropFirst(6).trimmingPrefix(while: { $0 == " " })),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return (String(decoding: decoded[..<colon], as: UTF8.self), String(decoding: decoded[(colon + 1)...], as: UTF8.self))
    }

    static func base64Decode(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0, bits = 0
        for c in s.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }

    /// The values of every occurrence of a header; with `split`, each comma-separated
    /// part of them, trimmed, as HAProxy's `hdr` sees them.
    static func forEachHeaderValue(_ editor: HTTPHeadEditor, _ name: String, split: Bool, _ body: (ArraySlice<UInt8>) -> Bool) {
        for field in editor.fields where editor.matches(field, name) {
            let value = editor.value(of: field)
            guard split else {
                if !body(value) { return }
                continue
            }
            var start = value.startIndex
            while start <= value.endIndex {
                let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
                if !body(trim(value[start..<end])) { return }
                start = end + 1
            }
        }
    }

    /// Occurrence `n` (1 = first, -1 = last) of a header's values.
    static func headerValue(_ editor: HTTPHeadEditor, _ name: String, _ n: Int, split: Bool) -> [UInt8]? {
        var all: [ArraySlice<UInt8>] = []
        forEachHeaderValue(editor, name, split: split) { all.append($0); return n < 0 || all.count < n }
        if n > 0 { return all.count >= n ? Array(all[n - 1]) : nil }
        return all.count >= -n && n != Int.min ? Array(all[all.count + n]) : nil
    }

    /// Each `name=value` of the request's Cookie headers, or the first pair of each
    /// response Set-Cookie.
    static func forEachCookie(_ editor: HTTPHeadEditor, response: Bool, _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Bool) {
        for field in editor.fields where editor.matches(field, response ? "set-cookie" : "cookie") {
            let value = editor.value(of: field)
            var start = value.startIndex
            while start < value.endIndex {
                let end = value[start...].firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
                let pair = trim(value[start..<end])
                if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                    if !body(trim(pair[..<eq]), trim(pair[(eq + 1)...])) { return }
                }
                if response { break }
                start = end + 1
            }
        }
    }

    public static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var a = s.startIndex, b = s.endIndex
        while a < b, s[a] == 32 || s[a] == 9 { a += 1 }
        while b > a, s[b - 1] == 32 || s[b - 1] == 9 { b -= 1 }
        return s[a..<b]
    }
}
