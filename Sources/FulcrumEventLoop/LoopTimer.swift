import NIOCore

/// A deadline on one `EpollEventLoop` with the work to do when it comes.
///
/// A connection keeps one and moves it (`EpollEventLoop.arm`) as its deadlines change:
/// arming and cancelling allocate nothing, where NIO's scheduled callbacks cost an
/// allocation, a generic wrapper and a table entry each time. An owner may subclass it
/// and override `fire` (no closure, no reference cycle), or give a closure. Only the
/// loop's thread touches it; the loop holds an armed timer, so a subclass must disarm
/// itself before it is let go if it captured nothing else.
open class LoopTimer {
    /// When it fires; meaningful while `isArmed`.
    public internal(set) var deadline: NIODeadline = .distantFuture
    /// Breaks ties between equal deadlines: first armed, first fired.
    var sequence: UInt64 = 0
    /// Where it sits in the loop's heap; -1 while not armed.
    var heapIndex = -1
    private let action: (() -> Void)?
    /// What a NIO scheduled task does when the loop stops before its deadline.
    var cancelled: (() -> Void)?

    /// A timer whose work is its subclass's `fire`.
    public init() {
        action = nil
    }

    /// A timer whose work is `fire`.
    public init(_ fire: @escaping () -> Void) {
        action = fire
    }

    /// The deadline came (the timer is disarmed already).
    open func fire() {
        action?()
    }

    public final var isArmed: Bool { heapIndex >= 0 }
}
