/// `option forwardfor [except NETWORK] [header NAME] [if-none]`.
public struct ForwardForOption: Hashable, Sendable {
    public var except: String?
    public var header: String = "X-Forwarded-For"
    public var ifNone: Bool = false

    public init() {}
}
