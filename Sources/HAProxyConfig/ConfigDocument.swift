/// Every section of every configuration file, in load order, plus the physical text of
/// each file so that a configuration can be printed back with some lines rewritten.
public struct ConfigDocument: Sendable {
    public var sections: [ConfigSection] = []
    public var files: [String] = []
    /// Physical lines of each file, by file name.
    public var sourceText: [String: [String]] = [:]

    public init() {}
}
