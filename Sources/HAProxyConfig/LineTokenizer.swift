/// Splits one physical configuration line into words following HAProxy's rules
/// (configuration manual, sections 2.2 and 2.3): unprotected spaces and tabs separate
/// words, an unprotected `#` starts a comment, backslash escapes outside single quotes,
/// weak (double) quotes that expand environment variables, strong (single) quotes.
///
/// Works on bytes so that a line with invalid UTF-8 or control characters is reported,
/// never trapped on.
public struct LineTokenizer: Sendable {
    public struct Failure: Error, Hashable, Sendable {
        /// 0-based byte offset of the offending character in the line.
        public var position: Int
        public var message: String
    }

    /// Looks an environment variable up; `nil` means unset (which differs from empty
    /// for `${NAME-default}`).
    public var environment: @Sendable (String) -> String?
    /// Values of the pseudo-variables `.FILE`, `.LINE`, `.SECTION`.
    public var pseudoVariables: [String: String]

    public init(environment: @escaping @Sendable (String) -> String?, pseudoVariables: [String: String] = [:]) {
        self.environment = environment
        self.pseudoVariables = pseudoVariables
    }

    public func tokenize(_ line: String) -> Result<[String], Failure> {
        tokenize(Array(line.utf8))
    }

    public func tokenize(_ bytes: [UInt8]) -> Result<[String], Failure> {
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        /// A word exists once something (even an empty pair of quotes) was written to it.
        var inWord = false
        var quote: UInt8? = nil
        var quoteStart = 0
        var i = 0
        let n = bytes.count

        func finishWord() {
            if inWord { words.append(current) }
            current.removeAll(keepingCapacity: true)
            inWord = false
        }

        while i < n {
            let c = bytes[i]
            if c == 0 {
                return .failure(Failure(position: i, message: "NUL character at position \(i + 1)"))
            }
            if quote == UInt8(ascii: "'") {
                if c == UInt8(ascii: "'") { quote = nil } else { current.append(c) }
                i += 1
                continue
            }
            if quote == nil && (c == UInt8(ascii: " ") || c == UInt8(ascii: "\t")) {
                finishWord()
                i += 1
                continue
            }
            if quote == nil && (c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")) && i == n - 1 {
                break
            }
            if quote == nil && c == UInt8(ascii: "#") {
                break
            }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < n else {
                    // A lone trailing backslash is kept: HAProxy has no line continuation.
                    current.append(c); inWord = true; i += 1
                    continue
                }
                let e = bytes[i + 1]
                switch e {
                case UInt8(ascii: " "), UInt8(ascii: "#"), UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""):
                    current.append(e); i += 2
                case UInt8(ascii: "\t"):
                    // Inside double quotes `\<TAB>` is a tab; outside, HAProxy keeps the
                    // backslash and the tab still separates words.
                    if quote == nil { current.append(c); i += 1 } else { current.append(e); i += 2 }
                case UInt8(ascii: "$") where quote == UInt8(ascii: "\""):
                    // Outside double quotes HAProxy 2.6 keeps `\$` as written (regexes rely on it).
                    current.append(e); i += 2
                case UInt8(ascii: "n"): current.append(0x0A); i += 2
                case UInt8(ascii: "r"): current.append(0x0D); i += 2
                case UInt8(ascii: "t"): current.append(0x09); i += 2
                case UInt8(ascii: "x"):
                    guard i + 3 < n, let hi = Self.hexValue(bytes[i + 2]), let lo = Self.hexValue(bytes[i + 3]) else {
                        return .failure(Failure(position: i, message: "truncated or invalid hexadecimal sequence at position \(i + 1)"))
                    }
                    current.append(hi << 4 | lo); i += 4
                default:
                    // Unknown escapes stay as written: regular expressions rely on it (`\.`, `\d`).
                    current.append(c); current.append(e); i += 2
                }
                inWord = true
                continue
            }
            if quote == nil && (c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")) {
                quote = c; quoteStart = i; inWord = true; i += 1
                continue
            }
            if quote == UInt8(ascii: "\"") && c == UInt8(ascii: "\"") {
                quote = nil; i += 1
                continue
            }
            if quote == UInt8(ascii: "\"") && c == UInt8(ascii: "$") {
                switch expandVariable(bytes, at: i) {
                case .failure(let failure):
                    return .failure(failure)
                case .success(let (value, split, next)):
                    if split {
                        // `${NAME[*]}`: the value's space-separated parts become separate words.
                        let parts = value.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
                        for (k, part) in parts.enumerated() {
                            if k > 0 { finishWord() }
                            current.append(contentsOf: part); inWord = true
                        }
                    } else {
                        current.append(contentsOf: value); inWord = true
                    }
                    i = next
                }
                continue
            }
            current.append(c); inWord = true; i += 1
        }
        if quote != nil {
            return .failure(Failure(position: quoteStart, message: "unmatched quote at position \(quoteStart + 1)"))
        }
        finishWord()
        return .success(words.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Expands `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME[*]}` starting at the `$`.
    private func expandVariable(_ bytes: [UInt8], at start: Int) -> Result<([UInt8], Bool, Int), Failure> {
        let n = bytes.count
        var i = start + 1
        if i < n && bytes[i] == UInt8(ascii: "{") {
            i += 1
            let nameStart = i
            while i < n && (Self.isNameByte(bytes[i]) || bytes[i] == UInt8(ascii: ".")) { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            var split = false
            var defaultValue: [UInt8]? = nil
            if i + 2 < n && bytes[i] == UInt8(ascii: "[") && bytes[i + 1] == UInt8(ascii: "*") && bytes[i + 2] == UInt8(ascii: "]") {
                split = true; i += 3
            }
            if i < n && bytes[i] == UInt8(ascii: "-") {
                i += 1
                let valueStart = i
                while i < n && bytes[i] != UInt8(ascii: "}") { i += 1 }
                defaultValue = Array(bytes[valueStart..<i])
            }
            guard i < n && bytes[i] == UInt8(ascii: "}"), !name.isEmpty else {
                return .failure(Failure(position: start, message: "no closing '}' after variable name at position \(start + 1)"))
            }
            i += 1
            if name.hasPrefix("."), pseudoVariables[name] == nil {
                return .failure(Failure(position: start, message: "unknown pseudo-variable '\(name)' at position \(start + 1)"))
            }
            return .success((lookup(name, defaultValue: defaultValue), split, i))
        }
        let nameStart = i
        guard i < n, Self.isNameByte(bytes[i]) || bytes[i] == UInt8(ascii: "."), !(bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9")) else {
            return .failure(Failure(position: start, message: "forbidden first char in environment variable name at position \(start + 1)"))
        }
        i += 1
        while i < n && Self.isNameByte(bytes[i]) { i += 1 }
        let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
        if name.hasPrefix("."), pseudoVariables[name] == nil {
            return .failure(Failure(position: start, message: "unknown pseudo-variable '\(name)' at position \(start + 1)"))
        }
        return .success((lookup(name, defaultValue: nil), false, i))
    }

    private func lookup(_ name: String, defaultValue: [UInt8]?) -> [UInt8] {
        if name.hasPrefix(".") {
            return Array((pseudoVariables[name] ?? "").utf8)
        }
        if let value = environment(name) { return Array(value.utf8) }
        return defaultValue ?? []
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
