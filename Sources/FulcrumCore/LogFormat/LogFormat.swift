/// A log-format string (`log-format`, `unique-id-format`, header values of
/// `http-request set-header`, ...) compiled once at load time into literal runs and
/// variables, so that rendering per request is a walk over a short array.
public struct LogFormat: Hashable, Sendable {
    public enum Node: Hashable, Sendable {
        case literal([UInt8])
        case variable(LogVariable, LogFormatFlags)
        /// `%[fetch,converter...]`: a sample expression, kept as text.
        case sample(String, LogFormatFlags)
    }

    public var nodes: [Node]
    public var source: String

    /// True when the format holds no variable: its bytes never change.
    public var isConstant: Bool { nodes.allSatisfy { if case .literal = $0 { return true } else { return false } } }

    public var constantBytes: [UInt8] {
        nodes.flatMap { if case .literal(let bytes) = $0 { return bytes } else { return [] } }
    }

    public init(parsing text: String) throws(ConfigError) {
        source = text
        nodes = []
        var literal: [UInt8] = []
        var global: LogFormatFlags = []
        let chars = Array(text.utf8)
        var i = 0
        func flushLiteral() {
            if !literal.isEmpty { nodes.append(.literal(literal)); literal = [] }
        }
        while i < chars.count {
            let c = chars[i]
            guard c == UInt8(ascii: "%") else {
                literal.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < chars.count else { throw ConfigError("log-format '\(text)': '%' at the end of the format.", hint: "write '%%' for a literal percent sign") }
            if chars[i] == UInt8(ascii: "%") {
                literal.append(c)
                i += 1
                continue
            }
            var flags = global
            var explicit: (add: LogFormatFlags, remove: LogFormatFlags) = ([], [])
            if chars[i] == UInt8(ascii: "{") {
                guard let close = chars[i...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw ConfigError("log-format '\(text)': missing '}' after '%{'.")
                }
                explicit = try LogFormatFlags.parse(Substring(decoding: chars[(i + 1)..<close], as: UTF8.self))
                flags.formUnion(explicit.add)
                flags.subtract(explicit.remove)
                i = close + 1
            }
            if i < chars.count && chars[i] == UInt8(ascii: "[") {
                guard let close = chars[i...].firstIndex(of: UInt8(ascii: "]")) else {
                    throw ConfigError("log-format '\(text)': missing ']' after '%['.")
                }
                flushLiteral()
                nodes.append(.sample(String(decoding: chars[(i + 1)..<close], as: UTF8.self), flags))
                i = close + 1
                continue
            }
            var end = i
            while end < chars.count, isAlphanumeric(chars[end]) { end += 1 }
            let name = String(decoding: chars[i..<end], as: UTF8.self)
            guard let variable = LogVariable(rawValue: name) else {
                throw ConfigError(name.isEmpty ? "log-format '\(text)': '%' is not followed by a variable name."
                                              : "log-format '\(text)': no such variable '%\(name)'.",
                                  hint: "write '%%' for a literal percent sign; variables are listed in the log-format documentation")
            }
            i = end
            if variable == .optionSetter {
                global.formUnion(explicit.add)
                global.subtract(explicit.remove)
                // It prints nothing, and neither does the separator after it (HAProxy's
                // `%{+X}o %ci:...` IDs start with the address).
                if i < chars.count && chars[i] == UInt8(ascii: " ") { i += 1 }
                continue
            }
            flushLiteral()
            nodes.append(.variable(variable, flags))
        }
        flushLiteral()
    }

    private func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}
