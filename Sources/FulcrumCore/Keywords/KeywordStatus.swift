/// What Fulcrum does with a keyword today. The README's keyword table is printed from
/// these, so documentation cannot drift from the parser.
public enum KeywordStatus: Hashable, Sendable {
    /// Parsed and validated into the model; the feature that acts on it is not built yet.
    case parsed
    /// Parsed, validated and acted on by the data plane.
    case active
    /// Removed from modern HAProxy; Fulcrum warns and runs the modern equivalent.
    case legacy(modern: String)
    /// Recognised and refused with an alert until the feature exists.
    case notYet

    public var label: String {
        switch self {
        case .parsed: return "parsed, checked"
        case .active: return "in effect"
        case .legacy(let modern): return "legacy → `\(modern)`"
        case .notYet: return "not yet (refused)"
        }
    }
}
