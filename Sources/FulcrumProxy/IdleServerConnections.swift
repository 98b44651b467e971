import NIOCore

/// Server connections kept open between requests (`http-reuse`), one set per event
/// loop so that a connection is only ever used by sessions of the loop that owns it:
/// no lock, no hop. An idle connection that the server closes, or that talks out of
/// turn, is dropped; one idle longer than `purgeDelay` is closed.
///
/// The set is bounded as HAProxy bounds its idle pools: at most `pool-max-conn` per
/// server, and no more idle connections than `tune.pool-low-fd-ratio` (20 %) of the
/// descriptors `maxconn` allows. Without the bound, traffic that never reuses a
/// connection (a new client connection per request: the first request of a session
/// never takes an idle one) would pile up idle connections until their purge. Each
/// connection knows its slot, so dropping one costs O(1) however many are idle.
/// Within those bounds a server keeps no more idle connections than it recently had in
/// use at once (the most over the last two purge periods), as HAProxy estimates the
/// connections it needs: idle clients holding no request need no server connection.
final class IdleServerConnections: Sendable {
    /// One storage per loop, found by a scan of a few pointers (cheaper than hashing
    /// on every request for the handful of loops a process has).
    private let perLoop: [(loop: ObjectIdentifier, box: NIOLoopBoundBox<Storage>)]
    let purgeDelay: TimeAmount
    /// `pool-max-conn` per server (nil: no limit of its own).
    let maxPerServer: [Int?]
    /// The most idle connections one loop keeps for this backend.
    let maxPerLoop: Int

    final class Storage {
        var idle: [[HTTPServerConnection]]
        var total = 0
        /// Connections in use now, and the most in use in this and the last period.
        var busy: [Int]
        var peak: [Int]
        var previousPeak: [Int]
        var periodStart: NIODeadline = .now()
        init(servers: Int) {
            idle = Array(repeating: [], count: servers)
            busy = Array(repeating: 0, count: servers)
            peak = busy
            previousPeak = busy
        }

        func rotate(now: NIODeadline, period: TimeAmount) {
            guard now - periodStart >= period else { return }
            previousPeak = now - periodStart >= period + period ? busy : peak
            peak = busy
            periodStart = now
        }
    }

    private func storage(_ loop: EventLoop) -> Storage? {
        let id = ObjectIdentifier(loop)
        for entry in perLoop where entry.loop == id { return entry.box.value }
        return nil
    }

    func began(server: Int, on loop: EventLoop) {
        guard let storage = storage(loop) else { return }
        storage.busy[server] += 1
        storage.peak[server] = max(storage.peak[server], storage.busy[server])
    }

    func ended(server: Int, on loop: EventLoop) {
        guard let storage = storage(loop) else { return }
        storage.busy[server] = max(0, storage.busy[server] - 1)
    }

    init(loops: [EventLoop], servers: Int, purgeDelay: TimeAmount = .seconds(5), maxPerServer: [Int?]? = nil, maxTotal: Int = 4000) {
        perLoop = loops.map { loop in
            (ObjectIdentifier(loop), NIOLoopBoundBox.makeBoxSendingValue(Storage(servers: servers), eventLoop: loop))
        }
        self.purgeDelay = purgeDelay
        self.maxPerServer = maxPerServer ?? Array(repeating: nil, count: servers)
        maxPerLoop = max(1, maxTotal / max(1, loops.count))
    }

    /// A live idle connection to `server`, if this loop has one.
    func take(server: Int, on loop: EventLoop) -> HTTPServerConnection? {
        guard let storage = storage(loop) else { return nil }
        while let connection = storage.idle[server].popLast() {
            storage.total -= 1
            connection.idleSlot = -1
            if connection.isUsable { return connection }
        }
        return nil
    }

    /// False when the connection may not be kept (the caller closes it).
    func park(_ connection: HTTPServerConnection, server: Int, on loop: EventLoop) -> Bool {
        guard let storage = storage(loop), storage.total < maxPerLoop else { return false }
        if let limit = maxPerServer[server], limit >= 0, storage.idle[server].count >= limit { return false }
        storage.rotate(now: loop.now, period: purgeDelay)
        // The connection being parked was in use a moment ago: count it.
        let needed = max(storage.peak[server], storage.previousPeak[server], storage.busy[server] + 1)
        guard storage.idle[server].count < needed else { return false }
        connection.idleSlot = storage.idle[server].count
        storage.idle[server].append(connection)
        storage.total += 1
        return true
    }

    /// Closes the idle connections to `server` on every loop (its address changed).
    func drop(server: Int) {
        for (_, box) in perLoop {
            box.eventLoop.execute {
                let doomed = box.value.idle[server]
                box.value.idle[server] = []
                box.value.total -= doomed.count
                for connection in doomed {
                    connection.idleSlot = -1
                    connection.close()
                }
            }
        }
    }

    func remove(_ connection: HTTPServerConnection, server: Int, on loop: EventLoop) {
        guard let storage = storage(loop) else { return }
        let slot = connection.idleSlot
        guard slot >= 0, slot < storage.idle[server].count, storage.idle[server][slot] === connection else { return }
        let last = storage.idle[server].removeLast()
        if last !== connection {
            storage.idle[server][slot] = last
            last.idleSlot = slot
        }
        connection.idleSlot = -1
        storage.total -= 1
    }
}
