/// `acl NAME CRITERION [FLAGS] [PATTERNS]`: a sample expression and the patterns its
/// values are matched against. It matches when any value matches any pattern.
/// A class: conditions hold references to their ACLs, so evaluating one never copies
/// the compiled patterns.
public final class ACL: Sendable {
    public let expression: SampleExpression
    public let method: MatchMethod
    /// Inline patterns first, then each `-f` file's list.
    public let patterns: [PatternList]

    /// Compiles the criterion and everything after it on an `acl` line (or inside `{ }`).
    public init(criterion: String, arguments: [String], files: PatternFiles) throws(ConfigError) {
        expression = try SampleExpression(parsing: criterion, files: files)
        var method = expression.defaultMatch
        var ignoreCase = false
        var explicitMethod = false
        var patternFiles: [String] = []
        var k = 0
        flags: while k < arguments.count, arguments[k].hasPrefix("-"), arguments[k].count > 1 {
            switch arguments[k] {
            case "-i": ignoreCase = true
            case "-n", "-u": break
            case "--": k += 1; break flags
            case "-f", "-m", "-M":
                guard k + 1 < arguments.count else { throw ConfigError("ACL flag '\(arguments[k])' needs an argument.") }
                if arguments[k] == "-f" { patternFiles.append(arguments[k + 1]) }
                if arguments[k] == "-m" {
                    guard let m = MatchMethod(rawValue: arguments[k + 1]) else {
                        throw ConfigError("unknown match method '\(arguments[k + 1])' for ACL flag '-m'.",
                                          hint: "one of " + MatchMethod.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    method = m
                    explicitMethod = true
                }
                k += 1
            default:
                // A negative integer is a pattern, not a flag.
                if Int64(arguments[k]) != nil { break flags }
                throw ConfigError("unknown ACL flag '\(arguments[k])'.", hint: "flags are -i, -f FILE, -m METHOD, -n, -u and --")
            }
            k += 1
        }
        var words = Array(arguments[k...])
        // `req.ssl_ver 3.1`: HAProxy reads this ACL's patterns as MAJOR.MINOR versions.
        if expression.fetch == .tlsVersion, expression.converters.isEmpty, !explicitMethod {
            words = try words.map { (w: String) throws(ConfigError) -> String in Self.operatorNames.contains(w) ? w : try Self.dottedVersions(w) }
        }
        if method == .int || method == .len {
            words = try Self.operators(words)
        }
        if (method == .found || method == .bool), let extra = words.first {
            throw ConfigError("match method '\(method.rawValue)' takes no pattern (got '\(extra)').")
        }
        self.method = method
        var patterns: [PatternList] = []
        if !words.isEmpty || patternFiles.isEmpty {
            patterns.append(try PatternList(method: method, ignoreCase: ignoreCase, entries: words.map { ($0, nil) }))
        }
        for file in patternFiles {
            patterns.append(try files.list(file, method: method, ignoreCase: ignoreCase))
        }
        self.patterns = patterns
        lists = patterns.map { Unmanaged.passUnretained($0) }
        bytesMatch = expression.converters.isEmpty && patterns.allSatisfy(\.matchesBytes)
    }

    /// A string method on a head fetch without converters: matched on the head's bytes.
    let bytesMatch: Bool
    /// `patterns` without reference counting, for matching (they live as long as it).
    private let lists: [Unmanaged<PatternList>]

    public func matches(_ c: SampleContext) -> Bool {
        switch method {
        case .found:
            return expression.values(in: c) { _ in true }
        case .bool:
            return expression.values(in: c) { $0.isTrue }
        default:
            return lists.withUnsafeBufferPointer { lists in
                if bytesMatch, let matched = expression.fetch.slices(in: c, { slice in
                    lists.contains { $0._withUnsafeGuaranteedRef { $0.matches(bytes: slice) } }
                }) {
                    return matched
                }
                return expression.values(in: c) { v in lists.contains { $0._withUnsafeGuaranteedRef { $0.match(v) != nil } } }
            }
        }
    }

    /// `3.1` as the integer `req.ssl_ver` gives (major × 65536 + minor); also each end
    /// of a range (`3.1:3.3`, `:3.2`).
    static func dottedVersions(_ word: String) throws(ConfigError) -> String {
        var out: [String] = []
        for part in word.split(separator: ":", omittingEmptySubsequences: false) {
            if part.isEmpty { out.append(""); continue }
            let numbers = part.split(separator: ".", omittingEmptySubsequences: false)
            guard numbers.count <= 2, let major = Int64(numbers[0]), major >= 0, major < 1 << 16,
                  let minor = numbers.count == 2 ? Int64(numbers[1]) : 0, minor >= 0, minor < 1 << 16 else {
                throw ConfigError("'\(word)' is not a version in the form MAJOR.MINOR (as '3.1').")
            }
            out.append(String(major << 16 | minor))
        }
        return out.joined(separator: ":")
    }

    static let operatorNames: Set<String> = ["eq", "ge", "gt", "le", "lt"]

    /// `eq N`, `ge N`, `gt N`, `le N`, `lt N` as ranges.
    static func operators(_ words: [String]) throws(ConfigError) -> [String] {
        var out: [String] = []
        var k = 0
        while k < words.count {
            let w = words[k]
            guard ["eq", "ge", "gt", "le", "lt"].contains(w) else { out.append(w); k += 1; continue }
            guard k + 1 < words.count, let n = Int64(words[k + 1]) else {
                throw ConfigError("operator '\(w)' must be followed by an integer.")
            }
            switch w {
            case "eq": out.append("\(n)")
            case "ge": out.append("\(n):")
            case "gt": out.append("\(n &+ 1):")
            case "le": out.append(":\(n)")
            default: out.append(":\(n &- 1)")
            }
            k += 2
        }
        return out
    }
}
