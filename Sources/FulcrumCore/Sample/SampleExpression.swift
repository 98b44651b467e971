/// `fetch(args),converter(args),...`: a sample expression compiled at load time, as
/// ACLs, `%[...]` in formats and rule arguments take it.
public struct SampleExpression: Sendable {
    public let source: String
    public let fetch: SampleFetch
    /// The match method an ACL on this expression uses without `-m`.
    public let defaultMatch: MatchMethod
    public let converters: [SampleConverter]

    public init(parsing text: String, files: PatternFiles) throws(ConfigError) {
        source = text
        let parts = Self.splitTopLevel(text, at: ",")
        guard let first = parts.first, !first.isEmpty else { throw ConfigError("missing fetch method in sample expression '\(text)'.") }
        let (name, args) = try Self.call(first, in: text)
        (fetch, defaultMatch) = try SampleFetchParser.parse(name, args)
        var converters: [SampleConverter] = []
        for part in parts.dropFirst() {
            let (conv, convArgs) = try Self.call(part, in: text)
            converters.append(try SampleConverterParser.parse(conv, convArgs, files: files))
        }
        self.converters = converters
    }

    /// The expression's value (the last occurrence of a header, say), converted.
    public func value(in c: SampleContext) -> SampleValue? {
        guard var v = fetch.value(in: c) else { return nil }
        for converter in converters {
            guard let next = converter.apply(v, c) else { return nil }
            v = next
        }
        return v
    }

    /// Calls `body` with each candidate value, converted, until it returns true.
    public func values(in c: SampleContext, _ body: (SampleValue) -> Bool) -> Bool {
        if converters.isEmpty { return fetch.values(in: c, body) }
        return fetch.values(in: c) { raw in
            var v = raw
            for converter in converters {
                guard let next = converter.apply(v, c) else { return false }
                v = next
            }
            return body(v)
        }
    }

    /// `name(a,b)` or `name`: the name and its comma-separated arguments.
    static func call(_ text: Substring, in whole: String) throws(ConfigError) -> (String, [String]) {
        guard let open = text.firstIndex(of: "(") else {
            if text.contains(")") { throw ConfigError("unbalanced parenthesis in sample expression '\(whole)'.") }
            return (String(text), [])
        }
        guard text.last == ")" else {
            throw ConfigError("missing closing parenthesis in sample expression '\(whole)'.", hint: "write 'fetch(arg),converter(arg)'")
        }
        let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
        let args = inner.isEmpty ? [] : splitTopLevel(String(inner), at: ",").map { unescape($0) }
        return (String(text[..<open]), args)
    }

    /// Splits at `separator` outside parentheses; a backslash protects the next character.
    static func splitTopLevel(_ text: String, at separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        var i = text.startIndex
        var escaped = false
        while i < text.endIndex {
            let c = text[i]
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "(" {
                depth += 1
            } else if c == ")" {
                depth -= 1
            } else if c == separator && depth == 0 {
                parts.append(text[start..<i])
                start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        parts.append(text[start...])
        return parts
    }

    static func unescape(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var out = ""
        var escaped = false
        for c in s {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
