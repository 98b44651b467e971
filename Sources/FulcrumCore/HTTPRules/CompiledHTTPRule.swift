import HAProxyConfig

/// A rule ready to run: its action, its condition, the `%[...]` samples of its formats
/// and its regular expression, all compiled once at start-up.
/// A class, so that walking a rule list per request copies no rule.
public final class CompiledHTTPRule: Sendable {
    public let action: HTTPRuleAction
    public let condition: ACLCondition?
    /// `condition` without reference counting, for `applies` (it lives as long as the rule).
    private let conditionRef: Unmanaged<ACLCondition>?
    public let samples: [String: SampleExpression]
    public let regex: CompiledRegex?
    public let location: SourceLocation

    public init(_ config: HTTPRuleConfig, acls: [String: [ACL]], files: PatternFiles, response: Bool = false) throws(ConfigError) {
        action = try HTTPRuleAction.compile(config, files: files, response: response)
        condition = try config.condition.map { c throws(ConfigError) in try ACLCondition(c, acls: acls, files: files) }
        conditionRef = condition.map { Unmanaged.passUnretained($0) }
        samples = try Self.samples(action.formats, files: files)
        switch action {
        case .replaceHeader(_, let pattern, _), .replaceValue(_, let pattern, _): regex = try CompiledRegex(pattern)
        case .deleteHeader(let name, .reg): regex = try CompiledRegex(name, ignoreCase: true)
        default: regex = nil
        }
        location = config.location
    }

    /// An `http-error` page rendered per request: answered as `return` answers.
    public init(reply: HTTPReply, files: PatternFiles, location: SourceLocation) throws(ConfigError) {
        action = .respond(reply)
        condition = nil
        conditionRef = nil
        samples = try Self.samples(reply.formats, files: files)
        regex = nil
        self.location = location
    }

    private init(action: HTTPRuleAction, condition: ACLCondition?, samples: [String: SampleExpression], regex: CompiledRegex?, location: SourceLocation) {
        self.action = action
        self.condition = condition
        conditionRef = condition.map { Unmanaged.passUnretained($0) }
        self.samples = samples
        self.regex = regex
        self.location = location
    }

    /// The rule applies to this transaction: it has no condition, or it holds.
    @inline(__always)
    public func applies(_ s: SampleContext) -> Bool {
        guard let conditionRef else { return true }
        return conditionRef._withUnsafeGuaranteedRef { $0.holds(s) }
    }

    /// The same rule doing `action` (a capture given its slot, say).
    public func with(action: HTTPRuleAction) -> CompiledHTTPRule {
        CompiledHTTPRule(action: action, condition: condition, samples: samples, regex: regex, location: location)
    }

    /// The compiled `%[...]` expressions of `formats`, by their text.
    public static func samples(_ formats: [LogFormat], files: PatternFiles) throws(ConfigError) -> [String: SampleExpression] {
        var out: [String: SampleExpression] = [:]
        for format in formats {
            for case .sample(let text, _) in format.nodes where out[text] == nil {
                out[text] = try SampleExpression(parsing: text, files: files)
            }
        }
        return out
    }
}
