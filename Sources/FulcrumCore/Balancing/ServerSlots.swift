/// Server `maxconn` and the backend queue, as HAProxy runs them with roundrobin and
/// static-rr: a full server is skipped by the balancer; when every server the request
/// may use is full it waits in the backend's queue, first come first served, and takes
/// the next slot freed on any server it may use. A plain value driven by acquire and
/// release calls, so it is tested without sockets; the data plane keeps it with the
/// balancer behind the backend's lock (taken once per request, never per byte).
///
/// `maxqueue` bounds a server's own queue in HAProxy, which only requests tied to one
/// server (cookie persistence, hashing) enter; with the algorithms here every waiting
/// request is in the backend queue, which HAProxy does not bound either.
public struct ServerSlots<B: Balancer>: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// A slot on this server is now held: release it when the request or
        /// connection ends.
        case granted(Int)
        /// Every allowed server is full: the waiter is queued under its id.
        case queued
        /// No server can take the request at all (none usable): answer 503.
        case noServer
    }

    public private(set) var balancer: B
    /// Requests (HTTP) or connections (TCP) each server carries now.
    public private(set) var served: [Int]
    /// 0: no limit.
    let maxconn: [Int]
    private var queue: [(id: Int, excluded: Set<Int>)] = []

    public init(balancer: B, maxconn: [Int?]) {
        self.balancer = balancer
        self.maxconn = maxconn.map { $0 ?? 0 }
        self.served = Array(repeating: 0, count: maxconn.count)
    }

    public var queueLength: Int { queue.count }

    func isFull(_ server: Int) -> Bool {
        maxconn[server] > 0 && served[server] >= maxconn[server]
    }

    /// A slot for waiter `id` on a server not in `excluded` (servers that just failed
    /// for this request), or a place in the queue.
    public mutating func acquire(_ id: Int, excluding excluded: Set<Int>) -> Outcome {
        var unavailable = excluded
        for server in served.indices where isFull(server) { unavailable.insert(server) }
        if let server = balancer.pick(excluding: unavailable) {
            take(server)
            return .granted(server)
        }
        // Full, or nothing usable at all? Ask a copy, so the rotation does not move.
        var probe = balancer
        guard probe.pick(excluding: excluded) != nil else { return .noServer }
        queue.append((id, excluded))
        return .queued
    }

    /// Gives back a slot on `server`. When a queued request may use that server it
    /// takes the slot at once: its id is returned, and it now holds the slot.
    public mutating func release(_ server: Int) -> Int? {
        served[server] -= 1
        balancer.connectionReleased(server)
        guard !isFull(server), let k = queue.firstIndex(where: { !$0.excluded.contains(server) }) else { return nil }
        let waiter = queue.remove(at: k)
        take(server)
        return waiter.id
    }

    /// Waiter `id` gives up (queue timeout, client gone): true if it was still
    /// queued, false if a slot had already been handed to it.
    public mutating func cancel(_ id: Int) -> Bool {
        guard let k = queue.firstIndex(where: { $0.id == id }) else { return false }
        queue.remove(at: k)
        return true
    }

    private mutating func take(_ server: Int) {
        served[server] += 1
        balancer.connectionTaken(server)
    }
}
