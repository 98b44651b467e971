/// The dates `cookie ... maxidle|maxlife` append to an inserted cookie's value
/// (`SRV=s1|<last seen>|<first seen>`): seconds since the epoch in 4-second steps, the
/// low 30 bits written as 5 base64 digits, most significant first, as HAProxy writes
/// them, so a client keeps its dates when one proxy replaces the other.
public enum CookieDate {
    static let digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The stamp for `now`: rounded up to the next 4-second step.
    public static func encode(now: Int64) -> [UInt8] {
        encode(steps: Int((now + 3) >> 2))
    }

    public static func encode(steps: Int) -> [UInt8] {
        var v = steps
        var out: [UInt8] = []
        for _ in 0..<5 {
            out.append(digits[(v >> 24) & 0x3F])
            v <<= 6
        }
        return out
    }

    /// The date (in seconds) of 5 digits; nil when one is not a base64 digit or the
    /// value is 0.
    public static func decode<C: Collection>(_ text: C) -> Int64? where C.Element == UInt8 {
        guard text.count >= 5 else { return nil }
        var v = 0
        for c in text.prefix(5) {
            guard let d = digits.firstIndex(of: c) else { return nil }
            v = v << 6 | d
        }
        return v > 0 ? Int64(v) << 2 : nil
    }
}
