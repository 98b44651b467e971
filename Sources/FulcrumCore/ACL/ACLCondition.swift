import HAProxyConfig

/// `if`/`unless` followed by ACL names, `!`, `||`/`or` and anonymous `{ ... }` ACLs:
/// alternatives of conjunctions, resolved to compiled ACLs at load time.
/// Evaluated for every rule of every request, so it is laid out flat: the ACLs of all
/// its terms in one array, and the terms as plain values pointing into it.
public final class ACLCondition: Sendable {
    struct Term: Sendable {
        var negated: Bool
        /// The last term of its alternative (the conjunction before `||` or the end).
        var last: Bool
        /// The ACLs of one name, `acls[first..<end]`: the term holds when any matches.
        var first: Int
        var end: Int
    }

    public let unless: Bool
    let terms: [Term]
    /// The ACLs are held here; `references` are the same without reference counting
    /// for the walk (they live as long as `acls`).
    let acls: [ACL]
    private let references: [Unmanaged<ACL>]
    /// The condition as written, for messages.
    public let text: String

    /// Compiles `condition` against the proxy's named ACLs (declared anywhere in the
    /// proxy, as HAProxy resolves them) and the predefined ones.
    public init(_ condition: RuleCondition, acls named: [String: [ACL]], files: PatternFiles) throws(ConfigError) {
        unless = condition.negated
        text = condition.words.joined(separator: " ")
        var alternatives: [[(negated: Bool, acls: [ACL])]] = [[]]
        var words = condition.terms[...]
        var negateNext = false
        while let word = words.popFirst() {
            // Exclamation marks may stand alone or lead any ACL word, `!{` included,
            // each one reversing the next ACL (as HAProxy reads them).
            var name = Substring(word)
            while name.hasPrefix("!") { negateNext.toggle(); name = name.dropFirst() }
            switch name {
            case "":
                continue
            case "||", "or":
                guard !alternatives[alternatives.count - 1].isEmpty, !negateNext else {
                    throw ConfigError("missing ACL before '\(word)' in condition '\(text)'.")
                }
                alternatives.append([])
                continue
            case "{":
                guard let close = words.firstIndex(of: "}") else {
                    throw ConfigError("missing '}' closing the anonymous ACL in condition '\(text)'.", hint: "braces are separate words: '{ path /x }'")
                }
                let inner = Array(words[..<close])
                words = words[(close + 1)...]
                guard let criterion = inner.first else { throw ConfigError("empty anonymous ACL '{ }' in condition '\(text)'.") }
                let acl = try ACL(criterion: criterion, arguments: Array(inner.dropFirst()), files: files)
                alternatives[alternatives.count - 1].append((negateNext, [acl]))
            case "and", "&&":
                throw ConfigError("'\(word)' is not an operator in conditions: ACLs side by side are already ANDed.", hint: "write 'if acl1 acl2'")
            default:
                if let acls = named[String(name)] {
                    alternatives[alternatives.count - 1].append((negateNext, acls))
                } else if let predefined = try PredefinedACL.acl(String(name), files: files) {
                    alternatives[alternatives.count - 1].append((negateNext, [predefined]))
                } else {
                    throw ConfigError("no such ACL : '\(name)'\(Suggestion.didYouMean(String(name), in: Array(named.keys) + PredefinedACL.names)).",
                                      hint: "declare it with 'acl \(name) CRITERION PATTERN' in this section")
                }
            }
            negateNext = false
        }
        guard !alternatives[alternatives.count - 1].isEmpty else {
            throw ConfigError("condition '\(text)' ends without an ACL.")
        }
        var terms: [Term] = [], acls: [ACL] = []
        for alternative in alternatives {
            for (k, term) in alternative.enumerated() {
                terms.append(Term(negated: term.negated, last: k == alternative.count - 1, first: acls.count, end: acls.count + term.acls.count))
                acls += term.acls
            }
        }
        self.terms = terms
        self.acls = acls
        references = acls.map { Unmanaged.passUnretained($0) }
    }

    /// True when the rule applies.
    public func holds(_ c: SampleContext) -> Bool {
        // Plain loops over plain values: this runs for every rule of every request.
        references.withUnsafeBufferPointer { acls in
            terms.withUnsafeBufferPointer { terms in
                var k = 0
                while k < terms.count {
                    // One alternative: its terms up to the last, skipped once one fails.
                    var all = true
                    var term = terms[k]
                    while true {
                        if all {
                            var matched = false
                            var j = term.first
                            while j < term.end {
                                if acls[j]._withUnsafeGuaranteedRef({ $0.matches(c) }) {
                                    matched = true
                                    break
                                }
                                j += 1
                            }
                            if matched == term.negated { all = false }
                        }
                        k += 1
                        if term.last || k == terms.count { break }
                        term = terms[k]
                    }
                    if all { return !unless }
                }
                return unless
            }
        }
    }
}
