import HAProxyConfig

/// `if`/`unless` followed by ACL names, `!`, `||`/`or` and anonymous `{ ... }` ACLs:
/// alternatives of conjunctions, resolved to compiled ACLs at load time.
public struct ACLCondition: Sendable {
    struct Term: Sendable {
        var negated: Bool
        /// The ACLs of one name: the term holds when any of them matches.
        var acls: [ACL]
    }

    public let unless: Bool
    let alternatives: [[Term]]
    /// The condition as written, for messages.
    public let text: String

    /// Compiles `condition` against the proxy's named ACLs (declared anywhere in the
    /// proxy, as HAProxy resolves them) and the predefined ones.
    public init(_ condition: RuleCondition, acls named: [String: [ACL]], files: PatternFiles) throws(ConfigError) {
        unless = condition.negated
        text = condition.words.joined(separator: " ")
        var alternatives: [[Term]] = [[]]
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
                alternatives[alternatives.count - 1].append(Term(negated: negateNext, acls: [acl]))
            case "and", "&&":
                throw ConfigError("'\(word)' is not an operator in conditions: ACLs side by side are already ANDed.", hint: "write 'if acl1 acl2'")
            default:
                if let acls = named[String(name)] {
                    alternatives[alternatives.count - 1].append(Term(negated: negateNext, acls: acls))
                } else if let predefined = try PredefinedACL.acl(String(name), files: files) {
                    alternatives[alternatives.count - 1].append(Term(negated: negateNext, acls: [predefined]))
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
        self.alternatives = alternatives
    }

    /// True when the rule applies.
    public func holds(_ c: SampleContext) -> Bool {
        // Plain loops rather than nested closures: this runs for every rule of every
        // request, and closures capturing the context cost retains and releases.
        for terms in alternatives {
            var all = true
            for term in terms {
                var matched = false
                for acl in term.acls where acl.matches(c) {
                    matched = true
                    break
                }
                if matched == term.negated {
                    all = false
                    break
                }
            }
            if all { return !unless }
        }
        return unless
    }
}
