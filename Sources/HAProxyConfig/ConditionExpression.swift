/// Evaluates the condition of `.if` / `.elif` / `-cc`: integers, predicates with
/// arguments, `!`, parentheses, `&&` binding tighter than `||` (manual section 2.4).
public struct ConditionExpression: Sendable {
    public struct Failure: Error, Hashable, Sendable {
        public var message: String
    }

    public static let predicates = ["defined", "feature", "streq", "strneq", "version_atleast", "version_before"]

    private let text: [UInt8]
    private var pos = 0
    /// Nesting of `!` and `(`: bounded so that hostile input cannot exhaust the stack.
    private var depth = 0
    static let maximumDepth = 256
    private let context: ConditionContext

    private init(text: String, context: ConditionContext) {
        self.text = Array(text.utf8)
        self.context = context
    }

    /// The words after `.if`, already tokenized, are joined with single spaces.
    public static func evaluate(_ text: String, in context: ConditionContext) -> Result<Bool, Failure> {
        var parser = ConditionExpression(text: text, context: context)
        parser.skipSpaces()
        if parser.pos == parser.text.count { return .success(false) }
        do {
            let value = try parser.parseOr()
            parser.skipSpaces()
            guard parser.pos == parser.text.count else {
                throw Failure(message: "unparsable conditional expression '\(text)': unexpected '\(parser.rest)'")
            }
            return .success(value)
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(message: "\(error)"))
        }
    }

    private var rest: String { String(decoding: text[pos...], as: UTF8.self) }

    private mutating func skipSpaces() {
        while pos < text.count && (text[pos] == UInt8(ascii: " ") || text[pos] == UInt8(ascii: "\t")) { pos += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpaces()
        let bytes = Array(token.utf8)
        guard pos + bytes.count <= text.count, Array(text[pos..<pos + bytes.count]) == bytes else { return false }
        pos += bytes.count
        return true
    }

    private mutating func parseOr() throws -> Bool {
        var value = try parseAnd()
        while consume("||") {
            let rhs = try parseAnd()
            value = value || rhs
        }
        return value
    }

    private mutating func parseAnd() throws -> Bool {
        var value = try parseUnary()
        while consume("&&") {
            let rhs = try parseUnary()
            value = value && rhs
        }
        return value
    }

    private mutating func parseUnary() throws -> Bool {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw Failure(message: "conditional expression nested too deeply (more than \(Self.maximumDepth) levels)")
        }
        if consume("!") { return try !parseUnary() }
        if consume("(") {
            let value = try parseOr()
            guard consume(")") else { throw Failure(message: "missing closing parenthesis in conditional expression") }
            return value
        }
        return try parseTerm()
    }

    private mutating func parseTerm() throws -> Bool {
        skipSpaces()
        let start = pos
        if pos < text.count, text[pos] == UInt8(ascii: "-") { pos += 1 }
        while pos < text.count, Self.isTermByte(text[pos]) { pos += 1 }
        let word = String(decoding: text[start..<pos], as: UTF8.self)
        guard !word.isEmpty else {
            throw Failure(message: "unparsable conditional expression '\(rest)'")
        }
        if let number = Int(word) {
            return number != 0
        }
        guard Self.predicates.contains(word) else {
            throw Failure(message: "unknown predicate '\(word)' in conditional expression")
        }
        guard pos < text.count, text[pos] == UInt8(ascii: "(") else {
            throw Failure(message: "missing opening parenthesis after predicate '\(word)'")
        }
        pos += 1
        let args = try parseArguments()
        func need(_ count: Int) throws {
            guard args.count == count else {
                throw Failure(message: "predicate '\(word)' expects \(count) argument\(count == 1 ? "" : "s"), got \(args.count)")
            }
        }
        switch word {
        case "defined":
            // `defined()` names no variable: false, as in HAProxy.
            if args.isEmpty { return false }
            try need(1); return context.environment(args[0]) != nil
        case "feature":
            try need(1); return context.features.contains(args[0])
        case "streq":
            try need(2); return args[0] == args[1]
        case "strneq":
            try need(2); return args[0] != args[1]
        case "version_atleast":
            try need(1); return try Self.compareVersions(context.version, args[0]) >= 0
        case "version_before":
            try need(1); return try Self.compareVersions(context.version, args[0]) < 0
        default:
            throw Failure(message: "unknown predicate '\(word)'")
        }
    }

    /// Second-level argument list: comma separated, quotes group, up to the closing parenthesis.
    private mutating func parseArguments() throws -> [String] {
        var args: [String] = []
        var current: [UInt8] = []
        var quote: UInt8? = nil
        while pos < text.count {
            let c = text[pos]
            pos += 1
            if let q = quote {
                if c == q { quote = nil } else if c == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") && pos < text.count {
                    current.append(text[pos]); pos += 1
                } else { current.append(c) }
                continue
            }
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                quote = c
            case UInt8(ascii: ","):
                args.append(String(decoding: current, as: UTF8.self)); current = []
            case UInt8(ascii: ")"):
                if !current.isEmpty || !args.isEmpty { args.append(String(decoding: current, as: UTF8.self)) }
                return args
            default:
                current.append(c)
            }
        }
        throw Failure(message: "missing closing parenthesis after predicate arguments")
    }

    private static func isTermByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    /// Compares "2.6.12", "2.4-dev19", "2.4": missing components are zero and a
    /// development or release-candidate version sorts before its release.
    public static func compareVersions(_ a: String, _ b: String) throws -> Int {
        let pa = try parseVersion(a), pb = try parseVersion(b)
        for k in 0..<max(pa.count, pb.count) {
            let x = k < pa.count ? pa[k] : 0, y = k < pb.count ? pb[k] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// Encodes a pre-release as a negative component after the numeric ones, so
    /// that "2.4-dev19" = [2, 4, 0, -2000 + 19] sorts before "2.4" = [2, 4, 0, 0].
    private static func parseVersion(_ s: String) throws -> [Int] {
        var base = Substring(s)
        var pre = 0
        if let dash = s.firstIndex(of: "-") {
            base = s[..<dash]
            let suffix = s[s.index(after: dash)...]
            if suffix.hasPrefix("dev"), let n = Int(suffix.dropFirst(3)) { pre = -2000 + n }
            else if suffix.hasPrefix("rc"), let n = Int(suffix.dropFirst(2)) { pre = -1000 + n }
            else { pre = 0 }
        }
        var parts: [Int] = []
        for piece in base.split(separator: ".", omittingEmptySubsequences: false) {
            guard let v = Int(piece), v >= 0 else { throw Failure(message: "invalid version '\(s)'") }
            parts.append(v)
        }
        while parts.count < 3 { parts.append(0) }
        parts.append(pre)
        return parts
    }
}
