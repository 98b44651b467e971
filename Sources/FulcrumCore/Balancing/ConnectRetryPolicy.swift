/// What to do after a failed connection attempt to a server, as HAProxy does it:
/// `retries` more attempts on the same server, and with `option redispatch` the last of
/// them goes to another server. A pure value: the data plane asks, then acts.
public struct ConnectRetryPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case retrySameServer
        case redispatch
        case giveUp
    }

    public let retries: Int
    public let redispatch: Bool
    public private(set) var attemptsMade = 1

    public init(retries: Int, redispatch: Bool) {
        self.retries = retries
        self.redispatch = redispatch
    }

    public mutating func afterFailure() -> Decision {
        guard attemptsMade <= retries else { return .giveUp }
        attemptsMade += 1
        return redispatch && attemptsMade == retries + 1 ? .redispatch : .retrySameServer
    }
}
