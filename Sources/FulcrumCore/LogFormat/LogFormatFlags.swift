/// The `{+Q,+X,...}` modifiers of a log-format variable.
public struct LogFormatFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `+Q`: wrap the value in double quotes.
    public static let quote = LogFormatFlags(rawValue: 1)
    /// `+X`: numbers and addresses in upper-case hexadecimal.
    public static let hex = LogFormatFlags(rawValue: 2)
    /// `+E`: escape characters that would break a log line.
    public static let escape = LogFormatFlags(rawValue: 4)

    static func parse(_ text: Substring) throws(ConfigError) -> (add: LogFormatFlags, remove: LogFormatFlags) {
        var add: LogFormatFlags = [], remove: LogFormatFlags = []
        var rest = text
        while let sign = rest.first {
            guard sign == "+" || sign == "-" else { throw ConfigError("log-format: unexpected '\(sign)' in flags '{\(text)}'.", hint: "flags look like {+Q} or {+X,-Q}") }
            rest = rest.dropFirst()
            let name = rest.prefix { $0 != "+" && $0 != "-" && $0 != "," }
            rest = rest.dropFirst(name.count).drop { $0 == "," }
            let flag: LogFormatFlags
            switch name {
            case "Q": flag = .quote
            case "X": flag = .hex
            case "E": flag = .escape
            default: throw ConfigError("log-format: unknown flag '\(name)'.", hint: "known flags: Q, X, E")
            }
            if sign == "+" { add.insert(flag) } else { remove.insert(flag) }
        }
        return (add, remove)
    }
}
