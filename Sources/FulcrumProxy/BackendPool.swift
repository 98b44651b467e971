import FulcrumCore
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// A backend as the data plane uses it: its servers' addresses, its balancer and server
/// slots (`maxconn`, the queue; one lock taken per request or connection, never per
/// byte) and the timeouts and retry settings that govern connections to it.
final class BackendPool: Sendable {
    let name: String
    let servers: [ServerTarget]
    /// Where the servers are reached now (the runtime API may move them).
    let addresses: ServerAddresses
    let connectTimeout: TimeAmount
    let serverTimeout: TimeAmount?
    /// `timeout server-fin`: the server side once the connection is closed one way.
    let serverFinTimeout: TimeAmount?
    /// `option splice-*` in this backend (and no global `nosplice`).
    let splices: Bool
    let retries: Int
    let redispatch: Bool
    /// `option tcp-smart-connect`: the handshake's last ACK waits to travel with the
    /// request's first bytes (off by default, as in HAProxy).
    let smartConnect: Bool
    /// How long a request waits in the queue for a server slot (`timeout queue`, by
    /// default `timeout connect`, as HAProxy).
    let queueTimeout: TimeAmount
    private let state: NIOLockedValueBox<SlotState>

    /// A queued request is told which server it got through this call, on any thread.
    typealias Grant = @Sendable (_ ticket: Int, _ server: Int) -> Void

    private struct SlotState {
        var slots: ServerSlots<AnyBalancer>
        var waiting: [Int: Grant] = [:]
        var nextTicket = 1
        /// What the health checks say (all true without checks).
        var up: [Bool]
        /// Administrative state from the runtime API: maintenance takes the server out,
        /// drain sets its weight to 0; `weights` is the weight the checks and agent want.
        var maint: [Bool]
        var drain: [Bool]
        /// `set server health stopping`: up, but like drain it takes no new traffic
        /// except persistent one (HAProxy's NOLB).
        var stopping: [Bool]
        var weights: [Int]

        func effectiveWeight(_ server: Int) -> Int { drain[server] || stopping[server] ? 0 : weights[server] }

        /// The grant callbacks of queued requests that were just given slots.
        mutating func claim(_ tickets: [Int]) -> [(Int, Grant)] {
            tickets.compactMap { ticket in waiting.removeValue(forKey: ticket).map { (ticket, $0) } }
        }

        /// For a log line: the servers in the rotation (a drained one, weight 0, is up
        /// but not counted, as in HAProxy), the sessions on `server`, the queue.
        func counts(_ server: Int, _ configs: [ServerConfig]) -> HealthTransitionMessage.Counts {
            var active = 0, backup = 0
            for (k, isUp) in up.enumerated() where isUp && !maint[k] && slots.weight[k] > 0 {
                if configs[k].options.backup { backup += 1 } else { active += 1 }
            }
            return HealthTransitionMessage.Counts(activeUsable: active, backupUsable: backup, sessionsOnServer: slots.served[server],
                                                  queued: slots.queueLength)
        }
    }

    /// `observe layer4|layer7` per server: only those report their traffic's outcome.
    let observedLayer: [Int?]
    private let observers = NIOLockedValueBox<[Int: @Sendable (Bool, String) -> Void]>([:])
    /// Servers whose sessions are tracked, to be cut by `on-marked-down
    /// shutdown-sessions` (or, for backups, `on-marked-up shutdown-backup-sessions`).
    let trackSessions: [Bool]
    private let sessions = NIOLockedValueBox<[Int: [ObjectIdentifier: @Sendable () -> Void]]>([:])

    /// `show stat` counters: the backend's and each server's.
    let counters = StatCounters()
    /// Times the backend lost its last usable server (the BACKEND row's `chkdown`).
    let backendDownTransitions = Atomic<Int>(0)
    /// Check results and state-change times per server, for the statistics.
    private let health: NIOLockedValueBox<[ServerHealthRecord]>
    let serverCounters: [StatCounters]
    let mode: ProxyMode
    let algorithm: String

    /// The backend's log targets, for server state changes (nil: none).
    let eventLog: LogSink?
    /// `option log-health-checks`: every check that moves a server's health is logged.
    let logHealthChecks: Bool

    /// `cookie`: persistence by cookie, when configured.
    let cookie: CookiePersistence?

    /// `option persist`: a cookie naming a server the checks marked down still sends
    /// the request there (until a connection fails and `option redispatch` moves it).
    let persistToDownServers: Bool
    /// `persist rdp-cookie`: the cookie whose routing token names a server (TCP mode).
    let rdpPersistCookie: String?

    /// What the hashing algorithms hash (`.none` for the others), and how.
    let key: BalanceKey
    let hashFunction: HashFunction
    let avalanche: Bool

    /// "backend" or "proxy" (a listen section), as HAProxy names them in its logs.
    let kindLabel: String
    /// The servers' configuration (check settings, backup flag), by index.
    let serverConfigs: [ServerConfig]
    /// HAProxy's server ids (`sid`, `srv_id`).
    let serverIDs: [Int]
    /// Server connections kept for reuse in HTTP mode, per event loop.
    let idle: IdleServerConnections

    init(_ backend: ProxyConfig, loops: [EventLoop], global: GlobalSettings = GlobalSettings(), files: PatternFiles? = nil) throws {
        var targets: [LogTarget] = []
        for target in backend.logTargets {
            if target.destination == .global { targets += global.logTargets } else { targets.append(target) }
        }
        eventLog = targets.isEmpty ? nil : try LogSink(targets, global: global, tag: backend.logTag)
        logHealthChecks = backend.options.logHealthChecks
        name = backend.name
        let active = backend.servers.filter { !$0.options.disabled }
        servers = try active.map(ServerTarget.init)
        addresses = ServerAddresses(servers)
        let useAllBackups = backend.options.others["allbackups"] == true
        let balanceFactor = backend.pending["hash-balance-factor"]?.first.flatMap { Int($0) } ?? 0
        let balancer: AnyBalancer
        do {
            // Ring positions follow the declaration order, disabled servers included.
            let ids = backend.servers.indices.filter { !backend.servers[$0].options.disabled }.map { $0 + 1 }
            (balancer, key) = try AnyBalancer.make(backend.balance, hashType: backend.hashType, weights: active.map { $0.options.weight },
                                                   backup: active.map { $0.options.backup }, useAllBackups: useAllBackups, balanceFactor: balanceFactor,
                                                   ids: ids, files: files ?? PatternFiles(readFile: CompileEnvironment.system.readFile))
        } catch {
            throw ProxyStartError("backend '\(backend.name)': \(error)")
        }
        hashFunction = HashFunction(rawValue: backend.hashType.function) ?? .sdbm
        avalanche = backend.hashType.avalanche
        let slots = ServerSlots(balancer: balancer, maxconn: active.map { $0.options.maxconn }, backup: active.map { $0.options.backup },
                                weight: active.map { $0.options.weight }, useAllBackups: useAllBackups)
        state = NIOLockedValueBox(SlotState(slots: slots,
                                            up: active.map { _ in true }, maint: active.map { _ in false }, drain: active.map { _ in false }, stopping: active.map { _ in false },
                                            weights: active.map { $0.options.weight }))
        if let config = backend.cookie {
            do {
                cookie = try CookiePersistence(config, serverValues: active.map { $0.options.cookie })
            } catch {
                throw ProxyStartError("backend '\(backend.name)': \(error)")
            }
        } else {
            cookie = nil
        }
        persistToDownServers = backend.options.others["persist"] == true
        rdpPersistCookie = backend.mode == .tcp ? backend.persistRDPCookie : nil
        kindLabel = backend.kind == .listen ? "proxy" : "backend"
        serverConfigs = active
        serverIDs = ProxyIdentifiers.servers(active)
        serverCounters = active.map { _ in StatCounters() }
        let started = WallClock.seconds()
        health = NIOLockedValueBox(active.map { _ in ServerHealthRecord(now: started) })
        mode = backend.mode
        algorithm = backend.balance.description.split(separator: " ").first.map(String.init) ?? "roundrobin"
        observedLayer = active.map { $0.options.check ? ($0.options.observe == "layer4" ? 4 : $0.options.observe == "layer7" ? 7 : nil) : nil }
        let backupsCut = active.contains { $0.options.onMarkedUp == "shutdown-backup-sessions" && !$0.options.backup }
        trackSessions = active.map { $0.options.onMarkedDown == "shutdown-sessions" || ($0.options.backup && backupsCut) }
        connectTimeout = .milliseconds(Int64(backend.timeouts.connect?.milliseconds ?? 5000))
        queueTimeout = backend.timeouts.queue.map { .milliseconds(Int64($0.milliseconds)) } ?? connectTimeout
        let idleTimeout = backend.timeouts.tunnel ?? backend.timeouts.server
        serverTimeout = idleTimeout.map { .milliseconds(Int64($0.milliseconds)) }
        serverFinTimeout = backend.timeouts.serverFin.map { .milliseconds(Int64($0.milliseconds)) }
        splices = backend.options.splices && !global.noSplice
        retries = backend.retries
        redispatch = backend.options.redispatch
        smartConnect = backend.options.others["tcp-smart-connect"] == true
        // HAProxy stops keeping idle connections once they hold 20 % of the
        // descriptors (`tune.pool-low-fd-ratio`), about two per allowed connection.
        let purge = active.lazy.compactMap { $0.options.others["pool-purge-delay"] }.first
            .flatMap { try? DurationValue.parse($0, keyword: "pool-purge-delay") }
        idle = IdleServerConnections(loops: loops, servers: servers.count,
                                     purgeDelay: .milliseconds(Int64(purge?.milliseconds ?? 5000)),
                                     maxPerServer: active.map { $0.options.others["pool-max-conn"].flatMap { Int($0) } },
                                     maxTotal: 2 * (global.maxconn ?? 10_000) * 20 / 100)
    }

    /// A server slot for one request (HTTP) or connection (TCP), or a queue ticket:
    /// `grant` is called with it once a slot frees (unless the ticket is cancelled).
    func acquire(excluding excluded: Set<Int>, hash: UInt32? = nil, grant: @escaping Grant) -> (outcome: ServerSlots<AnyBalancer>.Outcome, ticket: Int) {
        state.withLockedValue { state in
            let ticket = state.nextTicket
            state.nextTicket += 1
            let outcome = state.slots.acquire(ticket, excluding: excluded, hash: hash)
            if outcome == .queued { state.waiting[ticket] = grant }
            return (outcome, ticket)
        }
    }

    /// Gives a slot back; a queued request that may use the server gets it.
    func release(_ server: Int) {
        let handover: (Int, Grant)? = state.withLockedValue { state in
            guard let ticket = state.slots.release(server), let grant = state.waiting.removeValue(forKey: ticket) else { return nil }
            return (ticket, grant)
        }
        if let (ticket, grant) = handover { grant(ticket, server) }
    }

    /// The checks marked a server UP or DOWN. Returns what the log line reports: the
    /// servers still usable, the sessions on this one, the requests still queued.
    func setOperational(_ server: Int, up: Bool) -> HealthTransitionMessage.Counts {
        let now = WallClock.seconds()
        if status(server).up != up { health.withLockedValue { $0[server].changed(up: up, now: now) } }
        let (counts, handovers, hadServers): (HealthTransitionMessage.Counts, [(Int, Grant)], Bool) = state.withLockedValue { state in
            let before = state.counts(server, serverConfigs)
            state.up[server] = up
            let handovers = state.claim(state.slots.setUsable(server, up && !state.maint[server]))
            return (state.counts(server, serverConfigs), handovers, before.activeUsable + before.backupUsable > 0)
        }
        if counts.activeUsable + counts.backupUsable == 0 && hadServers { backendDownTransitions.add(1, ordering: .relaxed) }
        for (ticket, grant) in handovers { grant(ticket, server) }
        return counts
    }

    /// A check ended: its result and the state machine's position, for the stats.
    func recordCheck(_ server: Int, _ result: CheckResult, health position: Int) {
        health.withLockedValue { records in
            records[server].lastCheck = result
            records[server].health = position
            if !result.status.passed { records[server].failedChecks += 1 }
        }
    }

    func healthRecord(_ server: Int) -> ServerHealthRecord {
        health.withLockedValue { $0[server] }
    }

    func updateHealthRecord(_ server: Int, _ change: (inout ServerHealthRecord) -> Void) {
        health.withLockedValue { change(&$0[server]) }
    }

    /// The runtime API's orders to a server's checker (`disable health`, `set server
    /// agent down`...): each is carried out on the checker's loop.
    private let checkControls = NIOLockedValueBox<[Int: @Sendable (CheckOrder) -> EventLoopFuture<Void>]>([:])

    func setCheckControl(_ server: Int, _ control: @escaping @Sendable (CheckOrder) -> EventLoopFuture<Void>) {
        checkControls.withLockedValue { $0[server] = control }
    }

    /// Hands an order to the server's checker; nil when the server has none.
    func order(_ server: Int, _ order: CheckOrder) -> EventLoopFuture<Void>? {
        checkControls.withLockedValue { $0[server] }.map { $0(order) }
    }

    /// The checker of an observed server listens here.
    func setObserver(_ server: Int, _ observer: @escaping @Sendable (Bool, String) -> Void) {
        observers.withLockedValue { $0[server] = observer }
    }

    /// The outcome of real traffic to a server (`observe`): `ok`, or the error seen.
    /// `what` is built only when the server is observed: a string made for every
    /// response showed in profiles.
    func observe(_ server: Int, ok: Bool, _ what: @autoclosure () -> String) {
        guard observedLayer[server] != nil, let observer = observers.withLockedValue({ $0[server] }) else { return }
        observer(ok, what())
    }

    /// A client connection now uses `server` (only tracked where a rule may cut it).
    func track(_ server: Int, _ channel: Channel) {
        guard trackSessions[server] else { return }
        sessions.withLockedValue { $0[server, default: [:]][ObjectIdentifier(channel)] = { channel.close(promise: nil) } }
    }

    /// Tracks a session that is cut some other way than by closing its channel (a
    /// spliced TCP connection); `cut` may be called from any thread.
    func track(_ server: Int, _ channel: Channel, cut: @escaping @Sendable () -> Void) {
        guard trackSessions[server] else { return }
        sessions.withLockedValue { $0[server, default: [:]][ObjectIdentifier(channel)] = cut }
    }

    func untrack(_ server: Int, _ channel: Channel) {
        untrack(server, ObjectIdentifier(channel))
    }

    /// Whether sessions on `server` are tracked (its `shutdown-sessions` needs them).
    func tracks(_ server: Int) -> Bool { trackSessions[server] }

    /// Tracks a session by its identity; `cut` may be called from any thread.
    func track(_ server: Int, id: ObjectIdentifier, cut: @escaping @Sendable () -> Void) {
        guard trackSessions[server] else { return }
        sessions.withLockedValue { $0[server, default: [:]][id] = cut }
    }

    func untrack(_ server: Int, _ id: ObjectIdentifier) {
        guard trackSessions[server] else { return }
        sessions.withLockedValue { _ = $0[server]?.removeValue(forKey: id) }
    }

    /// Cuts every tracked session on these servers.
    func shutdownSessions(_ servers: [Int]) {
        let doomed = sessions.withLockedValue { all in servers.flatMap { server in all.removeValue(forKey: server).map { Array($0.values) } ?? [] } }
        for cut in doomed { cut() }
    }

    /// A request (HTTP) or connection (TCP) went to `server`: `stot` and `lbtot`.
    func countPick(_ server: Int) {
        counters.sessions.add(1, ordering: .relaxed)
        counters.picked.add(1, ordering: .relaxed)
        serverCounters[server].sessions.add(1, ordering: .relaxed)
        serverCounters[server].picked.add(1, ordering: .relaxed)
        // One write a second per server, not one per request.
        let second = StatCounters.clockSeconds.load(ordering: .relaxed)
        if serverCounters[server].lastPick.load(ordering: .relaxed) != second {
            serverCounters[server].lastPick.store(second, ordering: .relaxed)
        }
    }

    /// Every server's state and the queue, read under one lock, for the statistics.
    struct StatsView {
        var servers: [ServerStatus]
        var peakServed: [Int]
        var queue: Int
        var peakQueue: Int
    }

    func statsView() -> StatsView {
        state.withLockedValue { state in
            StatsView(servers: serverConfigs.indices.map { k in
                          ServerStatus(up: state.up[k], maint: state.maint[k], drain: state.drain[k],
                                       weight: state.slots.weight[k], sessions: state.slots.served[k], stopping: state.stopping[k],
                                       maxconn: state.slots.maxconn[k], userWeight: state.weights[k])
                      },
                      peakServed: state.slots.peakServed, queue: state.slots.queueLength, peakQueue: state.slots.peakQueue)
        }
    }

    /// A finished request's (or TCP connection's) times, for `qtime` ... `ttime`.
    func recordTimes(_ server: Int, queue: Int?, connect: Int?, response: Int?, total: Int) {
        counters.recordTimes(queue: queue, connect: connect, response: response, total: total)
        serverCounters[server].recordTimes(queue: queue, connect: connect, response: response, total: total)
    }

    /// For a log line: requests on the whole backend (`%bc`), on one server (`%sc`),
    /// and waiting in the backend queue (`%bq`).
    func logCounts(server: Int?) -> (backend: Int, server: Int, queue: Int) {
        state.withLockedValue { state in
            (state.slots.served.reduce(0, +), server.map { state.slots.served[$0] } ?? 0, state.slots.queueLength)
        }
    }

    /// The hash of a request key, with the backend's `hash-type` function.
    func hash<C: Collection>(_ key: C) -> UInt32 where C.Element == UInt8 {
        hashFunction.hash(key, avalanche: avalanche)
    }

    /// `balance source`: the client address, as HAProxy hashes it.
    func sourceHash(_ address: [UInt8]) -> UInt32 {
        let h = BalanceKey.sourceHash(address)
        return avalanche ? HashFunction.mix(h) : h
    }

    /// The hash a TCP-mode connection is balanced on: its client address (`source`),
    /// its RDP cookie (`rdp-cookie`) or an expression's value (`hash`); nil for the
    /// HTTP keys and when the value is missing (round robin then, as in HAProxy).
    func connectionHash(_ s: SampleContext) -> UInt32? {
        switch key {
        case .source:
            return s.client.map(sourceHash)
        case .rdpCookie(let name):
            guard let payload = s.payload, case .value(let value) = RDPConnectionRequest.cookie(payload, name: name), !value.isEmpty else { return nil }
            return hash(value)
        case .expression(let expression):
            return expression.value(in: s).map { hash(BalanceKey.binary($0, of: expression)) }
        case .none, .uri, .urlParameter, .header:
            return nil
        }
    }

    /// `persist rdp-cookie`: the server the connection request's routing token names
    /// (by address and port), if any.
    func rdpPersistentServer(_ payload: [UInt8]) -> Int? {
        guard let name = rdpPersistCookie, case .value(let value) = RDPConnectionRequest.cookie(payload, name: name),
              let (address, port) = RDPConnectionRequest.routingToken(value) else { return nil }
        // The servers' current addresses: `set server addr` moves them.
        return servers.indices.first { k in
            let current = addresses.target(k).address
            return current.ipBytes == address && current.port == port
        }
    }

    /// A server's `maxconn` changed (an agent said so).
    func setMaxconn(_ server: Int, _ limit: Int) {
        let handovers: [(Int, Grant)] = state.withLockedValue { state in
            state.claim(state.slots.setMaxconn(server, limit))
        }
        for (ticket, grant) in handovers { grant(ticket, server) }
    }

    /// A server's effective weight changed (`slowstart`).
    func setWeight(_ server: Int, _ weight: Int) {
        let handovers: [(Int, Grant)] = state.withLockedValue { state in
            state.weights[server] = weight
            return state.claim(state.slots.setWeight(server, state.effectiveWeight(server)))
        }
        for (ticket, grant) in handovers { grant(ticket, server) }
    }

    /// The runtime API's administrative state: `maint` takes the server out of the
    /// rotation whatever its checks say, `drain` keeps it for persistent traffic only.
    /// Returns the counts for the log line.
    func setAdministrative(_ server: Int, maint: Bool, drain: Bool) -> HealthTransitionMessage.Counts {
        let now = WallClock.seconds()
        let before = status(server)
        if before.maint != maint || before.drain != drain { health.withLockedValue { $0[server].lastChange = now } }
        let (counts, handovers): (HealthTransitionMessage.Counts, [(Int, Grant)]) = state.withLockedValue { state in
            state.maint[server] = maint
            state.drain[server] = drain
            var granted = state.slots.setUsable(server, state.up[server] && !maint)
            granted += state.slots.setWeight(server, state.effectiveWeight(server))
            return (state.counts(server, serverConfigs), state.claim(granted))
        }
        for (ticket, grant) in handovers { grant(ticket, server) }
        return counts
    }

    /// `set server health stopping` (true) or `up`/`down` (false): the server keeps its
    /// place for persistent traffic only. Returns the counts for the log line.
    func setStopping(_ server: Int, _ stopping: Bool) -> HealthTransitionMessage.Counts {
        let (counts, handovers): (HealthTransitionMessage.Counts, [(Int, Grant)]) = state.withLockedValue { state in
            state.stopping[server] = stopping
            let granted = state.slots.setWeight(server, state.effectiveWeight(server))
            return (state.counts(server, serverConfigs), state.claim(granted))
        }
        for (ticket, grant) in handovers { grant(ticket, server) }
        return counts
    }

    /// `clear counters`: the peaks (`smax`, `qmax`) start again from now.
    func clearPeaks() {
        state.withLockedValue { $0.slots.clearPeaks() }
    }

    /// What the runtime API reports about a server.
    struct ServerStatus {
        var up: Bool
        var maint: Bool
        var drain: Bool
        var weight: Int
        var sessions: Int
        var stopping = false
        /// The `maxconn` in force (0: none).
        var maxconn = 0
        /// The weight the administrator and the agent want (drain and stopping aside).
        var userWeight = 0
    }

    /// Free connection slots of the usable servers (`connslots`); -1 when one has no
    /// `maxconn`, so the backend has no limit.
    var freeSlots: Int {
        var total = 0
        for k in serverConfigs.indices {
            let st = status(k)
            guard st.up && !st.maint else { continue }
            guard st.maxconn > 0 else { return -1 }
            total += max(0, st.maxconn - st.sessions)
        }
        return total
    }

    /// Servers that are up and not in maintenance (`nbsrv`).
    var usableServers: Int {
        state.withLockedValue { state in state.up.indices.filter { state.up[$0] && !state.maint[$0] }.count }
    }

    func status(_ server: Int) -> ServerStatus {
        state.withLockedValue { state in
            ServerStatus(up: state.up[server], maint: state.maint[server], drain: state.drain[server],
                         weight: state.slots.weight[server], sessions: state.slots.served[server], stopping: state.stopping[server],
                         maxconn: state.slots.maxconn[server], userWeight: state.weights[server])
        }
    }

    /// A slot on `server` only (persistence), or a queue ticket. With `option persist`
    /// a server the checks marked down is used too (not one in maintenance).
    func acquire(only server: Int, grant: @escaping Grant) -> (outcome: ServerSlots<AnyBalancer>.Outcome, ticket: Int) {
        state.withLockedValue { state in
            let ticket = state.nextTicket
            state.nextTicket += 1
            let outcome = state.slots.acquire(ticket, only: server, evenIfDown: persistToDownServers && !state.maint[server])
            if outcome == .queued { state.waiting[ticket] = grant }
            return (outcome, ticket)
        }
    }

    /// Leaves the queue; false if a slot was already handed over (the grant call is
    /// on its way and must give it back).
    func cancel(_ ticket: Int) -> Bool {
        state.withLockedValue { state in
            state.waiting.removeValue(forKey: ticket)
            return state.slots.cancel(ticket)
        }
    }
}
