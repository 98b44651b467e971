/// What a hashing algorithm hashes, taken from the configuration once: the client
/// address, the URI (shortened as `len`, `depth`, `whole`, `path-only` say), a query
/// parameter, or a header (optionally only the domain of a host name).
public enum BalanceKey: Hashable, Sendable {
    case none
    case source
    case uri(length: Int?, depth: Int?, whole: Bool, pathOnly: Bool)
    case urlParameter(String)
    case header(String, domainOnly: Bool)

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
