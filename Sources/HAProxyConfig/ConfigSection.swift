/// One section of a configuration: its header line and the statements under it.
public struct ConfigSection: Sendable {
    public var kind: SectionKind
    public var name: String?
    /// `from NAME` on a proxy section: the defaults section it inherits from.
    public var fromDefaults: String?
    public var header: ConfigLine
    public var lines: [ConfigLine]

    public init(kind: SectionKind, name: String?, fromDefaults: String?, header: ConfigLine, lines: [ConfigLine] = []) {
        self.kind = kind
        self.name = name
        self.fromDefaults = fromDefaults
        self.header = header
        self.lines = lines
    }

    public var location: SourceLocation { header.location }
    /// How HAProxy names a section in messages: its name, or its type when it has none.
    public var displayName: String { name ?? kind.rawValue }
}
