/// A regular expression compiled once at load time. `Regex` values are immutable once
/// built, so sharing one between event loops is safe although the type is not marked so.
public struct CompiledRegex: @unchecked Sendable {
    public let source: String
    public let regex: Regex<AnyRegexOutput>

    public init(_ source: String, ignoreCase: Bool = false) throws(ConfigError) {
        self.source = source
        do {
            let r = try Regex(source)
            regex = ignoreCase ? r.ignoresCase() : r
        } catch {
            throw ConfigError("invalid regular expression '\(source)': \(error)")
        }
    }

    public func matches(_ bytes: some Collection<UInt8>) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return (try? regex.firstMatch(in: text)) != nil
    }
}
