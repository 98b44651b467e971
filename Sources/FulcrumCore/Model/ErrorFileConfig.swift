import HAProxyConfig

/// `errorfile CODE PATH`: the response to send, read once at load time. HAProxy sends
/// such a file verbatim, so the bytes are kept exactly as they are on disk.
public struct ErrorFileConfig: Hashable, Sendable {
    public var status: Int
    public var path: String
    public var contents: [UInt8]
    public var location: SourceLocation

    public init(status: Int, path: String, contents: [UInt8], location: SourceLocation) {
        self.status = status
        self.path = path
        self.contents = contents
        self.location = location
    }

    /// The status codes HAProxy can produce itself and so lets one replace.
    public static let supportedStatuses = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504]
}
