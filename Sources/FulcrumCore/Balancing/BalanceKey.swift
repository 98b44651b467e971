/// What a hashing algorithm hashes, taken from the configuration once: the client
/// address, the URI (shortened as `len`, `depth`, `whole`, `path-only` say), a query
/// parameter (with `check_post`, also a form body's), a header (optionally only the
/// domain of a host name), an RDP connection request's cookie, or a sample expression.
public enum BalanceKey: Sendable {
    case none
    case source
    case uri(length: Int?, depth: Int?, whole: Bool, pathOnly: Bool)
    case urlParameter(String, checkPost: Bool)
    case header(String, domainOnly: Bool)
    case rdpCookie(String)
    case expression(SampleExpression)

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// `url_param ... check_post` (or an expression reading the body): request bodies
    /// are waited for, as with `option http-buffer-request`.
    public var readsBody: Bool {
        switch self {
        case .urlParameter(_, let checkPost): return checkPost
        case .expression(let e): return [.requestBody, .requestBodyLength].contains(e.fetch) || { if case .requestBodyParameter = e.fetch { return true } else { return false } }()
        default: return false
        }
    }

    /// The bytes `balance hash` hashes for the value of `expression`. Fetches typed as
    /// integers (`hdr_val`, `cook_val`, ...) hand their text over; it is read as the
    /// integer HAProxy's fetch would have produced.
    public static func binary(_ value: SampleValue, of expression: SampleExpression) -> [UInt8] {
        if expression.converters.isEmpty, expression.defaultMatch == .int, case .string = value, let n = value.integer {
            return binary(.integer(n))
        }
        return binary(value)
    }

    /// The bytes `balance hash` hashes for a sample: a string as it is, an address as
    /// its 4 or 16 network-order bytes, an integer or boolean as 8 big-endian bytes,
    /// as HAProxy converts samples to binary.
    public static func binary(_ value: SampleValue) -> [UInt8] {
        switch value {
        case .string(let b): return b
        case .address(let a): return a
        case .integer(let n): return withUnsafeBytes(of: n.bigEndian) { Array($0) }
        case .boolean(let b): return withUnsafeBytes(of: Int64(b ? 1 : 0).bigEndian) { Array($0) }
        }
    }

    /// `balance source`: the address's 32-bit network-order words XORed together (the
    /// address itself for IPv4); the hash function is not used, as in HAProxy.
    public static func sourceHash(_ address: [UInt8]) -> UInt32 {
        var h: UInt32 = 0
        var i = 0
        while i + 4 <= address.count {
            h ^= UInt32(address[i]) << 24 | UInt32(address[i + 1]) << 16 | UInt32(address[i + 2]) << 8 | UInt32(address[i + 3])
            i += 4
        }
        return h
    }

    /// The value of `name` in an `application/x-www-form-urlencoded` body (the
    /// parameters are `&`-separated like a query string's).
    public static func formParameter(_ body: [UInt8], _ name: String) -> [UInt8]? {
        queryParameter([UInt8(ascii: "?")] + body, name)
    }

    /// The part of a request target `uri` hashes.
    public static func uriKey(_ target: [UInt8], length: Int?, depth: Int?, whole: Bool, pathOnly: Bool) -> [UInt8] {
        var key = target[...]
        if pathOnly, let scheme = firstIndex(of: Array("://".utf8), in: key) {
            let afterAuthority = key[(scheme + 3)...].firstIndex(of: UInt8(ascii: "/")) ?? key.endIndex
            key = key[afterAuthority...]
        }
        if !whole, let q = key.firstIndex(of: UInt8(ascii: "?")) { key = key[..<q] }
        if let depth {
            var slashes = 0
            if let cut = key.firstIndex(where: { byte in
                if byte == UInt8(ascii: "/") { slashes += 1 }
                return slashes > depth
            }) { key = key[..<cut] }
        }
        if let length { key = key.prefix(length) }
        return Array(key)
    }

    /// The value of `name` in the query string, if present.
    public static func queryParameter(_ target: [UInt8], _ name: String) -> [UInt8]? {
        guard let q = target.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        let wanted = Array(name.utf8)
        for pair in target[(q + 1)...].split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            if Array(parts[0]) == wanted { return parts.count > 1 ? Array(parts[1]) : [] }
        }
        return nil
    }

    /// `use_domain_only`: "www.example.com:80" → "example".
    public static func domainOnly(_ host: [UInt8]) -> [UInt8] {
        let name = host.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) ?? host
        let labels = name.split(separator: UInt8(ascii: "."))
        return labels.count >= 2 ? Array(labels[labels.count - 2]) : name
    }

    static func firstIndex(of needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
