/// One statement after tokenizing: its words with quotes and escapes resolved.
public struct ConfigLine: Sendable, Hashable {
    public var words: [String]
    public var location: SourceLocation
    /// The physical line as written (without the line break), kept for error carets
    /// and for printing a configuration back with only some lines rewritten.
    public var raw: String

    public init(words: [String], location: SourceLocation, raw: String = "") {
        self.words = words
        self.location = location
        self.raw = raw
    }

    public var keyword: String { words.first ?? "" }
    public var arguments: ArraySlice<String> { words.dropFirst() }
}
