#if canImport(Glibc)
import Glibc
#endif

/// One converter of a sample expression (`lower`, `map_str(FILE)`, `field(2,/)`, ...),
/// its arguments checked and its files loaded at load time.
public enum SampleConverter: Sendable {
    case lower, upper, length, hex, base64, json, not, neg, bool
    case bytes(offset: Int, length: Int?)
    case field(index: Int, delimiters: Set<UInt8>, count: Int, words: Bool)
    case regsub(CompiledRegex, replacement: [UInt8], global: Bool)
    case ipmask(v4: Int, v6: Int)
    case concat(prefix: [UInt8], variable: String?, suffix: [UInt8])
    case arithmetic(Operator, Operand)
    case map(PatternList, defaultValue: SampleValue?)
    case urlDecode(inForm: Bool), urlEncode, ltrim(Set<UInt8>), rtrim(Set<UInt8>)
    /// `sdbm`, `djb2`, `crc32` with optional avalanche, as `hash-type` computes them.
    case hash(HashFunction, avalanche: Bool)
    case bitwise(BitOperator, Operand)
    case odd, even
    /// `http_date([offset])`, `utime(format[,offset])`, `ltime(format[,offset])`: an
    /// integer date (seconds since the epoch) formatted as HTTP, UTC or local time.
    case httpDate(offset: Int64)
    case formatTime(String, offset: Int64, local: Bool)
    /// `sha1`, `sha2(bits)`, `digest(alg)`: a binary digest; `hmac(alg,key)`: a MAC
    /// keyed by base64 text (decoded at load time) or a variable holding it (decoded
    /// on each use, as the variable may change).
    case digest(MessageDigest)
    case hmac(MessageDigest, key: HMACKey)
    /// `xxh32`, `xxh64`, `xxh3` with their seed; `crc32c` with optional avalanche.
    case xxh32(seed: UInt32), xxh64(seed: UInt64), xxh3(seed: UInt64)
    case crc32c(avalanche: Bool)

    public enum HMACKey: Sendable { case constant([UInt8]), variable(String) }

    public enum BitOperator: Sendable { case and, or, xor }

    public enum Operator: Sendable { case add, sub, mul, div, mod }
    public enum Operand: Sendable { case constant(Int64), variable(String) }

    public func apply(_ v: SampleValue, _ c: SampleContext) -> SampleValue? {
        switch self {
        case .lower: return .string(v.bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
        case .upper: return .string(v.bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
        case .length: return .integer(Int64(v.bytes.count))
        case .hex:
            let digits = Array("0123456789ABCDEF".utf8)
            return .string(v.bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
        case .base64: return .string(Self.base64(v.bytes))
        case .json: return .string(Self.json(v.bytes))
        case .not: return .boolean(!v.isTrue)
        case .bool: return .boolean(v.isTrue)
        case .neg: return v.integer.map { .integer($0 == Int64.min ? Int64.max : -$0) }
        case .bytes(let offset, let length):
            let b = v.bytes
            guard offset < b.count else { return .string([]) }
            let end = length.map { min(b.count - offset, $0) + offset } ?? b.count
            return .string(Array(b[offset..<end]))
        case .field(let index, let delimiters, let count, let words):
            return Self.field(v.bytes, index, delimiters, count, words).map { .string($0) }
        case .regsub(let regex, let replacement, let global):
            return .string(Self.regsub(v.bytes, regex, replacement, global))
        case .ipmask(let v4, let v6):
            guard let a = v.address else { return nil }
            let bits = a.count == 4 ? v4 : v6
            var out = a
            for k in out.indices {
                let keep = max(0, min(8, bits - k * 8))
                out[k] &= UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
            return .address(out)
        case .concat(let prefix, let variable, let suffix):
            let middle = variable.flatMap { c.variables[$0]?.bytes } ?? []
            return .string(v.bytes + prefix + middle + suffix)
        case .arithmetic(let op, let operand):
            guard let a = v.integer else { return nil }
            let b: Int64
            switch operand {
            case .constant(let n): b = n
            case .variable(let name): b = c.variables[name]?.integer ?? 0
            }
            // HAProxy saturates instead of wrapping, answers a division by zero with the
            // largest integer, and never traps.
            func saturate(_ r: (partialValue: Int64, overflow: Bool), _ positive: Bool) -> Int64 {
                r.overflow ? (positive ? Int64.max : Int64.min) : r.partialValue
            }
            switch op {
            case .add: return .integer(saturate(a.addingReportingOverflow(b), b > 0))
            case .sub: return .integer(saturate(a.subtractingReportingOverflow(b), b < 0))
            case .mul: return .integer(saturate(a.multipliedReportingOverflow(by: b), (a < 0) == (b < 0)))
            case .div:
                if b == 0 { return .integer(Int64.max) }
                return .integer(saturate(a.dividedReportingOverflow(by: b), true))
            case .mod:
                if b == 0 || b == -1 { return .integer(0) }
                return .integer(a % b)
            }
        case .map(let list, let defaultValue):
            if let e = list.match(v) { return e.value }
            return defaultValue
        case .urlDecode(let inForm): return Self.urlDecode(v.bytes, inForm: inForm).map { .string($0) }
        case .urlEncode: return .string(Self.urlEncode(v.bytes))
        case .ltrim(let set): return .string(Array(v.bytes.drop { set.contains($0) }))
        case .rtrim(let set):
            var b = v.bytes
            while let last = b.last, set.contains(last) { b.removeLast() }
            return .string(b)
        case .hash(let function, let avalanche): return .integer(Int64(function.hash(v.bytes, avalanche: avalanche)))
        case .bitwise(let op, let operand):
            guard let a = v.integer else { return nil }
            let b: Int64
            switch operand {
            case .constant(let n): b = n
            case .variable(let name): b = c.variables[name]?.integer ?? 0
            }
            switch op {
            case .and: return .integer(a & b)
            case .or: return .integer(a | b)
            case .xor: return .integer(a ^ b)
            }
        case .httpDate(let offset):
            guard let t = v.integer else { return nil }
            return Self.strftime("%a, %d %b %Y %H:%M:%S GMT", t &+ offset, local: false).map { .string($0) }
        case .formatTime(let format, let offset, let local):
            guard let t = v.integer else { return nil }
            return Self.strftime(format, t &+ offset, local: local).map { .string($0) }
        case .digest(let md): return md.digest(v.bytes).map { .string($0) }
        case .hmac(let md, let key):
            let decoded: [UInt8]?
            switch key {
            case .constant(let k): decoded = k
            case .variable(let name): decoded = c.variables[name].flatMap { SampleFetch.base64Decode(String(decoding: $0.bytes, as: UTF8.self)[...]) }
            }
            guard let decoded else { return nil }
            return md.hmac(v.bytes, key: decoded).map { .string($0) }
        case .xxh32(let seed): return .integer(Int64(XXHash.xxh32(v.bytes, seed: seed)))
        case .xxh64(let seed): return .integer(Int64(bitPattern: XXHash.xxh64(v.bytes, seed: seed)))
        case .xxh3(let seed): return .integer(Int64(bitPattern: XXHash.xxh3(v.bytes, seed: seed)))
        case .crc32c(let avalanche):
            let h = CRC32C.checksum(v.bytes)
            return .integer(Int64(avalanche ? HashFunction.mix(h) : h))
        case .odd: return v.integer.map { .boolean($0 & 1 == 1) }
        case .even: return v.integer.map { .boolean($0 & 1 == 0) }
        }
    }

    /// `%XX` decoded; `+` is a space only in a query string (after `?`) or a form
    /// (`inForm`); a malformed escape gives no value, as in HAProxy.
    public static func urlDecode(_ b: [UInt8], inForm: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        var plusIsSpace = inForm
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                i += 3
                continue
            }
            if c == UInt8(ascii: "?") { plusIsSpace = true }
            out.append(c == UInt8(ascii: "+") && plusIsSpace ? UInt8(ascii: " ") : c)
            i += 1
        }
        return out
    }

    /// C's strftime on the broken-down UTC (or local) time; the C locale's day and
    /// month names are HTTP's.
    static func strftime(_ format: String, _ seconds: Int64, local: Bool) -> [UInt8]? {
        var t = time_t(truncatingIfNeeded: seconds)
        var parts = tm()
        guard (local ? localtime_r(&t, &parts) : gmtime_r(&t, &parts)) != nil else { return nil }
        var out = [CChar](repeating: 0, count: 256)
        let n = Glibc.strftime(&out, out.count, format, &parts)
        return out.prefix(n).map { UInt8(bitPattern: $0) }
    }

    static func urlEncode(_ b: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in b {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(c)
            default:
                out += [UInt8(ascii: "%"), hex[Int(c >> 4)], hex[Int(c & 15)]]
            }
        }
        return out
    }

    static func base64(_ b: [UInt8]) -> [UInt8] {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i < b.count {
            let n = min(3, b.count - i)
            let x = UInt32(b[i]) << 16 | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(table[Int(x >> 18 & 63)])
            out.append(table[Int(x >> 12 & 63)])
            out.append(n > 1 ? table[Int(x >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? table[Int(x & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return out
    }

    static func json(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let hex = Array("0123456789abcdef".utf8)
        for c in b {
            switch c {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case UInt8(ascii: "/"): out += Array("\\/".utf8)
            case 8: out += Array("\\b".utf8)
            case 12: out += Array("\\f".utf8)
            case 10: out += Array("\\n".utf8)
            case 13: out += Array("\\r".utf8)
            case 9: out += Array("\\t".utf8)
            case 0..<32, 127...:
                out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
        return out
    }

    /// Field `index` (1-based; negative counts from the end) and the `count - 1` after
    /// it (0: all the rest), split at any of `delimiters`; `words` skips empty fields.
    /// A negative index counts from the end and the count then extends to the left,
    /// as HAProxy's `field(-2,_,3)` on `a_b_c_d` gives `a_b_c`.
    static func field(_ b: [UInt8], _ index: Int, _ delimiters: Set<UInt8>, _ count: Int, _ words: Bool) -> [UInt8]? {
        let parts = b.isEmpty ? [] : b.split(omittingEmptySubsequences: words, whereSeparator: { delimiters.contains($0) })
        guard !parts.isEmpty else { return [] }
        var first: Int, last: Int
        if index > 0 {
            first = index - 1
            guard first < parts.count else { return [] }
            last = count == 0 ? parts.count - 1 : min(parts.count - 1, first + count - 1)
        } else {
            last = parts.count + index
            guard last >= 0 else { return [] }
            first = count == 0 ? 0 : max(0, last - count + 1)
        }
        return Array(b[parts[first].startIndex..<parts[last].endIndex])
    }

    static func regsub(_ b: [UInt8], _ regex: CompiledRegex, _ replacement: [UInt8], _ global: Bool) -> [UInt8] {
        let text = String(decoding: b, as: UTF8.self)
        var out: [UInt8] = []
        var rest = text[...]
        while let match = try? regex.regex.firstMatch(in: rest) {
            out += Array(rest[..<match.range.lowerBound].utf8)
            out += expand(replacement, match)
            if match.range.isEmpty {
                guard match.range.upperBound < rest.endIndex else { rest = rest[rest.endIndex...]; break }
                out += Array(String(rest[match.range.upperBound]).utf8)
                rest = rest[rest.index(after: match.range.upperBound)...]
            } else {
                rest = rest[match.range.upperBound...]
            }
            if !global { break }
        }
        out += Array(rest.utf8)
        return out
    }

    /// `\0`...`\9` in a replacement stand for the match's groups.
    public static func expand(_ replacement: [UInt8], _ match: Regex<AnyRegexOutput>.Match) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < replacement.count {
            let b = replacement[i]
            if b == UInt8(ascii: "\\"), i + 1 < replacement.count, replacement[i + 1] >= UInt8(ascii: "0"), replacement[i + 1] <= UInt8(ascii: "9") {
                let group = Int(replacement[i + 1] - UInt8(ascii: "0"))
                if group < match.output.count, let sub = match.output[group].substring {
                    out += Array(sub.utf8)
                }
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }
}
