import HAProxyConfig

/// `acl NAME CRITERION [FLAGS] [PATTERNS]`, kept as written until ACLs are compiled.
public struct ACLConfig: Hashable, Sendable {
    public var name: String
    public var criterion: String
    public var arguments: [String]
    public var location: SourceLocation

    public init(name: String, criterion: String, arguments: [String], location: SourceLocation) {
        self.name = name
        self.criterion = criterion
        self.arguments = arguments
        self.location = location
    }
}
