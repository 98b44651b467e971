import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The last invalid request a frontend refused, kept for `show errors`: one slot per
/// frontend, replaced by the next error. Written only when a request is refused as
/// malformed (a lock and a copy of the head then), never on a valid request's path.
final class ErrorCapture: Sendable {
    struct Event: Sendable {
        /// When it was refused (wall clock).
        let seconds: Int
        let milliseconds: Int
        /// The process's event number (`event #N`), from 0.
        let event: Int
        let source: SocketAddress?
        /// Where the parser stopped, from the first byte of the head.
        let position: Int
        let bytes: [UInt8]
        /// The most a head may take (`tune.bufsize` less `tune.maxrewrite`).
        let bufferSize: Int
    }

    /// Every capture so far, in all frontends (`Total events captured`).
    static let events = Synchronization.Atomic<Int>(0)
    private let slot = NIOLockedValueBox<Event?>(nil)

    init() {}

    var last: Event? { slot.withLockedValue { $0 } }

    func record(_ buffer: ByteBuffer, position: Int, source: SocketAddress?, bufferSize: Int) {
        let (seconds, milliseconds) = WallClock.now()
        let event = Self.events.wrappingAdd(1, ordering: .relaxed).oldValue
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, bufferSize)) ?? []
        slot.withLockedValue {
            $0 = Event(seconds: seconds, milliseconds: milliseconds, event: event, source: source, position: position,
                       bytes: bytes, bufferSize: bufferSize)
        }
    }
}
