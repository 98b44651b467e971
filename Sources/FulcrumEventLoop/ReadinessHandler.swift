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

    // Sets used on every event, built once: an array literal of options costs an
    // allocation each time in a debug build.
    /// What a stream socket is registered for.
    static let watched: Readiness = [.input, .output, .peerClosed]
    /// Any of these calls for a read (which then finds bytes, the end, or the error).
    static let readable: Readiness = [.input, .peerClosed, .hangUp, .error]
    /// The peer's end or an error: no edge will follow the bytes still waiting.
    static let ending: Readiness = [.peerClosed, .hangUp, .error]
}
