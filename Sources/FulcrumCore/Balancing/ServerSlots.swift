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
    /// The most each server carried at once (`smax`), and the longest queue (`qmax`).
    public private(set) var peakServed: [Int]
    public private(set) var peakQueue = 0
    /// 0: no limit.
    public private(set) var maxconn: [Int]
    let backup: [Bool]
    public private(set) var weight: [Int]
    let useAllBackups: Bool
    /// What the health checks say.
    private var usable: [Bool]
    private var queue: [(id: Int, excluded: Set<Int>)] = []

    public init(balancer: B, maxconn: [Int?], backup: [Bool]? = nil, weight: [Int]? = nil, useAllBackups: Bool = false) {
        self.balancer = balancer
        self.maxconn = maxconn.map { $0 ?? 0 }
        self.served = Array(repeating: 0, count: maxconn.count)
        self.peakServed = served
        self.backup = backup ?? Array(repeating: false, count: maxconn.count)
        self.weight = weight ?? Array(repeating: 1, count: maxconn.count)
        self.useAllBackups = useAllBackups
        self.usable = Array(repeating: true, count: maxconn.count)
    }

    /// The servers a request may go to (its group): the usable active ones, or when
    /// none is left the backups (only the first unless `allbackups`). Whether they are
    /// full does not change the group: a request waits for an active server rather than
    /// spill onto a backup, as in HAProxy. Found without building a list of servers:
    /// this runs for every request, and an array per request was an allocation per
    /// request.
    enum GroupMode {
        case none, active, allBackups, backup(Int)
    }

    func groupMode(excluding excluded: Set<Int>) -> GroupMode {
        var firstBackup: Int?
        for server in served.indices where usable[server] && weight[server] > 0 && !excluded.contains(server) {
            if !backup[server] { return .active }
            if firstBackup == nil { firstBackup = server }
        }
        guard let firstBackup else { return .none }
        return useAllBackups ? .allBackups : .backup(firstBackup)
    }

    func isInGroup(_ server: Int, _ mode: GroupMode, excluding excluded: Set<Int>) -> Bool {
        switch mode {
        case .none:
            return false
        case .backup(let only):
            return server == only
        case .active, .allBackups:
            guard usable[server] && weight[server] > 0 && !excluded.contains(server) else { return false }
            if case .active = mode { return !backup[server] }
            return backup[server]
        }
    }

    public var queueLength: Int { queue.count }

    func isFull(_ server: Int) -> Bool {
        maxconn[server] > 0 && served[server] >= maxconn[server]
    }

    /// A slot for waiter `id` on a server not in `excluded` (servers that just failed
    /// for this request), or a place in the queue.
    public mutating func acquire(_ id: Int, excluding excluded: Set<Int>, hash: UInt32? = nil) -> Outcome {
        let mode = groupMode(excluding: excluded)
        if case .none = mode { return .noServer }
        // The balancer skips every server outside the group or at its maxconn; that set
        // stays empty (no allocation) when all servers can take the request.
        var skipped = Set<Int>()
        var anyFree = false
        for server in served.indices {
            if isInGroup(server, mode, excluding: excluded) {
                if isFull(server) { skipped.insert(server) } else { anyFree = true }
            } else {
                skipped.insert(server)
            }
        }
        if anyFree, let server = balancer.pick(excluding: skipped, hash: hash) {
            take(server)
            return .granted(server)
        }
        queue.append((id, excluded))
        peakQueue = max(peakQueue, queue.count)
        return .queued
    }

    /// The first waiter that may use `server` now.
    private func waiterIndex(for server: Int) -> Int? {
        queue.firstIndex { isInGroup(server, groupMode(excluding: $0.excluded), excluding: $0.excluded) }
    }

    /// Gives back a slot on `server`. When a queued request may use that server it
    /// takes the slot at once: its id is returned, and it now holds the slot.
    public mutating func release(_ server: Int) -> Int? {
        served[server] -= 1
        balancer.connectionReleased(server)
        guard !isFull(server), let k = waiterIndex(for: server) else { return nil }
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

    /// A new `maxconn` (an agent's `maxconn:N`); a raised limit takes queued requests,
    /// whose ids are returned.
    public mutating func setMaxconn(_ server: Int, _ limit: Int) -> [Int] {
        maxconn[server] = limit
        return grantWaiters(server)
    }

    /// Queued requests that may use `server` take its free slots, first come first
    /// served; their ids are returned (they now hold the slots).
    private mutating func grantWaiters(_ server: Int) -> [Int] {
        var granted: [Int] = []
        while !isFull(server), let k = waiterIndex(for: server) {
            let waiter = queue.remove(at: k)
            take(server)
            granted.append(waiter.id)
        }
        return granted
    }

    /// A new effective weight (`slowstart`, an agent). A server whose weight comes
    /// back from 0 takes queued requests at once; their ids are returned.
    public mutating func setWeight(_ server: Int, _ weight: Int) -> [Int] {
        balancer.setWeight(server, weight)
        self.weight[server] = weight
        return grantWaiters(server)
    }

    /// A request held to one server (a persistence cookie): it goes there while the
    /// server is usable, even drained (weight 0), as HAProxy lets persistent traffic
    /// reach a draining server; it waits for it when it is full. `evenIfDown`
    /// (`option persist`) sends it to a server the checks marked down as well.
    public mutating func acquire(_ id: Int, only server: Int, evenIfDown: Bool = false) -> Outcome {
        guard usable[server] || evenIfDown else { return .noServer }
        if !isFull(server) {
            take(server)
            return .granted(server)
        }
        queue.append((id, Set(served.indices).subtracting([server])))
        peakQueue = max(peakQueue, queue.count)
        return .queued
    }

    /// A server's checks changed its state. One that comes back takes queued requests
    /// at once, up to its `maxconn`; their ids are returned.
    public mutating func setUsable(_ server: Int, _ usable: Bool) -> [Int] {
        balancer.setUsable(server, usable)
        self.usable[server] = usable
        return grantWaiters(server)
    }

    /// `clear counters`: the peaks start again from what is there now.
    public mutating func clearPeaks() {
        peakServed = served
        peakQueue = queue.count
    }

    private mutating func take(_ server: Int) {
        served[server] += 1
        peakServed[server] = max(peakServed[server], served[server])
        balancer.connectionTaken(server)
    }
}
