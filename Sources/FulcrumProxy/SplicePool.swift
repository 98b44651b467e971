#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The splice engines of a running configuration, one per event loop, each started
/// the first time one of that loop's connections is spliced (so a configuration that
/// never splices has no extra thread).
final class SplicePool: Sendable {
    /// Fulcrum's pipe capacity without `tune.pipesize`, for a process running as root:
    /// 256 KiB where HAProxy keeps the kernel's 64 KiB. Four times fewer `splice` calls
    /// and sleeps per byte: in TCP bulk (scenario 3 of bench/) the CPU per GB fell by
    /// about a fifth. Pages are allocated only while bytes wait in a pipe. A process
    /// that is not root keeps the kernel's size: the kernel charges each pipe's whole
    /// capacity against the user's `fs.pipe-user-pages-soft` and, past it, gives every
    /// new pipe of that user one page only.
    static let defaultPipeSize = 256 * 1024

    /// `tune.pipesize`, and `maxpipes` in connections (two pipes each).
    private let pipeSize: Int?
    private let maxConnections: Int
    private let spliced = Atomic<Int>(0)

    init(pipeSize: Int? = nil, maxPipes: Int? = nil) {
        self.pipeSize = pipeSize
        self.maxConnections = maxPipes.map { $0 / 2 } ?? Int.max
    }

    #if os(Linux)
    private let engines = NIOLockedValueBox<(stopped: Bool, byLoop: [ObjectIdentifier: SpliceEngine])>((false, [:]))

    /// The engine for `loop`'s connections; nil once stopped, or when the kernel
    /// refuses one (the connection is then relayed by NIO).
    func engine(for loop: EventLoop) -> SpliceEngine? {
        engines.withLockedValue { state in
            guard !state.stopped else { return nil }
            if let engine = state.byLoop[ObjectIdentifier(loop)] { return engine }
            let engine = SpliceEngine.make()
            state.byLoop[ObjectIdentifier(loop)] = engine
            return engine
        }
    }

    /// Hands a connected pair over to `loop`'s engine, which relays it on duplicates of
    /// the two sockets (the caller closes its channels right after). Returns the
    /// connection's identifier, or nil when nothing was taken over (the sockets could
    /// not be found or duplicated, or no pipe could be opened): NIO relays it then.
    func start(on loop: EventLoop, client: Channel, server: Channel, held: [UInt8], clientInputClosed: Bool,
               timeouts: SpliceTimeouts, done: @escaping @Sendable (SpliceOutcome) -> Void) -> UInt64? {
        guard let clientFD = ChannelDescriptor.of(client), let serverFD = ChannelDescriptor.of(server),
              let engine = engine(for: loop) else { return nil }
        // `maxpipes`: past it, the connection is relayed by NIO, as HAProxy does.
        guard spliced.wrappingAdd(1, ordering: .relaxed).newValue <= maxConnections else {
            spliced.subtract(1, ordering: .relaxed)
            return nil
        }
        let started = engine.start(duplicating: clientFD, server: serverFD, held: held, clientInputClosed: clientInputClosed, timeouts: timeouts,
                                   pipeSize: pipeSize ?? (geteuid() == 0 ? Self.defaultPipeSize : nil)) { [self] outcome in
            self.spliced.subtract(1, ordering: .relaxed)
            done(outcome)
        }
        if started == nil { spliced.subtract(1, ordering: .relaxed) }
        return started
    }

    /// Cuts a spliced connection of `loop`'s.
    func kill(_ id: UInt64, on loop: EventLoop) {
        engines.withLockedValue { $0.byLoop[ObjectIdentifier(loop)] }?.kill(id)
    }

    /// Cuts every spliced connection and ends the engines' threads. Runs before the
    /// event loops stop, which the engines call back.
    func stop() {
        let all = engines.withLockedValue { state in
            state.stopped = true
            defer { state.byLoop = [:] }
            return Array(state.byLoop.values)
        }
        for engine in all { engine.stop() }
    }
    #else
    func start(on loop: EventLoop, client: Channel, server: Channel, held: [UInt8], clientInputClosed: Bool,
               timeouts: SpliceTimeouts, done: @escaping @Sendable (SpliceOutcome) -> Void) -> UInt64? {
        nil
    }

    func kill(_ id: UInt64, on loop: EventLoop) {}

    func stop() {}
    #endif
}
