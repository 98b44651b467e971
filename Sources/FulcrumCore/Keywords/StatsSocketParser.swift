/// `stats socket <address> [options]`.
enum StatsSocketParser {
    static func parse(_ ctx: KeywordContext) throws(ConfigError) -> StatsSocketConfig {
        let address = try ctx.argument(0, "<address>")
        let spec = try AddressSpec.parse(address, role: .bind)
        var socket = StatsSocketConfig(address: spec, location: ctx.location)
        var i = 1
        while i < ctx.args.count {
            let word = ctx.args[i]
            switch word {
            case "mode":
                let m = try ctx.argument(i + 1, "<octal mode>")
                guard !m.isEmpty, m.allSatisfy({ ("0"..."7").contains($0) }) else {
                    throw ConfigError("'stats socket': 'mode' expects an octal mode such as 0660, got '\(m)'.")
                }
                socket.mode = m; i += 2
            case "level":
                let l = try ctx.argument(i + 1, "<level>")
                guard StatsSocketConfig.levels.contains(l) else {
                    throw ConfigError("'stats socket': 'level' only supports 'user', 'operator', and 'admin' (got '\(l)').")
                }
                socket.level = l; i += 2
            case "user": socket.user = try ctx.argument(i + 1, "<user>"); i += 2
            case "group": socket.group = try ctx.argument(i + 1, "<group>"); i += 2
            case "uid", "gid", "process", "thread", "name", "severity-output", "maxconn", "backlog", "id", "interface", "namespace":
                socket.others[word] = try ctx.argument(i + 1, "<value>"); i += 2
            case "expose-fd":
                let what = try ctx.argument(i + 1, "listeners")
                guard what == "listeners" else { throw ConfigError("'stats socket': 'expose-fd' only supports 'listeners' (got '\(what)').") }
                socket.exposeFDListeners = true; i += 2
            case "accept-proxy", "transparent", "v4v6", "v6only", "defer-accept", "tfo":
                socket.others[word] = ""; i += 1
            default:
                throw ConfigError("'stats socket' : unknown keyword '\(word)'\(Suggestion.didYouMean(word, in: ["mode", "level", "user", "group", "expose-fd", "uid", "gid", "process", "thread", "name", "severity-output", "maxconn"])).")
            }
        }
        return socket
    }
}
