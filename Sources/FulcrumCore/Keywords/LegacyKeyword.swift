/// A keyword modern HAProxy refuses. Fulcrum warns, names the modern line, and then
/// parses that modern line in its place, so both behave identically by construction.
public struct LegacyKeyword: Sendable {
    public enum Scope: Sendable { case global, proxy }
    public typealias Rewrite = @Sendable ([String]) throws(ConfigError) -> [[String]]

    public let name: String
    public let scope: Scope
    /// The HAProxy version that stopped accepting it.
    public let removedIn: String
    public let modern: String
    public let rewrite: Rewrite

    public init(_ name: String, _ scope: Scope, removedIn: String, modern: String, rewrite: @escaping Rewrite) {
        self.name = name
        self.scope = scope
        self.removedIn = removedIn
        self.modern = modern
        self.rewrite = rewrite
    }
}
