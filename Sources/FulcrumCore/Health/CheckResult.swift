/// One finished health check: its status, the response code when the protocol has
/// one (HTTP status, agent weight), a short explanation and how long it took.
public struct CheckResult: Hashable, Sendable {
    public var status: CheckStatus
    public var code: Int?
    public var info: String?
    public var durationMilliseconds: Int

    public init(_ status: CheckStatus, code: Int? = nil, info: String? = nil, durationMilliseconds: Int = 0) {
        self.status = status
        self.code = code
        self.info = info
        self.durationMilliseconds = durationMilliseconds
    }

    /// "reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 2ms"
    public var logText: String {
        var text = "reason: \(status.reason)"
        if let code { text += ", code: \(code)" }
        if let info, !info.isEmpty { text += ", info: \"\(info)\"" }
        text += ", check duration: \(durationMilliseconds)ms"
        return text
    }
}
