import FulcrumCore
import FulcrumHTTP1

/// Carries out `http-request`/`http-response` rules in configuration order on the
/// transaction's sample context, whose head editor they change in place; fetches of
/// later rules see earlier rules' edits, as in HAProxy.
enum HTTPRuleRunner {
    /// What the rest of the transaction does after a rule list.
    enum Outcome {
        case proceed
        /// Fulcrum answers itself: `deny`, `redirect` or `return`.
        /// `tarpit`: the answer waits for `timeout tarpit`, then the connection closes.
        case respond(status: Int, head: [UInt8], body: [UInt8], denied: Bool, tarpit: Bool = false)
        /// `reject`: the connection is closed without a response.
        case reject
        /// `accept`: the rest of this list is skipped (TCP content inspection ends).
        case accepted
        /// `tcp-response content close`.
        case closeServer
        /// `use-service`: a service of Fulcrum's answers (the Prometheus exporter).
        case service(String)
    }

    /// `connectionLevel`: the rules run when a connection is accepted
    /// (`tcp-request connection`), so what they track lives as long as the connection.
    /// `log` is only read (formats render from it); taken `inout` so that the caller's
    /// stored context is lent rather than copied for each rule list.
    static func run(_ rules: [CompiledHTTPRule], response: Bool, _ s: SampleContext, _ log: inout RequestLogContext,
                    errorPages: HTTPErrorPages, connectionLevel: Bool = false) -> Outcome {
        // The rules are walked without reference counting (the list holds them).
        rules.withUnsafeBufferPointer { rules in
            for k in rules.indices {
                let outcome = Unmanaged.passUnretained(rules[k])._withUnsafeGuaranteedRef { rule -> Outcome? in
                    guard rule.applies(s) else { return nil }
                    return apply(rule, response: response, s, &log, errorPages: errorPages, connectionLevel: connectionLevel)
                }
                if let outcome { return outcome }
            }
            return .proceed
        }
    }

    /// One rule whose condition holds; nil when the rules after it go on.
    private static func apply(_ rule: CompiledHTTPRule, response: Bool, _ s: SampleContext, _ log: inout RequestLogContext,
                              errorPages: HTTPErrorPages, connectionLevel: Bool) -> Outcome? {
        func render(_ f: LogFormat) -> [UInt8] {
            f.isConstant ? f.constantBytes : LogFormatRenderer.render(f, log, samples: (rule.samples, s), missing: [])
        }
        func edit(_ change: (inout HTTPHeadEditor) -> Void) {
            if response { if s.response != nil { change(&s.response!) } } else if s.request != nil { change(&s.request!) }
        }
        switch rule.action {
        case .addHeader(let name, let value):
            let v = render(value); edit { $0.add(name, v) }
        case .setHeader(let name, let value):
            let v = render(value); edit { $0.set(name, v) }
        case .deleteHeader(let name, let match):
            if match == .str {
                edit { $0.delete(name) }
            } else {
                let lower = Array(name.lowercased().utf8)
                let regex = rule.regex
                edit { editor in
                    editor.fields = editor.fields.filter { field in
                        let n = editor.name(of: field).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
                        switch match {
                        case .beg: return !n.starts(with: lower)
                        case .end: return !(n.count >= lower.count && n.suffix(lower.count).elementsEqual(lower))
                        case .sub: return !(String(decoding: n, as: UTF8.self).contains(String(decoding: lower, as: UTF8.self)))
                        case .reg: return !(regex?.matches(n) ?? false)
                        default: return true
                        }
                    }
                }
            }
        case .replaceHeader(let name, _, let replacement), .replaceValue(let name, _, let replacement):
            guard let regex = rule.regex else { return nil }
            let rendered = render(replacement)
            let perValue: Bool
            if case .replaceValue = rule.action { perValue = true } else { perValue = false }
            edit { editor in
                editor.replaceValues(of: name) { value in
                    guard perValue else { return replace(value, regex, rendered) }
                    var changed = false
                    let parts = value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { part -> [UInt8] in
                        let trimmed = SampleFetch.trim(part)
                        if let r = replace(trimmed, regex, rendered) { changed = true; return r }
                        return Array(trimmed)
                    }
                    return changed ? Array(parts.joined(separator: [UInt8(ascii: ","), UInt8(ascii: " ")])) : nil
                }
            }
        case .setPath(let value):
            let v = render(value); edit { $0.setPath(v) }
        case .setURI(let value):
            let v = render(value); edit { $0.setTarget(v) }
        case .setQuery(let value):
            let v = render(value)
            edit { editor in
                let target = Array(editor.currentTarget)
                let base = target.firstIndex(of: UInt8(ascii: "?")).map { Array(target[..<$0]) } ?? target
                editor.setTarget(v.isEmpty ? base : base + [UInt8(ascii: "?")] + v)
            }
        case .setMethod(let value):
            let v = render(value); edit { $0.newMethod = v }
        case .setStatus(let code, let reason):
            s.status = code
            edit { editor in
                let line = editor.bytes[editor.startLine]
                let version = line[..<(line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex)]
                let text = reason ?? HTTPErrorPages.reasons[code] ?? HTTPRedirect.reasons[code] ?? "Unknown"
                editor.newStartLine = Array(version) + Array(" \(code) \(text)".utf8)
            }
        case .setVariable(let name, let expression):
            if let v = expression.value(in: s) { s.variables[name] = v }
        case .unsetVariable(let name):
            s.variables[name] = nil
        case .allow:
            return .proceed
        case .accept:
            return .accepted
        case .reject:
            return .reject
        case .closeServer:
            return .closeServer
        case .editPatterns(let file, let map, let delete, let key, let value):
            guard let lists = s.patternFiles?.lists(named: file, maps: map), !lists.isEmpty else { return nil }
            let k = String(decoding: render(key), as: UTF8.self)
            let v = value.map { String(decoding: render($0), as: UTF8.self) }
            for list in lists {
                if delete {
                    _ = list.delete(key: k, byReference: false)
                } else {
                    // `set-map`: the key's value, added when new; `add-acl`: added once.
                    try? list.upsert(key: k, value: v)
                }
            }
        case .waitForBody:
            return nil
        case .setLogLevel(let level):
            s.silent = level == "silent"
            s.logLevel = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"].firstIndex(of: level)
        case .capture(let expression, let length, let slot):
            // An `id` slot's length is the frontend's, applied when the log takes it.
            guard let v = expression.value(in: s) else { return nil }
            let value = length < 0 ? v.bytes : Array(v.bytes.prefix(length))
            if response { s.responseCaptures[slot] = value } else { s.captures[slot] = value }
        case .auth(let realm):
            let page = errorPages.pageParts(401, for: s, log)
            // Without a realm, the name of the proxy whose rule asks (as HAProxy).
            let name = realm ?? s.defaultTable
            let head = page.head.dropLast(2) + Array("www-authenticate: Basic realm=\"\(name)\"\r\n\r\n".utf8)
            return .respond(status: 401, head: Array(head), body: page.body, denied: false)
        case .respondPage(let status, let source):
            let page = errorPages.pageParts(status, from: source, for: s, log)
            return .respond(status: status, head: page.head, body: page.body, denied: false)
        case .useService(let name):
            return .service(name)
        case .track(let slot, let key, let table):
            guard s.trackers[slot] == nil, let t = s.tables[table ?? s.defaultTable], let v = key.value(in: s), let k = t.key(v) else { return nil }
            let events: [StickTable.Event] = connectionLevel ? [.trackBegin, .connection] : [.trackBegin, .httpRequest]
            if t.apply(events, to: k, now: s.milliseconds()) {
                s.trackers[slot] = StickTracker(table: t, key: k, connectionLevel: connectionLevel)
            }
        case .incrementGPC(let slot, let which):
            if let tracker = s.trackers[slot] { tracker.table.apply([.incrementGPC(which)], to: tracker.key, now: s.milliseconds()) }
        case .setGPT0(let slot, let value):
            if let tracker = s.trackers[slot] { tracker.table.apply([.setGPT0(value)], to: tracker.key, now: s.milliseconds()) }
        case .deny(let status, let contentType, let body, let tarpit):
            if let body, let contentType {
                return .respond(status: status, head: head(status, HTTPErrorPages.reasons[status] ?? "Error", [("content-type", Array(contentType.utf8))], body.count),
                                body: body, denied: true, tarpit: tarpit)
            }
            let page = errorPages.pageParts(status, for: s, log)
            return .respond(status: status, head: page.head, body: page.body, denied: true, tarpit: tarpit)
        case .redirect(let redirect):
            let target = s.request?.currentTarget ?? []
            let host = SampleFetch.header(name: "host", occurrence: -1, split: false, response: false).value(in: s)?.bytes
            // Without a Host header the host part is empty, as HAProxy writes it.
            guard let location = redirect.locationValue(destination: render(redirect.location), target: target, host: host ?? []) else { return nil }
            var headers: [(String, [UInt8])] = [("location", location)]
            if redirect.code != 301 && redirect.code != 308 { headers.append(("cache-control", Array("no-cache".utf8))) }
            if let cookie = redirect.setCookie { headers.append(("set-cookie", Array("\(cookie); path=/".utf8))) }
            if let cookie = redirect.clearCookie { headers.append(("set-cookie", Array("\(cookie); path=/; Max-Age=0; Expires=Thu, 01-Jan-1970 00:00:01 GMT".utf8))) }
            return .respond(status: redirect.code, head: head(redirect.code, HTTPRedirect.reasons[redirect.code] ?? "Found", headers, 0), body: [], denied: false)
        case .respond(let reply):
            let answer = answer(reply, samples: rule.samples, s, log)
            return .respond(status: reply.status, head: answer.head, body: answer.body, denied: false)
        }
        return nil
    }

    /// A `return` rule's answer, or an `http-error` page's, for this transaction: its
    /// head and its body, the log-formats rendered. HAProxy writes the `hdr` headers
    /// first, then content-length and content-type.
    static func answer(_ reply: HTTPReply, samples: [String: SampleExpression], _ s: SampleContext, _ log: RequestLogContext) -> (head: [UInt8], body: [UInt8]) {
        func render(_ f: LogFormat) -> [UInt8] {
            f.isConstant ? f.constantBytes : LogFormatRenderer.render(f, log, samples: (samples, s), missing: [])
        }
        let body = reply.bodyFormat.map(render) ?? reply.body
        let status = reply.status
        let reason = HTTPErrorPages.reasons[status] ?? HTTPRedirect.reasons[status] ?? Self.reasons[status] ?? "Unknown"
        var head = Array("HTTP/1.1 \(status) \(reason)\r\n".utf8)
        for header in reply.headers {
            head += Array(header.name.utf8) + [UInt8(ascii: ":"), UInt8(ascii: " ")] + render(header.value) + [13, 10]
        }
        head += Array("content-length: \(body.count)\r\n".utf8)
        if let contentType = reply.contentType { head += Array("content-type: \(contentType)\r\n".utf8) }
        head += [13, 10]
        return (head, body)
    }

    /// Reasons of the other statuses `return` may send.
    static let reasons: [Int: String] = [
        201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content",
        206: "Partial Content", 300: "Multiple Choices", 304: "Not Modified", 402: "Payment Required", 406: "Not Acceptable",
        409: "Conflict", 411: "Length Required", 412: "Precondition Failed", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
        417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Content", 426: "Upgrade Required",
        428: "Precondition Required", 451: "Unavailable For Legal Reasons", 505: "HTTP Version Not Supported",
    ]

    /// A response head as HAProxy writes its own: content-length first.
    static func head(_ status: Int, _ reason: String, _ headers: [(String, [UInt8])], _ length: Int) -> [UInt8] {
        var out = Array("HTTP/1.1 \(status) \(reason)\r\ncontent-length: \(length)\r\n".utf8)
        for (name, value) in headers {
            out += Array(name.utf8) + [UInt8(ascii: ":"), UInt8(ascii: " ")] + value + [13, 10]
        }
        out += [13, 10]
        return out
    }

    static func replace(_ value: ArraySlice<UInt8>, _ regex: CompiledRegex, _ replacement: [UInt8]) -> [UInt8]? {
        let text = String(decoding: value, as: UTF8.self)
        guard let match = try? regex.regex.firstMatch(in: text) else { return nil }
        return SampleConverter.expand(replacement, match)
    }
}

