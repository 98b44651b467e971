/// The words `ssl-default-bind-options` and `ssl-default-server-options` accept.
enum SSLOptions {
    static let known: Set<String> = [
        "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "no-tls-tickets", "force-sslv3", "force-tlsv10",
        "force-tlsv11", "force-tlsv12", "force-tlsv13", "prefer-client-ciphers", "ssl-min-ver", "ssl-max-ver", "no-ca-names",
        "allow-0rtt",
    ]
    static let versions: Set<String> = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

    static func validate(_ ctx: KeywordContext) throws(ConfigError) -> [String] {
        _ = try ctx.argument(0, "<options>")
        var i = 0
        while i < ctx.args.count {
            let word = ctx.args[i]
            guard known.contains(word) else {
                throw ConfigError("'\(ctx.keyword)': unknown option '\(word)'\(Suggestion.didYouMean(word, in: known)).")
            }
            if word == "ssl-min-ver" || word == "ssl-max-ver" {
                guard i + 1 < ctx.args.count, versions.contains(ctx.args[i + 1]) else {
                    throw ConfigError("'\(ctx.keyword)': '\(word)' expects one of \(versions.sorted().joined(separator: ", ")).")
                }
                i += 1
            }
            i += 1
        }
        return ctx.args
    }
}
