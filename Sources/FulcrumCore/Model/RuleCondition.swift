/// `if COND` / `unless COND` after a rule, kept as words until ACLs are compiled.
public struct RuleCondition: Hashable, Sendable {
    public var negated: Bool
    public var terms: [String]

    public init(negated: Bool, terms: [String]) {
        self.negated = negated
        self.terms = terms
    }

    public var words: [String] { [negated ? "unless" : "if"] + terms }
}
