/// Keyword specs by name, with longest-match lookup over multi-word keywords
/// (`timeout connect`, `stats socket`, `option httplog`, `capture request header`).
public struct KeywordTable<Target>: Sendable {
    public let specs: [KeywordSpec<Target>]
    private let byName: [String: Int]

    public init(_ specs: [KeywordSpec<Target>]) {
        self.specs = specs
        var byName: [String: Int] = [:]
        for (i, spec) in specs.enumerated() {
            precondition(byName[spec.name] == nil, "duplicate keyword \(spec.name)")
            byName[spec.name] = i
        }
        self.byName = byName
    }

    public func lookup(_ words: ArraySlice<String>) -> KeywordSpec<Target>? {
        for count in stride(from: min(3, words.count), through: 1, by: -1) {
            let key = words.prefix(count).joined(separator: " ")
            if let i = byName[key] { return specs[i] }
        }
        return nil
    }

    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// Names under a prefix: `subkeywords("timeout")` gives `client`, `server`, ...
    public func subkeywords(of prefix: String) -> [String] {
        specs.compactMap { spec in
            spec.name.hasPrefix(prefix + " ") ? String(spec.name.dropFirst(prefix.count + 1)) : nil
        }
    }

    public var firstWords: Set<String> { Set(specs.map { String($0.name.split(separator: " ")[0]) }) }
}
