/// A regular expression compiled once at load time. `Regex` values are immutable once
/// built, so sharing one between event loops is safe although the type is not marked so.
/// A class: `Regex` comes from a library whose types have no fixed size, and every value
/// holding one by value (a converter, a pattern list) would be copied through runtime
/// calls wherever it is read.
public final class CompiledRegex: @unchecked Sendable {
    public let source: String
    public let regex: Regex<AnyRegexOutput>
    /// Text any match must contain (`literal`), at the very start of the subject with
    /// `anchored`: an ASCII subject without it cannot match, and the regular expression
    /// does not run (see `requiredLiteral`).
    let literal: [UInt8]
    let anchored: Bool

    public init(_ source: String, ignoreCase: Bool = false) throws(ConfigError) {
        self.source = source
        do {
            let r = try Regex(source)
            regex = ignoreCase ? r.ignoresCase() : r
        } catch {
            throw ConfigError("invalid regular expression '\(source)': \(error)")
        }
        (literal, anchored) = ignoreCase ? ([], false) : Self.requiredLiteral(source)
    }

    public func matches(_ bytes: some Collection<UInt8>) -> Bool {
        if !literal.isEmpty, !Self.mayContain(bytes, literal, anchored: anchored) { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        return (try? regex.firstMatch(in: text)) != nil
    }

    /// False only when `bytes` is plain ASCII and lacks `literal` (at its start when
    /// `anchored`). Outside ASCII, characters a pattern's ASCII letter can stand for
    /// (the Kelvin sign for `K`, say) differ in their bytes: the expression decides.
    static func mayContain(_ bytes: some Collection<UInt8>, _ literal: [UInt8], anchored: Bool) -> Bool {
        let found: Bool? = bytes.withContiguousStorageIfAvailable { s in
            if anchored {
                if s.count >= literal.count, literal.indices.allSatisfy({ s[$0] == literal[$0] }) { return true }
            } else if s.count >= literal.count {
                let first = literal[0]
                var i = 0
                while i + literal.count <= s.count {
                    if s[i] == first {
                        var k = 1
                        while k < literal.count && s[i + k] == literal[k] { k += 1 }
                        if k == literal.count { return true }
                    }
                    i += 1
                }
            }
            return !s.allSatisfy { $0 < 0x80 }
        }
        return found ?? true
    }

    /// The longest run of plain ASCII characters every match of `pattern` contains,
    /// read conservatively: none when the pattern has an alternation outside groups,
    /// inline options or quoting (`|`, `(?`, `\Q`); runs stop at anything else that is
    /// not a literal character (classes, groups and counts, which are skipped whole,
    /// escapes other than punctuation, `.`), and a character made optional by `?`, `*`
    /// or `{` is not part of one. `anchored`: the pattern begins with `^` and the run
    /// is the first thing it matches.
    static func requiredLiteral(_ pattern: String) -> (literal: [UInt8], anchored: Bool) {
        let p = Array(pattern.utf8)
        if pattern.contains("(?") || pattern.contains("\\Q") { return ([], false) }
        var best: [UInt8] = [], bestAnchored = false
        var run: [UInt8] = [], runAnchored = false
        var i = 0
        func close() {
            if !run.isEmpty && (run.count > best.count || (runAnchored && !bestAnchored && run.count == best.count)) {
                (best, bestAnchored) = (run, runAnchored)
            }
            run = []
            runAnchored = false
        }
        if p.first == UInt8(ascii: "^") {
            i = 1
            runAnchored = true
        }
        while i < p.count {
            let c = p[i]
            var literal: UInt8?
            var width = 1
            switch c {
            case UInt8(ascii: "\\"):
                // An escaped ASCII punctuation mark is that character; a one-letter class
                // or anchor ends the run; any other escape may go on past its letter
                // (`\x41`, `\k<name>`): nothing is assumed.
                guard i + 1 < p.count else { return ([], false) }
                width = 2
                if Self.punctuation.contains(p[i + 1]) {
                    literal = p[i + 1]
                } else if !Self.letterEscapes.contains(p[i + 1]) {
                    return ([], false)
                }
            case UInt8(ascii: "["):
                close()
                guard let end = Self.classEnd(p, i) else { return ([], false) }
                i = end + 1
                continue
            case UInt8(ascii: "("):
                close()
                // Skip the group: what it matches is not counted.
                var depth = 0, j = i
                while j < p.count {
                    if p[j] == UInt8(ascii: "\\") { j += 2; continue }
                    if p[j] == UInt8(ascii: "[") {
                        guard let end = Self.classEnd(p, j) else { return ([], false) }
                        j = end + 1
                        continue
                    }
                    if p[j] == UInt8(ascii: "(") { depth += 1 }
                    if p[j] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { break } }
                    j += 1
                }
                guard j < p.count else { return ([], false) }
                i = j + 1
                continue
            case UInt8(ascii: "|"):
                // An alternative at the top: no run is required by every match.
                return ([], false)
            case UInt8(ascii: "{"):
                close()
                // Skip a counted repetition (it repeats what came before).
                var j = i + 1
                while j < p.count, p[j] != UInt8(ascii: "}") { j += 1 }
                i = j + 1
                continue
            default:
                if c >= 0x20 && c < 0x7f && !Self.special.contains(c) { literal = c }
            }
            guard let literal else {
                close()
                i += width
                continue
            }
            let next = i + width < p.count ? p[i + width] : nil
            if next == UInt8(ascii: "?") || next == UInt8(ascii: "*") || next == UInt8(ascii: "{") {
                // Optional or repeated any number of times: the run ends before it.
                close()
                i += width
                continue
            }
            run.append(literal)
            i += width
            if next == UInt8(ascii: "+") {
                // At least once: it ends the run.
                close()
            }
        }
        close()
        return (best, bestAnchored)
    }

    /// Where the character class opening at `start` closes: `]` right after `[` or
    /// `[^` is a member; nil for a class holding another (`[[:alpha:]]`, `[a[b]]`),
    /// whose end is not worth guessing, or one that never closes.
    static func classEnd(_ p: [UInt8], _ start: Int) -> Int? {
        var j = start + 1
        if j < p.count, p[j] == UInt8(ascii: "^") { j += 1 }
        if j < p.count, p[j] == UInt8(ascii: "]") { j += 1 }
        while j < p.count, p[j] != UInt8(ascii: "]") {
            if p[j] == UInt8(ascii: "[") { return nil }
            j += p[j] == UInt8(ascii: "\\") ? 2 : 1
        }
        return j < p.count ? j : nil
    }

    static let letterEscapes: Set<UInt8> = Set("dDwWsSbBhHvVRAzZG".utf8)
    static let special: Set<UInt8> = Set("\\^$.|?*+()[]{}".utf8)
    static let punctuation: Set<UInt8> = Set("!\"#%&,-/:;=@_~\\^$.|?*+()[]{}".utf8)
}
