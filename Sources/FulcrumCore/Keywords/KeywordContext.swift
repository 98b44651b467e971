import HAProxyConfig

/// What a keyword parser sees of its line: the arguments after the keyword words,
/// helpers that turn them into values with HAProxy-style messages, and a place for
/// warnings. Errors are thrown; the compiler puts the line's location on them.
public struct KeywordContext {
    public let line: ConfigLine
    /// The keyword as matched, e.g. `timeout connect` or `option httplog`.
    public let keyword: String
    public let args: [String]
    /// `no option X` was written.
    public let negated: Bool
    public let sectionDescription: String
    public let environment: CompileEnvironment
    public internal(set) var warnings: [Diagnostic] = []
    /// Set by a keyword that accepted a legacy spelling: the modern line to print instead.
    public var modernRewrite: [[String]]? = nil

    init(line: ConfigLine, keywordWordCount: Int, negated: Bool, sectionDescription: String, environment: CompileEnvironment) {
        self.line = line
        let offset = negated ? 1 : 0
        self.keyword = line.words[offset..<(offset + keywordWordCount)].joined(separator: " ")
        self.args = Array(line.words.dropFirst(offset + keywordWordCount))
        self.negated = negated
        self.sectionDescription = sectionDescription
        self.environment = environment
    }

    public var location: SourceLocation { line.location }

    public mutating func warn(_ message: String, hint: String? = nil) {
        warnings.append(.warning(message, at: line.location, hint: hint))
    }

    public func argument(_ index: Int, _ placeholder: String) throws(ConfigError) -> String {
        guard index < args.count else {
            throw ConfigError("'\(keyword)' expects \(placeholder) as an argument.")
        }
        return args[index]
    }

    public func optionalArgument(_ index: Int) -> String? {
        index < args.count ? args[index] : nil
    }

    public func requireNoArguments(after count: Int) throws(ConfigError) {
        if args.count > count {
            throw ConfigError("'\(keyword)' cannot handle unexpected argument '\(args[count])'.")
        }
    }

    public mutating func duration(_ index: Int, _ placeholder: String = "<time>") throws(ConfigError) -> DurationValue {
        let text = try argument(index, placeholder)
        let value = try DurationValue.parse(text, keyword: keyword)
        // A bare number is milliseconds; "30" for a timeout is nearly always meant as seconds.
        if let n = Int(text), n > 0, n < 100 {
            warn("'\(keyword) \(text)' is \(text) milliseconds (a number without a unit is in milliseconds).",
                 hint: "write '\(text)s' if seconds were meant, or '\(text)ms' to keep it and silence this warning")
        }
        return value
    }

    /// Formats must be one word since HAProxy 2.0; 1.x joined unquoted words with spaces.
    /// Fulcrum still joins them, warns, and prints the quoted form as the modern line.
    public mutating func singleFormatArgument() throws(ConfigError) -> String {
        _ = try argument(0, "<format string>")
        let joined = args.joined(separator: " ")
        if args.count > 1 {
            let modern = [keyword.split(separator: " ").map(String.init) + [joined]]
            modernRewrite = modern
            warn("'\(keyword)' expects only one argument (HAProxy 2.x refuses unescaped spaces); Fulcrum joined the \(args.count) words with single spaces, as HAProxy 1.x did.",
                 hint: "quote it: \(ConfigWriter.line(modern[0]))")
        }
        return joined
    }

    public func integer(_ index: Int, _ placeholder: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try IntegerValue.parse(argument(index, placeholder), keyword: keyword, in: range)
    }

    /// Splits `ACTION ARGS... [if|unless COND...]` into the rule's words and its condition.
    public static func splitCondition(_ words: ArraySlice<String>) throws(ConfigError) -> ([String], RuleCondition?) {
        guard let i = words.firstIndex(where: { $0 == "if" || $0 == "unless" }) else { return (Array(words), nil) }
        let terms = Array(words[(i + 1)...])
        guard !terms.isEmpty else {
            throw ConfigError("missing condition after '\(words[i])'.", hint: "write 'if ACL_NAME' or 'if { CRITERION PATTERN }'")
        }
        return (Array(words[..<i]), RuleCondition(negated: words[i] == "unless", terms: terms))
    }
}
