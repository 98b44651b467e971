/// Turns the text of configuration files into sections: tokenizes each line, applies
/// conditional blocks and the report directives, and groups statements under the
/// section keyword that precedes them. Never traps on any input; every problem is
/// a diagnostic with `file:line`.
public struct ConfigReader: Sendable {
    public var context: ConditionContext
    public private(set) var document = ConfigDocument()
    public private(set) var diagnostics = DiagnosticList()

    public init(context: ConditionContext) {
        self.context = context
    }

    /// Reads one file's contents. Sections never continue across files.
    public mutating func read(file: String, contents: [UInt8]) {
        document.files.append(file)
        var physical: [String] = []
        var blocks = ConditionalBlockStack()
        var current: ConfigSection? = nil
        var lineNumber = 0
        var start = 0
        let n = contents.count

        while start < n {
            var end = start
            while end < n && contents[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            var lineBytes = Array(contents[start..<end])
            if lineBytes.last == UInt8(ascii: "\r") { lineBytes.removeLast() }
            start = end + 1
            let raw = String(decoding: lineBytes, as: UTF8.self)
            physical.append(raw)
            let location = SourceLocation(file: file, line: lineNumber)

            let tokenizer = LineTokenizer(environment: context.environment, pseudoVariables: [
                ".FILE": file, ".LINE": String(lineNumber), ".SECTION": current?.displayName ?? "",
            ])
            let words: [String]
            switch tokenizer.tokenize(lineBytes) {
            case .success(let w):
                words = w
            case .failure(let failure):
                if blocks.isActive {
                    diagnostics.alert(failure.message + ":\n  " + raw + "\n  " + String(repeating: " ", count: failure.position) + "^", at: location)
                }
                continue
            }
            guard let first = words.first else { continue }

            if first.hasPrefix(".") {
                handleDirective(words, raw: raw, at: location, blocks: &blocks)
                continue
            }
            guard blocks.isActive else { continue }
            let line = ConfigLine(words: words, location: location, raw: raw)

            if let kind = SectionKind(rawValue: first) {
                if let section = current { document.sections.append(section) }
                current = openSection(kind, line)
                continue
            }
            guard current != nil else {
                diagnostics.alert("unknown keyword '\(first)' out of section.", at: location,
                                  hint: "every file must start with a section keyword: global, defaults, frontend, backend or listen")
                continue
            }
            current!.lines.append(line)
        }
        if let section = current { document.sections.append(section) }
        for opened in blocks.openBlocks {
            diagnostics.alert("'.if' block opened here is not terminated by '.endif' at the end of the file", at: opened)
        }
        document.sourceText[file] = physical
    }

    private mutating func handleDirective(_ words: [String], raw: String, at location: SourceLocation, blocks: inout ConditionalBlockStack) {
        let directive = words[0]
        let rest = words.dropFirst().joined(separator: " ")
        do {
            switch directive {
            case ".if":
                let value = blocks.isActive ? evaluate(rest, at: location) : false
                blocks.openIf(condition: value, at: location)
            case ".elif":
                let value = blocks.needsConditionForElif ? evaluate(rest, at: location) : false
                try blocks.elif(condition: value)
            case ".else":
                try blocks.otherwise()
            case ".endif":
                try blocks.endif()
            case ".diag":
                break
            case ".notice":
                if blocks.isActive { diagnostics.append(.notice(rest, at: location)) }
            case ".warning":
                if blocks.isActive { diagnostics.warning(rest, at: location) }
            case ".alert":
                if blocks.isActive { diagnostics.alert(rest, at: location) }
            default:
                if blocks.isActive {
                    diagnostics.alert("unknown directive '\(directive)'", at: location,
                                      hint: "directives are .if, .elif, .else, .endif, .diag, .notice, .warning and .alert")
                }
            }
        } catch {
            diagnostics.alert(error.message, at: location)
        }
    }

    private mutating func evaluate(_ condition: String, at location: SourceLocation) -> Bool {
        switch ConditionExpression.evaluate(condition, in: context) {
        case .success(let value):
            return value
        case .failure(let failure):
            diagnostics.alert("failed to evaluate condition: \(failure.message)", at: location)
            return false
        }
    }

    private mutating func openSection(_ kind: SectionKind, _ line: ConfigLine) -> ConfigSection {
        var args = Array(line.arguments)
        var name: String? = nil
        var from: String? = nil
        if let fromIndex = args.firstIndex(of: "from"), kind.isProxy, fromIndex == 1 || (kind == .defaults && fromIndex == 0) {
            if fromIndex + 1 < args.count {
                from = args[fromIndex + 1]
                args.removeSubrange(fromIndex...(fromIndex + 1))
            } else {
                diagnostics.alert("'from' requires the name of a defaults section.", at: line.location)
                args.remove(at: fromIndex)
            }
        }
        if kind == .global {
            if !args.isEmpty {
                diagnostics.alert("'global' section takes no argument (got '\(args[0])').", at: line.location)
            }
        } else if let first = args.first {
            name = first
            if let bad = first.unicodeScalars.first(where: { !Self.isNameCharacter($0) }) {
                diagnostics.alert("character '\(bad)' is not permitted in '\(kind.rawValue)' name '\(first)'.", at: line.location)
            }
            if args.count > 1 {
                diagnostics.alert("'\(kind.rawValue) \(first)' cannot handle unexpected argument '\(args[1])'.", at: line.location)
            }
        } else if kind.requiresName {
            diagnostics.alert("'\(kind.rawValue)' expects <name> as an argument.", at: line.location)
        }
        if let from, from.isEmpty || from.unicodeScalars.contains(where: { !Self.isNameCharacter($0) }) {
            diagnostics.alert("invalid defaults name '\(from)' after 'from'.", at: line.location)
        }
        if !kind.isSupported {
            diagnostics.alert("'\(kind.rawValue)' sections are not supported yet by Fulcrum.", at: line.location,
                              hint: "remove the section, or keep HAProxy for this configuration until Fulcrum supports it (see the README's keyword table)")
        }
        return ConfigSection(kind: kind, name: name, fromDefaults: from, header: line)
    }

    /// HAProxy permits letters, digits, '-', '_', '.' and ':' in object names.
    static func isNameCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", ":": return true
        default: return false
        }
    }
}
