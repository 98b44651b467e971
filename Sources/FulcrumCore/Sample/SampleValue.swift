/// The result of a sample fetch or converter, typed as HAProxy types samples: strings
/// (and binary) as bytes, integers, booleans and addresses. Converters and matchers
/// cast between them the way HAProxy does (an address prints in its usual notation,
/// a string parses as an integer when it starts with digits).
public enum SampleValue: Hashable, Sendable {
    case string([UInt8])
    case integer(Int64)
    case boolean(Bool)
    /// 4 or 16 network-order bytes.
    case address([UInt8])

    public var bytes: [UInt8] {
        switch self {
        case .string(let b): return b
        case .integer(let n): return Array(String(n).utf8)
        case .boolean(let b): return b ? [UInt8(ascii: "1")] : [UInt8(ascii: "0")]
        case .address(let a): return Array(IPNetwork.format(a).utf8)
        }
    }

    /// The value as an integer: a string's leading decimal digits (with a sign), as
    /// HAProxy's string-to-integer cast reads them; nil when there are none.
    public var integer: Int64? {
        switch self {
        case .integer(let n): return n
        case .boolean(let b): return b ? 1 : 0
        case .address: return nil
        // HAProxy's cast reads the leading digits, 0 when there are none.
        case .string(let b): return Self.parseInteger(b[...]) ?? 0
        }
    }

    public var address: [UInt8]? {
        switch self {
        case .address(let a): return a
        case .string(let b): return IPNetwork.parse(String(decoding: b, as: UTF8.self))
        case .integer, .boolean: return nil
        }
    }

    /// HAProxy's boolean cast: non-zero integers and non-empty strings are true.
    public var isTrue: Bool {
        switch self {
        case .boolean(let b): return b
        case .integer(let n): return n != 0
        case .string(let b): return !b.isEmpty
        case .address: return true
        }
    }

    static func parseInteger(_ b: ArraySlice<UInt8>) -> Int64? {
        var i = b.startIndex
        var negative = false
        if i < b.endIndex, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        var value: Int64 = 0
        var digits = 0
        while i < b.endIndex, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(b[i] - UInt8(ascii: "0")))
            value = (o1 || o2) ? Int64.max : s
            digits += 1
            i += 1
        }
        return digits == 0 ? nil : (negative ? -value : value)
    }
}
