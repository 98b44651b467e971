/// A byte count with an optional binary suffix (`k`, `m`, `g`), as `tune.bufsize` takes.
public enum SizeValue {
    public static func parse(_ text: String, keyword: String) throws(ConfigError) -> UInt64 {
        var digits = Substring(text)
        var factor: UInt64 = 1
        switch text.last {
        case "k", "K": factor = 1024; digits = digits.dropLast()
        case "m", "M": factor = 1024 * 1024; digits = digits.dropLast()
        case "g", "G": factor = 1024 * 1024 * 1024; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else {
            throw ConfigError("'\(keyword)' expects a size (a number with an optional k, m or g suffix), got '\(text)'.")
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw ConfigError("'\(keyword)': size '\(text)' is too large.") }
        return product
    }
}
