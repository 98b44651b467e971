import NIOCore

/// Server connections kept open between requests (`http-reuse`), one set per event
/// loop so that a connection is only ever used by sessions of the loop that owns it:
/// no lock, no hop. An idle connection that the server closes, or that talks out of
/// turn, is dropped; one idle longer than `purgeDelay` is closed.
final class IdleServerConnections: Sendable {
    private let perLoop: [ObjectIdentifier: NIOLoopBoundBox<Storage>]
    let purgeDelay: TimeAmount

    final class Storage {
        var idle: [[HTTPServerConnection]]
        init(servers: Int) { idle = Array(repeating: [], count: servers) }
    }

    init(loops: [EventLoop], servers: Int, purgeDelay: TimeAmount = .seconds(5)) {
        var map: [ObjectIdentifier: NIOLoopBoundBox<Storage>] = [:]
        for loop in loops {
            map[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(Storage(servers: servers), eventLoop: loop)
        }
        perLoop = map
        self.purgeDelay = purgeDelay
    }

    /// A live idle connection to `server`, if this loop has one.
    func take(server: Int, on loop: EventLoop) -> HTTPServerConnection? {
        guard let storage = perLoop[ObjectIdentifier(loop)]?.value else { return nil }
        while let connection = storage.idle[server].popLast() {
            if connection.isUsable { return connection }
        }
        return nil
    }

    func park(_ connection: HTTPServerConnection, server: Int, on loop: EventLoop) -> Bool {
        guard let storage = perLoop[ObjectIdentifier(loop)]?.value else { return false }
        storage.idle[server].append(connection)
        return true
    }

    /// Closes the idle connections to `server` on every loop (its address changed).
    func drop(server: Int) {
        for box in perLoop.values {
            box.eventLoop.execute {
                let doomed = box.value.idle[server]
                box.value.idle[server] = []
                for connection in doomed { connection.close() }
            }
        }
    }

    func remove(_ connection: HTTPServerConnection, server: Int, on loop: EventLoop) {
        guard let storage = perLoop[ObjectIdentifier(loop)]?.value else { return }
        storage.idle[server].removeAll { $0 === connection }
    }
}
