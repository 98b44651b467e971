/// An `http-request`/`http-response` rule the HTTP data plane carries out, compiled from
/// its configuration line once at start-up. Values are log-format strings rendered per
/// message; a rule with a condition waits for ACL evaluation.
public enum HTTPHeaderRule: Sendable {
    case addHeader(name: String, value: LogFormat)
    case setHeader(name: String, value: LogFormat)
    case deleteHeader(name: String)
    /// Every occurrence of the header whose value matches is given the replacement,
    /// in which `\1`...`\9` stand for the pattern's groups.
    case replaceHeader(name: String, pattern: String, replacement: LogFormat)
    case setPath(LogFormat)
    case setURI(LogFormat)

    /// Compiles one configured rule, or says why the data plane cannot carry it yet.
    public static func compile(_ rule: HTTPRuleConfig) throws(ConfigError) -> HTTPHeaderRule {
        if let condition = rule.condition {
            throw ConfigError("'\(rule.action)' rule with '\(condition.words.joined(separator: " "))': conditions need ACL evaluation, which is not implemented yet.")
        }
        let args = rule.arguments
        func argument(_ i: Int, _ what: String) throws(ConfigError) -> String {
            guard i < args.count else { throw ConfigError("'\(rule.action)' expects \(what).") }
            return args[i]
        }
        func expectCount(_ n: Int) throws(ConfigError) {
            if args.count > n { throw ConfigError("'\(rule.action)': unexpected argument '\(args[n])'.") }
        }
        switch rule.action {
        case "add-header":
            let name = try argument(0, "<name> <format>")
            let value = try LogFormat(parsing: try argument(1, "<name> <format>"))
            try expectCount(2)
            return .addHeader(name: name, value: value)
        case "set-header":
            let name = try argument(0, "<name> <format>")
            let value = try LogFormat(parsing: try argument(1, "<name> <format>"))
            try expectCount(2)
            return .setHeader(name: name, value: value)
        case "del-header":
            let name = try argument(0, "<name>")
            if args.count > 1 {
                guard args.count == 3, args[1] == "-m", args[2] == "str" else {
                    throw ConfigError("'del-header' with a match method other than '-m str' is not implemented yet.")
                }
            }
            return .deleteHeader(name: name)
        case "replace-header":
            let name = try argument(0, "<name> <match-regex> <replace-fmt>")
            let pattern = try argument(1, "<name> <match-regex> <replace-fmt>")
            let replacement = try LogFormat(parsing: try argument(2, "<name> <match-regex> <replace-fmt>"))
            try expectCount(3)
            return .replaceHeader(name: name, pattern: pattern, replacement: replacement)
        case "set-path":
            let value = try LogFormat(parsing: try argument(0, "<format>"))
            try expectCount(1)
            return .setPath(value)
        case "set-uri":
            let value = try LogFormat(parsing: try argument(0, "<format>"))
            try expectCount(1)
            return .setURI(value)
        default:
            throw ConfigError("'\(rule.action)' rules are recognised but not carried out by the data plane yet.",
                              hint: "add-header, set-header, del-header, replace-header, set-path and set-uri are")
        }
    }
}
