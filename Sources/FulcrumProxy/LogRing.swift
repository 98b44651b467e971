import FulcrumCore
import NIOCore
import Synchronization

/// The events of one `ring` section: the latest log lines, as many as fit in its
/// `size`, the oldest making room for the newest. Lines come from every event loop; a
/// line is only copied in under the lock, so a writer never waits for more than
/// another writer's copy (or a `show events` snapshot). Readers (`show events`, the
/// forwarders to the ring's servers) keep a sequence number and ask for the events
/// from it on.
final class LogRing: Sendable {
    let config: RingConfig
    /// Lines a forwarder lost: the ring had let them go before the server took them.
    let dropped = Atomic<Int>(0)

    private struct Storage {
        var events = CircularBuffer<[UInt8]>()
        var bytes = 0
        /// The sequence number of `events.first`.
        var firstSequence = 0
        var waiters: [@Sendable () -> Void] = []
    }

    private let storage = Mutex(Storage())

    /// Each event costs its bytes and a little bookkeeping, as a length prefix would.
    private static let overhead = 2

    init(_ config: RingConfig) {
        self.config = config
    }

    var description: String { config.description ?? config.name }

    func append(_ event: [UInt8]) {
        let waiters = storage.withLock { s -> [@Sendable () -> Void] in
            s.events.append(event)
            s.bytes += event.count + Self.overhead
            while s.bytes > config.size, let oldest = s.events.popFirst() {
                s.bytes -= oldest.count + Self.overhead
                s.firstSequence += 1
            }
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for wake in waiters { wake() }
    }

    /// The events numbered `sequence` and up (all of them from 0), how many of those
    /// were already let go, and the sequence to ask from next.
    func events(from sequence: Int = 0) -> (events: [[UInt8]], lost: Int, next: Int) {
        storage.withLock { s in
            let skip = max(0, sequence - s.firstSequence)
            let events = skip >= s.events.count ? [] : Array(s.events[s.events.index(s.events.startIndex, offsetBy: skip)...])
            return (events, max(0, s.firstSequence - sequence), s.firstSequence + s.events.count)
        }
    }

    /// Calls `wake` once after the next append (at once if there are events from `sequence` on).
    func notify(from sequence: Int, _ wake: @escaping @Sendable () -> Void) {
        let ready = storage.withLock { s in
            if s.firstSequence + s.events.count > sequence { return true }
            s.waiters.append(wake)
            return false
        }
        if ready { wake() }
    }

    // MARK: - the process's rings

    /// HAProxy's built-in ring, which `log ring@buf0` may name.
    static let builtIn: RingConfig = {
        var buf0 = RingConfig(name: "buf0", location: .init(file: "", line: 0))
        buf0.description = "in-memory ring buffer"
        buf0.format = "timed"
        buf0.size = 1 << 20
        return buf0
    }()

    private static let registry = Mutex<[LogRing]>([LogRing(builtIn)])

    /// Makes the configuration's rings the process's. A ring whose settings did not
    /// change (a reload) keeps its events.
    static func install(_ configs: [RingConfig]) {
        registry.withLock { rings in
            rings = ([builtIn] + configs).map { config in
                rings.first { $0.config.name == config.name && $0.config.sameStorage(as: config) } ?? LogRing(config)
            }
        }
    }

    static func named(_ name: String) -> LogRing? {
        registry.withLock { rings in rings.first { $0.config.name == name } }
    }

    static var all: [LogRing] { registry.withLock { $0 } }
}

extension RingConfig {
    /// Same name, format, size and event length: the stored events still fit.
    func sameStorage(as other: RingConfig) -> Bool {
        name == other.name && format == other.format && size == other.size && maxLength == other.maxLength
    }
}
