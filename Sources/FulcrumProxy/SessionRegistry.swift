import NIOCore
import Synchronization

/// The client connections open right now, for `show sess` and `shutdown session`.
/// Each event loop has its own table, touched only by that loop when a connection is
/// accepted and when it closes: no lock, nothing per request or per byte. The runtime
/// API asks every loop for its part and waits for the answers without blocking.
final class SessionRegistry: Sendable {
    struct Entry {
        let frontend: String
        let accepted: NIODeadline
        /// The connection's handler, asked for its backend and server now (a TCP
        /// connection removes it from its pipeline once relaying) and to cut it; a
        /// parked HTTP connection's record while it waits.
        var session: any LiveSession
    }

    /// A connection's entry, for its handler to hand over (parking, resuming).
    struct Registration {
        let registry: SessionRegistry
        let id: Int
    }

    final class Table {
        var entries: [Int: Entry] = [:]
    }

    private let tables: [ObjectIdentifier: NIOLoopBoundBox<Table>]
    let loops: [EventLoop]
    /// Identifiers are never reused, so `shutdown session` cannot hit a newer
    /// connection that took an old one's place.
    private let nextID = Atomic<Int>(1)

    init(loops: [EventLoop]) {
        self.loops = loops
        var tables: [ObjectIdentifier: NIOLoopBoundBox<Table>] = [:]
        for loop in loops {
            tables[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(Table(), eventLoop: loop)
        }
        self.tables = tables
    }

    /// Called on the connection's own loop, once it is accepted.
    /// `ended` completes when the session is over: the channel's close, or later for a
    /// TCP connection relayed outside NIO. `closed` runs then, in the same callback as
    /// the entry's removal (one callback per connection instead of two).
    @discardableResult
    func register(_ channel: Channel, frontend: String, session: any LiveSession, until ended: EventLoopFuture<Void>,
                  closed: @escaping @Sendable () -> Void) -> Registration? {
        register(on: channel.eventLoop, frontend: frontend, session: session, until: ended, closed: closed)
    }

    /// Registers a connection served on `loop` (the caller is on it).
    @discardableResult
    func register(on loop: EventLoop, frontend: String, session: any LiveSession, until ended: EventLoopFuture<Void>,
                  closed: @escaping @Sendable () -> Void) -> Registration? {
        guard let id = add(on: loop, frontend: frontend, session: session) else {
            ended.whenComplete { _ in closed() }
            return nil
        }
        ended.hop(to: loop).assumeIsolated().whenComplete { _ in
            self.remove(id, on: loop)
            closed()
        }
        return Registration(registry: self, id: id)
    }

    /// Adds a connection served on `loop` (the caller is on it) without a future: its
    /// owner calls `remove` when it ends. Nil when the loop has no table.
    func add(on loop: EventLoop, frontend: String, session: any LiveSession) -> Int? {
        guard let box = tables[ObjectIdentifier(loop)] else { return nil }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        box.value.entries[id] = Entry(frontend: frontend, accepted: loop.now, session: session)
        return id
    }

    /// The connection `add` gave `id` is over. On its loop.
    func remove(_ id: Int, on loop: EventLoop) {
        tables[ObjectIdentifier(loop)]?.value.entries[id] = nil
    }

    /// SIGUSR1: every connection is told, on its own loop.
    func softStopAll() {
        for box in tables.values {
            box.eventLoop.execute {
                // A copy: a connection closed here leaves the table at once.
                for entry in Array(box.value.entries.values) { entry.session.softStop() }
            }
        }
    }

    /// Another object now answers for the connection; called on its loop.
    func replace(_ id: Int, with session: any LiveSession, on loop: EventLoop) {
        tables[ObjectIdentifier(loop)]?.value.entries[id]?.session = session
    }

    /// One line per connection, in the order they were accepted, each worked out on
    /// the connection's loop (where its handler's state may be read).
    func lines(only wanted: Int? = nil, on loop: EventLoop) -> EventLoopFuture<[(Int, String)]> {
        let parts = tables.values.map { box in
            box.eventLoop.submit {
                box.value.entries.compactMap { id, entry -> (Int, String)? in
                    guard wanted == nil || wanted == id else { return nil }
                    return (id, Self.line(id, entry, now: box.eventLoop.now))
                }
            }
        }
        return EventLoopFuture.whenAllSucceed(parts, on: loop).map { $0.flatMap { $0 }.sorted { $0.0 < $1.0 } }
    }

    /// Closes one connection; false if there is none with this identifier.
    func shutdown(_ id: Int, on loop: EventLoop) -> EventLoopFuture<Bool> {
        let attempts = tables.values.map { box in
            box.eventLoop.submit { () -> Bool in
                guard let entry = box.value.entries[id] else { return false }
                entry.session.cut()
                return true
            }
        }
        return EventLoopFuture.whenAllSucceed(attempts, on: loop).map { $0.contains(true) }
    }

    /// `0x1f: proto=tcpv4 src=127.0.0.1:48296 fe=l be=l srv=x ts=00 age=1s`: HAProxy's
    /// first fields, with the identifier in the place of its session pointer.
    static func line(_ id: Int, _ entry: Entry, now: NIODeadline) -> String {
        let remoteAddress = entry.session.clientAddress
        let proto: String
        switch remoteAddress {
        case .v4?: proto = "tcpv4"
        case .v6?: proto = "tcpv6"
        case .unixDomainSocket?: proto = "unix_stream"
        case nil: proto = "?"
        }
        var source = "?"
        if let remote = remoteAddress {
            if let ip = remote.ipAddress, let port = remote.port { source = "\(ip):\(port)" } else { source = "unix" }
        }
        let target = entry.session.liveTarget
        let age = (now - entry.accepted).nanoseconds / 1_000_000_000
        return "0x\(String(id, radix: 16)): proto=\(proto) src=\(source) fe=\(entry.frontend) be=\(target.backend) srv=\(target.server ?? "<none>") ts=00 age=\(Self.age(Int(age)))"
    }

    /// HAProxy's human durations: `42s`, `3m12s`, `2h05m`, `1d3h`.
    static func age(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(StatsRegistry.two(seconds % 60))s" }
        if seconds < 86400 { return "\(seconds / 3600)h\(StatsRegistry.two(seconds % 3600 / 60))m" }
        return "\(seconds / 86400)d\(seconds % 86400 / 3600)h"
    }
}
