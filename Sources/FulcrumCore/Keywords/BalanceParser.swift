/// `balance ALGORITHM [ARGUMENTS]`.
enum BalanceParser {
    static func parse(_ ctx: KeywordContext) throws(ConfigError) -> BalanceAlgorithm {
        let name = try ctx.argument(0, "an algorithm")
        let rest = Array(ctx.args.dropFirst())
        func noMore() throws(ConfigError) { try ctx.requireNoArguments(after: 1) }
        switch name {
        case "roundrobin": try noMore(); return .roundRobin
        case "static-rr": try noMore(); return .staticRoundRobin
        case "leastconn": try noMore(); return .leastConnections
        case "first": try noMore(); return .first
        case "source": try noMore(); return .source
        case "uri": return .uri(arguments: rest)
        case "url_param":
            guard let param = rest.first else { throw ConfigError("'balance url_param' requires an URL parameter name.") }
            return .urlParameter(name: param, arguments: Array(rest.dropFirst()))
        case "hash":
            guard !rest.isEmpty else { throw ConfigError("'balance hash' requires a sample expression.") }
            return .hash(expression: rest.joined(separator: " "))
        case "random": try noMore(); return .random(draws: 2)
        default:
            if let inner = parenthesised(name, "hdr") {
                return .header(name: inner, arguments: rest)
            }
            if let inner = parenthesised(name, "rdp-cookie") {
                return .rdpCookie(name: inner.isEmpty ? "mstshash" : inner)
            }
            if name == "rdp-cookie" { return .rdpCookie(name: "mstshash") }
            if let inner = parenthesised(name, "random"), let draws = Int(inner), draws > 0 {
                return .random(draws: draws)
            }
            throw ConfigError("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)', 'random', 'first', 'hash' and 'rdp-cookie(name)' options (got '\(name)')\(Suggestion.didYouMean(name, in: ["roundrobin", "static-rr", "leastconn", "source", "uri", "url_param", "random", "first", "hash"])).")
        }
    }

    private static func parenthesised(_ word: String, _ prefix: String) -> String? {
        guard word.hasPrefix(prefix + "("), word.hasSuffix(")") else { return nil }
        return String(word.dropFirst(prefix.count + 1).dropLast())
    }
}
