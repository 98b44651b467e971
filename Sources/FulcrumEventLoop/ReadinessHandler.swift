/// What owns a descriptor in an `EpollEventLoop`: told on the loop's thread what the
/// descriptor became ready for.
public protocol ReadinessHandler: AnyObject {
    /// `events` holds `Readiness` bits.
    func ready(_ events: Readiness)
}

/// The readiness epoll reports for a descriptor.
public struct Readiness: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let input = Readiness(rawValue: 0x001)
    public static let output = Readiness(rawValue: 0x004)
    public static let error = Readiness(rawValue: 0x008)
    public static let hangUp = Readiness(rawValue: 0x010)
    /// The peer shut its side down (EPOLLRDHUP): no more input will come.
    public static let peerClosed = Readiness(rawValue: 0x2000)
}
