#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Relays TCP-mode connections with splice(2) (`option splice-auto`, `splice-request`,
/// `splice-response`): the kernel moves the bytes from one socket to the other through
/// a pipe, and they never enter user space.
///
/// NIO reads every descriptor it watches as soon as it is readable and has no way to
/// watch one without reading it, so spliced connections leave NIO: the engine has its
/// own thread and epoll set. The event loops hand connections over (`start`) and are
/// called back when they end; commands cross threads through a locked inbox and an
/// eventfd. Everything else here is touched by the engine's thread only.
final class SpliceEngine: @unchecked Sendable {
    private enum Command {
        case start(SplicedConnection)
        case kill(UInt64)
        case stop
    }

    private let epoll: CInt
    private let wakeup: CInt
    /// Commands for the engine's thread; once stopped, no connection is taken over.
    private let inbox = NIOLockedValueBox<(stopped: Bool, commands: [Command])>((false, []))
    private let nextID = Atomic<UInt64>(1)
    private var thread = pthread_t()
    /// The engine thread's own state.
    private var connections: [UInt64: SplicedConnection] = [:]
    /// When the idle timers are next looked at (monotonic nanoseconds; 0: never).
    private var nextCheck: Int64 = 0
    private var running = true
    /// Connections that stopped at their budget with bytes still to move.
    private var ready: [UInt64] = []

    /// The tag of the wake-up eventfd; connections use their identifiers (from 1).
    private static let wakeupTag: UInt64 = 0

    /// Starts the engine's thread; nil when the kernel refuses an epoll set or eventfd.
    static func make() -> SpliceEngine? {
        let epoll = fulcrum_epoll_create()
        guard epoll >= 0 else { return nil }
        let wakeup = fulcrum_eventfd()
        guard wakeup >= 0, fulcrum_epoll_add_input(epoll, wakeup, wakeupTag) == 0 else {
            close(epoll)
            if wakeup >= 0 { close(wakeup) }
            return nil
        }
        let engine = SpliceEngine(epoll: epoll, wakeup: wakeup)
        let retained = Unmanaged.passRetained(engine).toOpaque()
        let created = pthread_create(&engine.thread, nil, { argument in
            let engine = Unmanaged<SpliceEngine>.fromOpaque(argument!).takeRetainedValue()
            engine.run()
            return nil
        }, retained)
        guard created == 0 else {
            // Its deinit closes the two descriptors.
            Unmanaged<SpliceEngine>.fromOpaque(retained).release()
            return nil
        }
        return engine
    }

    private init(epoll: CInt, wakeup: CInt) {
        self.epoll = epoll
        self.wakeup = wakeup
    }

    /// The descriptors outlive the thread: a sender may still signal the eventfd after
    /// the thread has ended, never after the last reference is gone.
    deinit {
        close(epoll)
        close(wakeup)
    }

    /// Takes over two connected sockets through duplicates of their descriptors (which
    /// the engine closes; the caller closes its own). `held` is what was
    /// read from the client before, sent to the server first; `done` is called on the
    /// engine's thread when the connection ends. Returns the identifier `kill` takes,
    /// or nil (nothing taken over) when no pipe could be opened.
    func start(duplicating clientFD: CInt, server serverFD: CInt, held: [UInt8], clientInputClosed: Bool,
               timeouts: SpliceTimeouts, pipeSize: Int?, done: @escaping @Sendable (SpliceOutcome) -> Void) -> UInt64? {
        let client = fulcrum_dup_cloexec(clientFD)
        guard client >= 0 else { return nil }
        let server = fulcrum_dup_cloexec(serverFD)
        guard server >= 0 else {
            close(client)
            return nil
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let connection = SplicedConnection(id: id, client: client, server: server, held: held, clientInputClosed: clientInputClosed,
                                           timeouts: timeouts, done: done)
        guard connection.openPipes(size: pipeSize) else {
            close(client)
            close(server)
            return nil
        }
        guard send(.start(connection)) else {
            connection.release()
            return nil
        }
        return id
    }

    /// Cuts a connection at once (both sockets closed).
    func kill(_ id: UInt64) {
        _ = send(.kill(id))
    }

    /// Cuts every connection and ends the thread; returns once it has.
    func stop() {
        guard send(.stop) else { return }
        pthread_join(thread, nil)
    }

    /// False once the engine is stopping: the command is not taken.
    private func send(_ command: Command) -> Bool {
        inbox.withLockedValue { inbox in
            guard !inbox.stopped else { return false }
            if case .stop = command { inbox.stopped = true }
            inbox.commands.append(command)
            fulcrum_eventfd_signal(wakeup)
            return true
        }
    }

    private func run() {
        var tags = [UInt64](repeating: 0, count: 64)
        var events = [UInt32](repeating: 0, count: 64)
        while running {
            let timeout: CInt
            if !ready.isEmpty {
                timeout = 0
            } else if nextCheck == 0 {
                timeout = -1
            } else {
                // Rounded up: waking a millisecond early would only wait again.
                let wait = (nextCheck - SplicedConnection.now() + 999_999) / 1_000_000
                timeout = CInt(clamping: max(0, wait))
            }
            let count = tags.withUnsafeMutableBufferPointer { tags in
                events.withUnsafeMutableBufferPointer { fulcrum_epoll_wait_events(epoll, tags.baseAddress!, $0.baseAddress!, 64, timeout) }
            }
            if count < 0 && errno != EINTR { break }
            let waiting = ready
            ready = []
            for index in 0..<max(0, Int(count)) {
                let tag = tags[index]
                if tag == Self.wakeupTag {
                    fulcrum_eventfd_drain(wakeup)
                    takeCommands()
                } else if let connection = connections[tag >> 1] {
                    // Each socket has its own tag (the connection's id, then 0 for the
                    // client, 1 for the server): only the directions its event can move
                    // are pumped, and a direction whose source last had nothing reads
                    // only after that source's readable event (epoll reports a socket's
                    // whole readiness with each event: writable comes with most).
                    let flags = events[index]
                    let isServer = tag & 1 == 1
                    if flags & (FULCRUM_EV_IN | FULCRUM_EV_RDHUP | FULCRUM_EV_ERR | FULCRUM_EV_HUP) != 0 {
                        connection.sourceReadable(server: isServer)
                    }
                    if flags & (FULCRUM_EV_ERR | FULCRUM_EV_HUP) != 0 {
                        pump(connection, failed: true)
                    } else {
                        let readable = flags & (FULCRUM_EV_IN | FULCRUM_EV_RDHUP) != 0
                        let writable = flags & FULCRUM_EV_OUT != 0
                        // Client readable or server writable: upward; the other two: downward.
                        pump(connection, failed: false, up: isServer ? writable : readable, down: isServer ? readable : writable)
                    }
                }
            }
            for id in waiting {
                if let connection = connections[id] { pump(connection, failed: false) }
            }
            if nextCheck != 0 && SplicedConnection.now() >= nextCheck { checkTimers() }
        }
        // Stopped, or epoll failed: nothing more is taken, and everything held ends.
        let queued = inbox.withLockedValue { inbox in
            inbox.stopped = true
            defer { inbox.commands = [] }
            return inbox.commands
        }
        for case .start(let connection) in queued { connection.finish(.killed) }
        for connection in connections.values { connection.finish(.killed) }
        connections = [:]
    }

    private func takeCommands() {
        let commands = inbox.withLockedValue { inbox in
            defer { inbox.commands = [] }
            return inbox.commands
        }
        for command in commands {
            switch command {
            case .start(let connection):
                connections[connection.id] = connection
                guard fulcrum_epoll_add(epoll, connection.client, connection.id << 1) == 0,
                      fulcrum_epoll_add(epoll, connection.server, connection.id << 1 | 1) == 0 else {
                    connections[connection.id] = nil
                    connection.finish(.killed)
                    continue
                }
                schedule(connection.deadline)
                // Edge-triggered: what is already readable raises no new edge.
                pump(connection, failed: false)
            case .kill(let id):
                if let connection = connections.removeValue(forKey: id) { connection.finish(.killed) }
            case .stop:
                running = false
            }
        }
    }

    /// Moves what can move; `failed`: the event loop reported an error or hang-up.
    /// A connection pumped twice in one round (an event and its turn) loses nothing.
    private func pump(_ connection: SplicedConnection, failed: Bool, up: Bool = true, down: Bool = true) {
        var more = false
        if let end = connection.pump(up: up, down: down, more: &more) ?? (failed ? connection.pendingError() : nil) {
            connections[connection.id] = nil
            connection.finish(end)
            return
        }
        if more && !ready.contains(connection.id) { ready.append(connection.id) }
        // A half-close may have shortened the timer to its `-fin` value.
        schedule(connection.deadline)
    }

    /// Makes sure the timers are looked at by `deadline`.
    private func schedule(_ deadline: Int64?) {
        guard let deadline else { return }
        if nextCheck == 0 || deadline < nextCheck { nextCheck = deadline }
    }

    /// Ends the connections whose timers ran out and finds the next deadline. Traffic
    /// only moves deadlines later, so it never needs an earlier look.
    private func checkTimers() {
        let now = SplicedConnection.now()
        nextCheck = 0
        for (id, connection) in connections {
            if let end = connection.expired(now) {
                connections[id] = nil
                connection.finish(end)
            } else {
                schedule(connection.deadline)
            }
        }
    }
}
#endif
