/// A regular expression from a check rule (`rstatus`, `rstring`), compiled once at
/// start-up. Swift's `Regex` is not `Sendable`; this one is only ever matched, never
/// mutated, so sharing it between threads is safe.
public final class CheckPattern: @unchecked Sendable, Hashable {
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    public init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source)
    }

    public func matches(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }

    public static func == (a: CheckPattern, b: CheckPattern) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}
