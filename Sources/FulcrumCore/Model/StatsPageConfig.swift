/// The `stats ...` keywords of a proxy: the HTML/CSV statistics page.
public struct StatsPageConfig: Hashable, Sendable {
    public var enabled = false
    public var uri: String? = nil
    public var refresh: DurationValue? = nil
    public var realm: String? = nil
    public var auth: [String] = []
    public var adminCondition: [String]? = nil
    public var hideVersion = false
    public var showLegends = false
    public var showNode: String? = nil

    public init() {}
}
