/// `option httpchk [METHOD] [URI] [VERSION]`; unset parts take HAProxy's defaults.
public struct HTTPCheckOption: Hashable, Sendable {
    public var method: String = "OPTIONS"
    public var uri: String = "/"
    public var version: String = "HTTP/1.0"

    public init() {}
}
