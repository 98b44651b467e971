/// keepalived.conf text to a tree of statements. Handles what keepalived handles before
/// keywords mean anything: `!` and `#` comments, double quotes, braces (also on their own
/// line or several on one line), `$NAME=value` definitions and `$NAME`/`${NAME}` uses,
/// `@ID`/`@^ID` lines for one config-id, and `include` with glob patterns (relative
/// patterns are resolved against the including file's directory).
public struct ConfigReader {
    public var fileSystem: ConfigFileSystem
    /// keepalived's `-i`: lines starting with `@ID` are kept only for that id.
    public var configID: String?
    public private(set) var diagnostics: [KeepalivedDiagnostic] = []
    public private(set) var files: [String] = []
    private var definitions: [String: String] = [:]
    private var includeDepth = 0

    public init(fileSystem: ConfigFileSystem = .live, configID: String? = nil) {
        self.fileSystem = fileSystem
        self.configID = configID
    }

    struct Token: Equatable {
        var text: String
        var quoted: Bool
        var location: SourceLocation
        var endsLine: Bool
    }

    public mutating func read(path: String) -> [ConfigStatement] {
        var tokens: [Token] = []
        readFile(path, included: nil, into: &tokens)
        var index = 0
        let statements = parseBlock(tokens, &index, closing: nil)
        return statements
    }

    public mutating func read(text: String, file: String) -> [ConfigStatement] {
        var tokens: [Token] = []
        files.append(file)
        tokenize(text: text, file: file, into: &tokens)
        var index = 0
        return parseBlock(tokens, &index, closing: nil)
    }

    private mutating func readFile(_ path: String, included location: SourceLocation?, into tokens: inout [Token]) {
        guard let text = fileSystem.readFile(path) else {
            diagnostics.append(.init(.error, "cannot read configuration file \(path)", at: location))
            return
        }
        files.append(path)
        tokenize(text: text, file: path, into: &tokens)
    }

    private mutating func tokenize(text: String, file: String, into tokens: inout [Token]) {
        var lineNumber = 0
        var pending = ""
        var pendingStart = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            // A trailing backslash continues a definition or statement on the next line.
            if line.hasSuffix("\\") {
                if pending.isEmpty { pendingStart = lineNumber }
                pending += String(line.dropLast()) + " "
                continue
            }
            let start = pending.isEmpty ? lineNumber : pendingStart
            let full = pending + line
            pending = ""
            handleLine(full, location: SourceLocation(file: file, line: start), into: &tokens)
        }
    }

    private mutating func handleLine(_ original: String, location: SourceLocation, into tokens: inout [Token]) {
        var line = Substring(original).drop { $0 == " " || $0 == "\t" }
        if line.hasPrefix("@") {
            let tag = line.prefix { $0 != " " && $0 != "\t" }
            line = line.dropFirst(tag.count).drop { $0 == " " || $0 == "\t" }
            var id = tag.dropFirst()
            var negated = false
            if id.hasPrefix("^") { negated = true; id = id.dropFirst() }
            let matches = configID.map { $0 == String(id) } ?? false
            if matches == negated { return }
        }
        if line.hasPrefix("$") {
            let body = line.dropFirst()
            if let eq = body.firstIndex(of: "="), body[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !body[..<eq].isEmpty {
                let name = String(body[..<eq])
                let value = String(body[body.index(after: eq)...]).trimmingSpaces()
                definitions[name] = value
                return
            }
        }
        let expanded = expand(String(line), location: location)
        var words = splitWords(expanded, location: location)
        guard !words.isEmpty else { return }
        if words[0].text == "include", !words[0].quoted {
            guard words.count >= 2 else {
                diagnostics.append(.init(.error, "'include' needs a file name or pattern", at: location))
                return
            }
            includeDepth += 1
            defer { includeDepth -= 1 }
            guard includeDepth < 16 else {
                diagnostics.append(.init(.error, "include nested too deeply (loop?)", at: location))
                return
            }
            for pattern in words.dropFirst().map(\.text) {
                var resolved = pattern
                if !pattern.hasPrefix("/"), let slash = location.file.lastIndex(of: "/") {
                    resolved = String(location.file[...slash]) + pattern
                }
                let matches = fileSystem.glob(resolved)
                if matches.isEmpty {
                    diagnostics.append(.init(.warning, "include \(pattern): no file matches", at: location))
                }
                for path in matches { readFile(path, included: location, into: &tokens) }
            }
            return
        }
        words[words.count - 1].endsLine = true
        tokens += words
    }

    /// `$NAME` and `${NAME}` anywhere in a line; an unknown name is left as written and
    /// reported, as a typo there would otherwise reach a script or address verbatim.
    private mutating func expand(_ line: String, location: SourceLocation) -> String {
        guard line.contains("$") else { return line }
        var out = ""
        var chars = Array(line)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "$", let next = chars.first, next == "{" || next.isLetter || next == "_" else {
                out.append(c)
                continue
            }
            var name = ""
            if next == "{" {
                guard let close = chars.firstIndex(of: "}") else { out.append(c); continue }
                name = String(chars[chars.index(after: chars.startIndex)..<close])
                chars = chars[chars.index(after: close)...]
            } else {
                while let n = chars.first, n.isLetter || n.isNumber || n == "_" { name.append(n); chars = chars.dropFirst() }
            }
            if let value = definitions[name] {
                out += value
            } else {
                diagnostics.append(.init(.warning, "undefined definition $\(name)", at: location))
                out += "$" + name
            }
        }
        return out
    }

    private func splitWords(_ line: String, location: SourceLocation) -> [Token] {
        var words: [Token] = []
        var current = ""
        var inWord = false
        var quoted = false
        var inQuotes = false
        func flush() {
            if inWord { words.append(Token(text: current, quoted: quoted, location: location, endsLine: false)) }
            current = ""; inWord = false; quoted = false
        }
        for c in line {
            if inQuotes {
                if c == "\"" { inQuotes = false } else { current.append(c) }
                continue
            }
            switch c {
            case " ", "\t":
                flush()
            case "\"":
                inQuotes = true; quoted = true; inWord = true
            case "{", "}":
                flush()
                words.append(Token(text: String(c), quoted: false, location: location, endsLine: false))
            case "!" where !inWord, "#" where !inWord:
                flush()
                return words
            default:
                current.append(c); inWord = true
            }
        }
        flush()
        return words
    }

    /// Statements until the matching `}` (or the end). A statement is the words of one
    /// line; a `{` at its end, or alone on the next line, opens its block.
    private mutating func parseBlock(_ tokens: [Token], _ i: inout Int, closing: SourceLocation?) -> [ConfigStatement] {
        var out: [ConfigStatement] = []
        var words: [Token] = []
        func finish() {
            if let first = words.first {
                out.append(ConfigStatement(words: words.map(\.text), location: first.location))
            }
            words = []
        }
        while i < tokens.count {
            let t = tokens[i]
            i += 1
            if !t.quoted && t.text == "}" {
                finish()
                if closing == nil {
                    diagnostics.append(.init(.error, "unexpected '}'", at: t.location))
                    continue
                }
                return out
            }
            if !t.quoted && t.text == "{" {
                if words.isEmpty, let last = out.last, last.block == nil {
                    // "name\n{": the block belongs to the previous line's statement.
                    out.removeLast()
                    words = last.words.map { Token(text: $0, quoted: false, location: last.location, endsLine: false) }
                }
                guard let first = words.first else {
                    diagnostics.append(.init(.error, "'{' without a keyword before it", at: t.location))
                    _ = parseBlock(tokens, &i, closing: t.location)
                    continue
                }
                let inner = parseBlock(tokens, &i, closing: t.location)
                out.append(ConfigStatement(words: words.map(\.text), location: first.location, block: inner))
                words = []
                continue
            }
            words.append(t)
            if t.endsLine { finish() }
        }
        finish()
        if let closing {
            diagnostics.append(.init(.error, "block opened here is never closed with '}'", at: closing))
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
