/// One statement of keepalived's grammar: its words, where it was written and, for
/// `name ... { ... }`, the statements inside the braces.
public struct ConfigStatement: Hashable, Sendable {
    public var words: [String]
    public var location: SourceLocation
    public var block: [ConfigStatement]?

    public init(words: [String], location: SourceLocation, block: [ConfigStatement]? = nil) {
        self.words = words
        self.location = location
        self.block = block
    }

    public var keyword: String { words.first ?? "" }
    public var arguments: ArraySlice<String> { words.dropFirst() }
}
