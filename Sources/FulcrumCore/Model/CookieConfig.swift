/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve] ...`.
public struct CookieConfig: Hashable, Sendable {
    public var name: String
    public var options: [String]

    public init(name: String, options: [String]) {
        self.name = name
        self.options = options
    }
}
