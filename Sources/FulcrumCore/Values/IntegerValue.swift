/// Strict integer parsing. HAProxy uses `atoi` for many keywords and silently takes
/// `abc` as 0; Fulcrum rejects such values (documented as a deliberate difference).
public enum IntegerValue {
    public static func parse(_ text: String, keyword: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let value = Int(text) else {
            throw ConfigError("'\(keyword)' expects an integer, got '\(text)'.")
        }
        guard range.contains(value) else {
            throw ConfigError("'\(keyword)' value must be between \(range.lowerBound) and \(range.upperBound) (was \(value)).")
        }
        return value
    }
}
