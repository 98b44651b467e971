/// The keywords of a `ring` section, with HAProxy 2.6's checks and messages.
public enum RingKeywords {
    typealias Spec = KeywordSpec<RingConfig>

    /// HAProxy reads ring sizes with `atol`: the leading digits, units ignored.
    static func leadingNumber(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits.prefix(18))
    }

    public static let table = KeywordTable<RingConfig>([
        Spec("description", usage: "description <text>", status: .active) { r, ctx throws(ConfigError) in
            guard !ctx.args.isEmpty else { throw ConfigError("missing ring description text.") }
            r.description = ctx.args.joined(separator: " ")
        },
        Spec("format", usage: "format <format> (how events are stored: \(LogTarget.formats.joined(separator: ", ")); raw unless told)", status: .active) { r, ctx throws(ConfigError) in
            let format = try ctx.argument(0, "<format>")
            guard LogTarget.formats.contains(format) else { throw ConfigError("unknown format '\(format)'\(Suggestion.didYouMean(format, in: LogTarget.formats)).") }
            try ctx.requireNoArguments(after: 1)
            r.format = format
        },
        Spec("maxlen", usage: "maxlen <length>", status: .active) { r, ctx throws(ConfigError) in
            let text = try ctx.argument(0, "<length>")
            guard let length = leadingNumber(text), length > 0 else { throw ConfigError("invalid size '\(text)' for new sink buffer.") }
            r.maxLength = length
            r.maxLengthLocation = ctx.location
        },
        Spec("size", usage: "size <bytes> (at least \(RingConfig.minimumSize))", status: .active) { r, ctx throws(ConfigError) in
            let text = try ctx.argument(0, "<size>")
            guard let size = leadingNumber(text), size > 0 else { throw ConfigError("invalid size '\(text)' for new sink buffer.") }
            guard size >= r.size else {
                // A warning in HAProxy's words, which then refuses the configuration.
                throw ConfigError("ignoring new size '\(size)' that is smaller than current size '\(r.size)' for ring '\(r.name)'.",
                                  hint: "a ring holds at least \(RingConfig.minimumSize) bytes")
            }
            guard size <= 1 << 30 else { throw ConfigError("invalid size '\(text)' for new sink buffer.", hint: "at most 1073741824 bytes") }
            r.size = size
        },
        Spec("timeout connect", usage: "timeout connect <time>", status: .active) { r, ctx throws(ConfigError) in
            guard !ctx.args.isEmpty else { throw ConfigError("'timeout connect' expects <time> as argument.") }
            r.connectTimeout = try ctx.duration(0)
        },
        Spec("timeout server", usage: "timeout server <time>", status: .active) { r, ctx throws(ConfigError) in
            guard !ctx.args.isEmpty else { throw ConfigError("'timeout server' expects <time> as argument.") }
            r.serverTimeout = try ctx.duration(0)
        },
        Spec("server", usage: "server <name> <address>:<port> [log-proto legacy|octet-count] (TCP syslog; other server options are ignored)", status: .active) { r, ctx throws(ConfigError) in
            guard ctx.args.count >= 2 else { throw ConfigError("'server' expects <name> and <addr>[:<port>] as arguments.") }
            let address = try AddressSpec.parse(ctx.args[1], role: .server)
            guard case .inet = address.kind, address.ports != nil else {
                throw ConfigError("'server \(ctx.args[0])': a ring forwards to a TCP address with a port (got '\(ctx.args[1])').")
            }
            var server = RingConfig.Server(name: ctx.args[0], address: address, location: ctx.location)
            var i = 2
            while i < ctx.args.count {
                if ctx.args[i] == "log-proto" {
                    let proto = try ctx.argument(i + 1, "legacy or octet-count")
                    guard let framing = RingConfig.Server.Framing(rawValue: proto) else {
                        throw ConfigError("'log-proto' expects one of 'legacy' or 'octet-count' but got '\(proto)'.")
                    }
                    server.framing = framing
                    i += 2
                } else {
                    i += 1
                }
            }
            r.servers.append(server)
        },
        Spec("backing-file", usage: "backing-file <path>", status: .notYet) { _, _ throws(ConfigError) in
            throw ConfigError("'backing-file' is not supported yet by Fulcrum.", hint: "remove it: the ring then lives in memory only")
        },
    ])
}
