/// A block's keywords as data: name, what it takes (for docs and messages) and how it
/// applies to the block's model. Unknown words are refused, never skipped.
struct KeywordTable<Model>: Sendable {
    struct Entry: Sendable {
        var name: String
        var usage: String
        var apply: @Sendable (inout Model, ConfigStatement, inout ValueReader) -> Void
    }

    var block: String
    var entries: [String: Entry] = [:]
    /// keepalived keywords `fulcrum-vrrp` deliberately does not run, with the reason.
    var refused: [String: String] = [:]

    init(block: String, _ list: [Entry], refused: [String: String] = [:]) {
        self.block = block
        for e in list { entries[e.name] = e }
        self.refused = refused
    }

    func apply(_ statements: [ConfigStatement], to model: inout Model, reader: inout ValueReader) {
        for s in statements {
            if let reason = refused[s.keyword] {
                reader.error("'\(s.keyword)' is not supported by fulcrum-vrrp: \(reason)", s)
            } else if let entry = entries[s.keyword] {
                entry.apply(&model, s, &reader)
            } else {
                reader.error("unknown keyword '\(s.keyword)' in \(block)", s)
            }
        }
    }
}

/// Reads typed values out of statements, recording a located diagnostic for each bad one.
struct ValueReader {
    var diagnostics: [KeepalivedDiagnostic] = []

    mutating func error(_ message: String, _ s: ConfigStatement) {
        diagnostics.append(.init(.error, message, at: s.location))
    }

    mutating func warning(_ message: String, _ s: ConfigStatement) {
        diagnostics.append(.init(.warning, message, at: s.location))
    }

    mutating func argument(_ s: ConfigStatement, _ index: Int = 1) -> String? {
        guard s.words.count > index else {
            error("'\(s.keyword)' needs a value", s)
            return nil
        }
        return s.words[index]
    }

    mutating func int(_ s: ConfigStatement, _ range: ClosedRange<Int>) -> Int? {
        guard let text = argument(s) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            error("'\(s.keyword)' must be an integer in \(range.lowerBound)..\(range.upperBound), not '\(text)'", s)
            return nil
        }
        return v
    }

    mutating func seconds(_ s: ConfigStatement, _ range: ClosedRange<Double>) -> Double? {
        guard let text = argument(s) else { return nil }
        guard let v = Double(text), range.contains(v) else {
            error("'\(s.keyword)' must be a number of seconds in \(range.lowerBound)..\(range.upperBound), not '\(text)'", s)
            return nil
        }
        return v
    }

    /// keepalived takes `flag`, `flag on|off|true|false|yes|no`.
    mutating func flag(_ s: ConfigStatement) -> Bool {
        guard s.words.count > 1 else { return true }
        switch s.words[1].lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default:
            error("'\(s.keyword)' takes no value or on/off, not '\(s.words[1])'", s)
            return true
        }
    }

    /// `notify* SCRIPT [USER [GROUP]]`: as in keepalived, the script is one word (quote it
    /// to give it arguments) and what follows names the user to run it as.
    mutating func notifyCommand(_ s: ConfigStatement) -> String? {
        guard s.words.count > 1 else {
            error("'\(s.keyword)' needs a script", s)
            return nil
        }
        if s.words.count > 4 { error("'\(s.keyword)' takes a script, a user and a group; quote the script to pass it arguments", s) }
        return s.words[1]
    }

    /// `USER [GROUP]` from word `index` on (nil when the line ends before it).
    mutating func runAs(_ s: ConfigStatement, from index: Int) -> ScriptRunAs? {
        guard s.words.count > index else {
            if index == 1 { error("'\(s.keyword)' needs a user name", s) }
            return nil
        }
        // (notify lines with too many words are refused by notifyCommand.)
        if index == 1 && s.words.count > 3 { error("'\(s.keyword)' takes a user and a group; unexpected '\(s.words[3...].joined(separator: " "))'", s) }
        return ScriptRunAs(user: s.words[index], group: s.words.count > index + 1 ? s.words[index + 1] : nil)
    }

    /// The rest of the line as one string: a `script` command, whose words keepalived
    /// splits again when it runs it.
    mutating func command(_ s: ConfigStatement) -> String? {
        guard s.words.count > 1 else {
            error("'\(s.keyword)' needs a script", s)
            return nil
        }
        return s.words.dropFirst().joined(separator: " ")
    }

    mutating func address(_ text: String, _ s: ConfigStatement) -> IPAddress? {
        guard let a = IPAddress(text) else {
            error("'\(text)' is not an IPv4 or IPv6 address", s)
            return nil
        }
        return a
    }

    /// `weight N [reverse]` starting at `index` of the statement's words.
    mutating func weight(_ s: ConfigStatement, from index: Int) -> TrackWeight? {
        let words = Array(s.words.dropFirst(index))
        guard !words.isEmpty else { return nil }
        guard words[0] == "weight", words.count >= 2, let v = Int(words[1]), (-253...253).contains(v) else {
            error("expected 'weight N [reverse]' with N in -253..253 after '\(s.words[..<index].joined(separator: " "))'", s)
            return nil
        }
        if words.count == 3, words[2] == "reverse" { return TrackWeight(v, reverse: true) }
        if words.count > 2 { error("unexpected '\(words[2...].joined(separator: " "))' after the weight", s) }
        return TrackWeight(v)
    }

    mutating func block(_ s: ConfigStatement) -> [ConfigStatement] {
        guard let b = s.block else {
            error("'\(s.keyword)' must be followed by a block in braces", s)
            return []
        }
        return b
    }
}
