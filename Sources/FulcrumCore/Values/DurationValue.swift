/// A time value as HAProxy writes it: a number with an optional unit (`us`, `ms`, `s`,
/// `m`, `h`, `d`), milliseconds when bare. Kept in milliseconds, HAProxy's resolution.
public struct DurationValue: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64

    public init(milliseconds: UInt64) { self.milliseconds = milliseconds }

    /// HAProxy's timers are signed 32-bit millisecond counts.
    public static let maximum: UInt64 = 2_147_483_647

    /// - Parameter defaultUnit: the unit of a bare number (milliseconds, except for a few
    ///   keywords such as `stats timeout` that historically take seconds... they do not).
    public static func parse(_ text: String, keyword: String) throws(ConfigError) -> DurationValue {
        let bytes = Array(text.utf8)
        var i = 0
        var value: UInt64 = 0
        guard !bytes.isEmpty else { throw ConfigError("missing time value for '\(keyword)'.") }
        if bytes[0] == UInt8(ascii: "-") {
            throw ConfigError("unexpected character '-' in '\(keyword)' (negative durations are not allowed).")
        }
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(bytes[i] - UInt8(ascii: "0"))
            if value > 100_000_000_000_000 { throw overflow(keyword) }
            i += 1
        }
        guard i > 0 else {
            throw ConfigError("unexpected character '\(Character(Unicode.Scalar(bytes[0])))' in '\(keyword)'.",
                              hint: "a time is a number with an optional unit: us, ms (the default), s, m, h or d, e.g. '5s'")
        }
        let unit = String(decoding: bytes[i...], as: UTF8.self)
        let factor: UInt64
        switch unit {
        case "", "ms": factor = 1
        case "us": return DurationValue(milliseconds: (value + 999) / 1000)
        case "s": factor = 1000
        case "m": factor = 60_000
        case "h": factor = 3_600_000
        case "d": factor = 86_400_000
        default:
            throw ConfigError("unexpected character '\(unit.first.map(String.init) ?? "")' in '\(keyword)'.",
                              hint: "a time is a number with an optional unit: us, ms (the default), s, m, h or d, e.g. '5s'")
        }
        let (ms, overflowed) = value.multipliedReportingOverflow(by: factor)
        guard !overflowed, ms <= maximum else { throw overflow(keyword) }
        return DurationValue(milliseconds: ms)
    }

    private static func overflow(_ keyword: String) -> ConfigError {
        ConfigError("timer overflow in argument to '\(keyword)' (maximum value is 2147483647 ms or ~24.8 days).")
    }

    public static func < (a: DurationValue, b: DurationValue) -> Bool { a.milliseconds < b.milliseconds }

    /// The shortest exact spelling, as a modern configuration would write it.
    public var description: String {
        let ms = milliseconds
        if ms == 0 { return "0" }
        for (unit, factor) in [("d", UInt64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % factor == 0 {
            return "\(ms / factor)\(unit)"
        }
        return "\(ms)ms"
    }
}
