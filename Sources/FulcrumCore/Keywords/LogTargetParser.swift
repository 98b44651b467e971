/// `log <target> [len <n>] [format <fmt>] [sample <ranges>:<size>] <facility> [<level> [<minlevel>]]`.
enum LogTargetParser {
    static func parse(_ ctx: KeywordContext) throws(ConfigError) -> LogTarget {
        let target = try ctx.argument(0, "<address> and <facility>")
        let destination: LogTarget.Destination
        switch target {
        case "stdout": destination = .stdout
        case "stderr": destination = .stderr
        default:
            if target.hasPrefix("ring@") {
                destination = .ring(String(target.dropFirst(5)))
            } else {
                var spec = try AddressSpec.parse(target, role: .log)
                if case .inet = spec.kind, spec.ports == nil { spec.ports = 514...514 }
                destination = .address(spec)
            }
        }
        var log = LogTarget(destination: destination, location: ctx.location)
        var i = 1
        while i < ctx.args.count {
            switch ctx.args[i] {
            case "len":
                log.length = try ctx.integer(i + 1, "<length>", in: 80...65535); i += 2
            case "format":
                let f = try ctx.argument(i + 1, "<format>")
                guard LogTarget.formats.contains(f) else {
                    throw ConfigError("unknown log format '\(f)'\(Suggestion.didYouMean(f, in: LogTarget.formats)).")
                }
                log.format = f; i += 2
            case "sample":
                log.sample = try LogSampling(parsing: ctx.argument(i + 1, "<ranges>:<size>")); i += 2
            default:
                let facility = ctx.args[i]
                guard LogTarget.facilities.contains(facility) else {
                    throw ConfigError("unknown log facility '\(facility)'\(Suggestion.didYouMean(facility, in: LogTarget.facilities)).")
                }
                log.facility = facility
                if let level = ctx.optionalArgument(i + 1) {
                    guard LogTarget.levels.contains(level) else {
                        throw ConfigError("unknown optional log level '\(level)'\(Suggestion.didYouMean(level, in: LogTarget.levels)).")
                    }
                    log.maxLevel = level
                }
                if let minLevel = ctx.optionalArgument(i + 2) {
                    guard LogTarget.levels.contains(minLevel) else {
                        throw ConfigError("unknown optional minimum log level '\(minLevel)'.")
                    }
                    log.minLevel = minLevel
                }
                try ctx.requireNoArguments(after: i + 3)
                return log
            }
        }
        throw ConfigError("'log' expects a facility after the address (e.g. 'local0').")
    }
}
