import NIOCore

/// A deadline on one `EpollEventLoop` with the work to do when it comes.
///
/// A connection keeps one and moves it (`EpollEventLoop.arm`) as its deadlines change:
/// arming and cancelling allocate nothing, where NIO's scheduled callbacks cost an
/// allocation, a generic wrapper and a table entry each time. Only the loop's thread
/// touches it.
public final class LoopTimer {
    /// When it fires; meaningful while `isArmed`.
    public internal(set) var deadline: NIODeadline = .distantFuture
    /// Breaks ties between equal deadlines: first armed, first fired.
    var sequence: UInt64 = 0
    /// Where it sits in the loop's heap; -1 while not armed.
    var heapIndex = -1
    let fire: () -> Void
    /// What a NIO scheduled task does when the loop stops before its deadline.
    var cancelled: (() -> Void)?

    public init(_ fire: @escaping () -> Void) {
        self.fire = fire
    }

    public var isArmed: Bool { heapIndex >= 0 }
}
