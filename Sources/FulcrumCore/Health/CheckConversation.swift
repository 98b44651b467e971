/// What a check probe does with a connected socket, as a pure value: bytes to send
/// once connected, then a verdict (or more bytes to send) as the answer arrives. The
/// prober only moves bytes and keeps time, so each protocol's check is tested without
/// sockets.
public protocol CheckConversation: Sendable {
    /// What to do as soon as the connection is up: send, listen, or (a plain connect
    /// check) conclude.
    mutating func start() -> CheckStep
    /// Everything received so far (the whole answer, not only the new bytes).
    mutating func received(_ bytes: [UInt8]) -> CheckStep
    /// The server closed, or `timeout check` passed, before a verdict.
    func ended(timedOut: Bool, received: [UInt8]) -> CheckResult
}

public enum CheckStep: Hashable, Sendable {
    case wait
    case send([UInt8])
    case finished(CheckResult)
    /// A verdict, with last words to send before closing (a protocol's QUIT).
    case finishedAfterSending([UInt8], CheckResult)
}

/// `check` alone: the connection being accepted is the whole test.
public struct ConnectCheckConversation: CheckConversation, Hashable {
    public init() {}
    public mutating func start() -> CheckStep { .finished(CheckResult(.l4ok)) }
    public mutating func received(_ bytes: [UInt8]) -> CheckStep { .finished(CheckResult(.l4ok)) }
    public func ended(timedOut: Bool, received: [UInt8]) -> CheckResult { CheckResult(.l4ok) }
}
