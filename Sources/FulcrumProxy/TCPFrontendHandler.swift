#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore
import NIOPosix

/// The first handler of an accepted TCP-mode connection: picks a server, connects on
/// the same event loop (retrying and redispatching as configured), then replaces itself
/// with a glue pair. The client's bytes wait in the kernel meanwhile: the channel does
/// not read until the server side exists. With server `maxconn`, the connection holds a
/// slot on its server until it closes, and waits in the backend queue (up to `timeout
/// queue`) while every server is full.
///
/// With `option splice-*`, the connected pair is handed to the splice engine instead
/// of a glue pair, and the session (its slot, counts, log line) lasts until the engine
/// reports the end: `ended` completes then rather than at the channel's close.
final class TCPFrontendHandler: ChannelInboundHandler, RemovableChannelHandler, LiveSession {
    typealias InboundIn = ByteBuffer

    /// The default backend until content rules route elsewhere.
    private var backend: BackendPool
    private var policy: ConnectRetryPolicy
    private let routing: TCPRouting?
    /// Content inspection: under way, and the timer that ends it at `inspect-delay`.
    private var inspecting = false
    private var inspectTimer: Scheduled<Void>?
    private var inspected: [UInt8] = []
    /// What `tcp-request connection` rules track (released when the connection closes,
    /// by those rules), then what content rules add.
    private let connectionTrackers: [StickTracker?]
    private var trackers: [StickTracker?]
    /// `stick` rules by backend name, and the keys to record the chosen server under.
    private let persistence: [String: StickPersistence]
    /// `tcp-response content` rules by backend name.
    private let responseInspections: [String: ResponseInspection]
    private var stickStores: [(StickTable, [UInt8])] = []
    private var failed: Set<Int> = []
    /// What arrived while the server side was being connected (the kernel may report
    /// data and end of input before Fulcrum asks to read): replayed into the glue.
    private var early: [NIOAny] = []
    private var earlyInputClosed = false
    /// The server whose slot this connection holds.
    private var slot: Int?
    /// While queued: the ticket, and the timer that gives up at `timeout queue`.
    private var ticket: Int?
    private var queueTimer: Scheduled<Void>?
    private var clientChannel: Channel?

    private let accessLog: AccessLog?
    private let processConnections: ConnectionCounter
    private let frontendCounters: StatCounters
    private var log: RequestLogContext
    /// Counts the bytes the server sends, for `%B`.
    private var serverGlue: GlueHandler?
    /// Completed when the session is over, for the registry and the listener's counts.
    private let ended: EventLoopPromise<Void>
    private let splicing: TCPSplicing?
    /// Set once the engine relays the connection; its byte counts once it has ended.
    private var spliceID: UInt64?
    private var splicedBytes: (toServer: Int, toClient: Int)?
    /// For `show sess`, once the channel is closed.
    private var splicedClientAddress: SocketAddress?
    var clientAddress: SocketAddress? { splicedClientAddress ?? clientChannel?.remoteAddress }
    /// channelActive has run: there is a session to account for at the end.
    private var activated = false

    /// What `show sess` reports as this connection's backend and server.
    var liveTarget: (backend: String, server: String?) {
        (log.backendName, log.serverName == "<NOSRV>" ? nil : log.serverName)
    }

    init(backend: BackendPool, accessLog: AccessLog?, frontendName: String, processConnections: ConnectionCounter, counters: StatCounters,
         routing: TCPRouting? = nil, persistence: [String: StickPersistence] = [:], trackers: [StickTracker?] = StickTracker.noSlots,
         responseInspections: [String: ResponseInspection] = [:], ended: EventLoopPromise<Void>, splicing: TCPSplicing? = nil) {
        self.responseInspections = responseInspections
        self.ended = ended
        self.splicing = splicing
        self.routing = routing
        self.connectionTrackers = trackers
        self.trackers = trackers
        self.persistence = persistence
        self.frontendCounters = counters
        self.backend = backend
        self.accessLog = accessLog
        self.processConnections = processConnections
        self.log = RequestLogContext(frontendName: frontendName)
        self.log.backendName = backend.name
        self.log.isHTTP = false
        self.policy = ConnectRetryPolicy(retries: backend.retries, redispatch: backend.redispatch)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Subscribed here rather than in channelActive: `ended` must complete even for
        // a channel that closes before it is active.
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in
            // A spliced session goes on without its channel; the engine ends it.
            guard self.spliceID == nil else { return }
            self.end(context.eventLoop)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        clientChannel = context.channel
        activated = true
        context.fireChannelActive()
        // The times feed `show stat`'s averages as well as the log line.
        log.accepted = context.eventLoop.now
        log.queueStarted = log.accepted
        if accessLog != nil {
            log.clientAddress = context.channel.remoteAddress
            log.frontendAddress = context.channel.localAddress
            log.processID = ProxyRuntime.processID
            log.takeStreamNumber()
            (log.acceptSeconds, log.acceptMilliseconds) = WallClock.now()
        }
        guard let routing else {
            acquire(context: context)
            return
        }
        if let delay = routing.inspectDelay, !routing.contentRules.isEmpty {
            inspecting = true
            inspectTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.inspectTimer = nil
                self.route(context: context, final: true)
            }
            context.read()
        } else {
            route(context: context, final: true)
        }
    }

    /// The session is over: the registry and the listener's counts let it go first (the
    /// log line counts it back in), then the slot, the byte counters, the tracked
    /// entries and the log line.
    private func end(_ loop: EventLoop) {
        ended.succeed(())
        guard activated else { return }
        inspectTimer?.cancel()
        if let server = slot, let connected = log.connected {
            backend.recordTimes(server, queue: RequestLogContext.millisIfBoth(log.queueStarted, log.queueEnded),
                                connect: RequestLogContext.millisIfBoth(log.connectStarted, connected),
                                response: nil, total: RequestLogContext.millis(log.accepted, loop.now))
        }
        releaseSlot()
        countBytes()
        // Every tracked entry counts the connection's bytes (`bytes_in_*`: client to server).
        let toServer = bytesToServer, toClient = bytesToClient
        if toServer + toClient > 0 {
            for tracker in trackers.compactMap({ $0 }) {
                tracker.table.apply([.bytesIn(toServer), .bytesOut(toClient)], to: tracker.key, now: SampleContext.monotonicMilliseconds())
            }
        }
        writeLog(loop.now)
        // Content rules' entries only: the connection rules release their own.
        for (slot, tracker) in trackers.enumerated() where connectionTrackers[slot] == nil {
            if let tracker { tracker.table.apply([.trackEnd], to: tracker.key, now: SampleContext.monotonicMilliseconds()) }
        }
    }

    /// Bytes relayed from the client to the server, and back.
    private var bytesToServer: Int { splicedBytes?.toServer ?? clientGlue?.bytesRead ?? 0 }
    private var bytesToClient: Int { splicedBytes?.toClient ?? serverGlue?.bytesRead ?? 0 }

    /// `shutdown session` and `shutdown sessions server` (logged `KD` once relaying).
    func cut() {
        if let spliceID, let splicing {
            splicing.pool.kill(spliceID, on: ended.futureResult.eventLoop)
        } else {
            if clientGlue != nil { log.terminate("K", "D") }
            clientChannel?.close(promise: nil)
        }
    }

    /// Evaluates the content and `use_backend` rules on the bytes held so far.
    private func route(context: ChannelHandlerContext, final: Bool) {
        guard let routing, inspecting || final, context.channel.isActive else { return }
        switch routing.decide(context.channel, payload: inspected, final: final, trackers: &trackers) {
        case .wait:
            context.read()
        case .reject:
            inspecting = false
            inspectTimer?.cancel()
            log.terminate("P", "R")
            context.close(promise: nil)
        case .route(let chosen):
            inspecting = false
            inspectTimer?.cancel()
            inspectTimer = nil
            if let chosen, chosen !== backend {
                backend = chosen
                log.backendName = chosen.name
                policy = ConnectRetryPolicy(retries: chosen.retries, redispatch: chosen.redispatch)
            }
            acquire(context: context)
        }
    }

    private func acquire(context: ChannelHandlerContext) {
        // The client may have gone while a connect was failing: nothing to acquire for.
        guard context.channel.isActive else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let grant: BackendPool.Grant = { ticket, server in
            handler.eventLoop.execute { handler.value.granted(ticket, server, context: boundContext.value) }
        }
        // The held first bytes feed `rdp-cookie` and `hash`; the HTTP keys fall back to
        // round robin in TCP mode, as in HAProxy.
        var hash: UInt32? = nil
        if !backend.key.isNone {
            let s = SampleContext.forConnection(client: context.channel.remoteAddress, local: context.channel.localAddress,
                                                frontend: log.frontendName, tables: routing?.tables ?? [:])
            s.payload = inspected
            s.requestLength = inspected.count
            s.backendName = Array(backend.name.utf8)
            hash = backend.connectionHash(s)
        }
        var (outcome, ticket) = (ServerSlots<AnyBalancer>.Outcome.noServer, 0)
        if failed.isEmpty, let server = backend.rdpPersistentServer(inspected) {
            // `persist rdp-cookie`: the server the routing token names, while usable.
            (outcome, ticket) = backend.acquire(only: server, grant: grant)
        }
        if outcome == .noServer, let stick = persistence[backend.name], failed.isEmpty {
            let s = SampleContext.forConnection(client: context.channel.remoteAddress, local: context.channel.localAddress,
                                                frontend: log.frontendName, tables: stick.tables)
            s.backendName = Array(backend.name.utf8)
            // `stick on req.rdp_cookie(mstshash)` and the like read the held bytes.
            s.payload = inspected
            s.requestLength = inspected.count
            let (server, stores) = stick.lookup(s, servers: backend.servers.count)
            stickStores = stores
            if let server { (outcome, ticket) = backend.acquire(only: server, grant: grant) }
        }
        if outcome == .noServer { (outcome, ticket) = backend.acquire(excluding: failed, hash: hash, grant: grant) }
        if outcome == .noServer && !failed.isEmpty {
            // Every server failed for this connection: try them again rather than give up.
            (outcome, ticket) = backend.acquire(excluding: [], hash: hash, grant: grant)
        }
        switch outcome {
        case .granted(let server):
            slot = server
            track(server, context)
            log.queueEnded = context.eventLoop.now
            countSession(server)
            connect(to: server, context: context)
        case .queued:
            self.ticket = ticket
            queueTimer = context.eventLoop.assumeIsolated().scheduleTask(in: backend.queueTimeout) {
                self.queueTimer = nil
                self.log.terminate("s", "Q")
                // Nothing was sent and nothing can be: the client just sees the close.
                self.releaseSlot()
                context.close(promise: nil)
            }
        case .noServer:
            log.terminate("S", "C")
            context.close(promise: nil)
        }
    }

    private func countSession(_ server: Int) {
        if !stickStores.isEmpty {
            StickPersistence.record(server, stickStores)
            stickStores = []
        }
        lastServer = server
        backend.countPick(server)
    }

    /// The server of the connection, for its byte counters at the end.
    private var lastServer: Int?

    /// The connection is over: its bytes go to the `show stat` counters.
    private func countBytes() {
        let toClient = bytesToClient, toServer = bytesToServer
        var all = [backend.counters, frontendCounters]
        if let lastServer { all.append(backend.serverCounters[lastServer]) }
        for counters in all {
            counters.bytesOut.add(toClient, ordering: .relaxed)
            counters.bytesIn.add(toServer, ordering: .relaxed)
        }
    }

    /// The tcplog line, once the connection is over.
    private func writeLog(_ now: NIODeadline) {
        guard let accessLog else { return }
        log.ended = now
        log.bytesOut = bytesToClient
        log.bytesIn = bytesToServer
        if accessLog.dontLogNull && log.bytesOut == 0 && log.bytesIn == 0 { return }
        // The listener's own close callback (registered first) has already taken this
        // connection off the counts; HAProxy's line still counts it.
        log.activeConnections = processConnections.value + 1
        log.frontendConnections = accessLog.frontendConnections.value + 1
        let counts = backend.logCounts(server: nil)
        (log.backendConnections, log.serverConnections, log.backendQueue) = counts
        if accessLog.samples.isEmpty {
            accessLog.write(&log)
        } else {
            let s = SampleContext.forConnection(client: log.clientAddress, local: log.frontendAddress, frontend: log.frontendName,
                                                tables: routing?.tables ?? [:])
            s.backendName = Array(log.backendName.utf8)
            s.serverName = Array(log.serverName.utf8)
            s.trackers = trackers
            accessLog.write(&log, transaction: s)
        }
    }

    private var clientGlue: GlueHandler?

    private func granted(_ ticket: Int, _ server: Int, context: ChannelHandlerContext) {
        guard self.ticket == ticket, context.channel.isActive else {
            backend.release(server)
            return
        }
        self.ticket = nil
        queueTimer?.cancel()
        queueTimer = nil
        slot = server
        track(server, context)
        log.queueEnded = context.eventLoop.now
        countSession(server)
        connect(to: server, context: context)
    }

    /// Lets `on-marked-down shutdown-sessions` cut the connection, spliced or not.
    private func track(_ server: Int, _ context: ChannelHandlerContext) {
        guard backend.trackSessions[server] else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        backend.track(server, channel) { handler.eventLoop.execute { handler.value.cut() } }
    }

    private func releaseSlot() {
        if let server = slot {
            slot = nil
            backend.release(server)
            if let channel = clientChannel { backend.untrack(server, channel) }
        }
        if let ticket {
            self.ticket = nil
            queueTimer?.cancel()
            queueTimer = nil
            // False when a slot is already on its way: `granted` gives it back.
            _ = backend.cancel(ticket)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        early.append(data)
        if inspecting {
            let buffer = unwrapInboundIn(data)
            inspected += buffer.readableBytesView
            route(context: context, final: inspected.count >= TCPRouting.maxInspected)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            earlyInputClosed = true
            if inspecting { route(context: context, final: true) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func connect(to server: Int, context: ChannelHandlerContext) {
        let target = backend.addresses.target(server)
        if log.connectStarted == nil { log.connectStarted = context.eventLoop.now } else { log.retries += 1 }
        log.serverName = target.name
        let address = target.address(clientLocalPort: context.channel.localAddress?.port)
        let serverTimeout = backend.serverTimeout
        let maySplice = splicesHere
        // `option tcp-smart-connect` only when client bytes are already waiting to go
        // (as HAProxy): with nothing to send, a server that speaks first (SMTP, MySQL)
        // would wait for the delayed ACK before its accept() returns. TCP only.
        let smartConnect: Bool
        switch address {
        case .v4, .v6: smartConnect = backend.smartConnect && !early.isEmpty
        case .unixDomainSocket: smartConnect = false
        }
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(backend.connectTimeout)
            .channelInitializer { channel in
                // Set synchronously: bootstrap options cost a future chain each.
                channel.eventLoop.makeCompletedFuture {
                    // TCP_NODELAY is the bootstrap's default already.
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    // A connection that may be spliced must not have NIO read from the
                    // server first; the glue turns reading on if it is not.
                    if maySplice { try channel.syncOptions?.setOption(.autoRead, value: false) }
                    // Set before connect() (the initializer runs first), so the
                    // handshake's last ACK waits for the held bytes; best effort.
                    if smartConnect {
                        try? channel.syncOptions?.setOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_QUICKACK)), value: 0)
                    }
                }
            }
            .connect(to: address)
            .hop(to: context.eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let serverChannel):
                    self.backend.observe(server, ok: true, "")
                    self.log.connected = context.eventLoop.now
                    if self.accessLog != nil { (self.log.serverLocalAddress, self.log.serverAddress) = (serverChannel.localAddress, serverChannel.remoteAddress) }
                    self.glue(context: context, serverChannel: serverChannel, serverTimeout: serverTimeout)
                case .failure(let error):
                    self.backend.counters.connectErrors.add(1, ordering: .relaxed)
                    self.backend.serverCounters[server].connectErrors.add(1, ordering: .relaxed)
                    self.backend.observe(server, ok: false, HealthChecker.connectFailure(error).status == .l4timeout ? "L4 timeout" : "L4 unsuccessful connection")
                    // The client left meanwhile: its slot went with it.
                    guard context.channel.isActive else { return }
                    self.failed.insert(server)
                    switch self.policy.afterFailure() {
                    case .retrySameServer:
                        self.connect(to: server, context: context)
                    case .redispatch:
                        self.log.redispatched = true
                        self.releaseSlot()
                        self.acquire(context: context)
                    case .giveUp:
                        self.log.terminate("S", "C")
                        context.close(promise: nil)
                    }
                }
            }
    }

    private func glue(context: ChannelHandlerContext, serverChannel: Channel, serverTimeout: TimeAmount?) {
        guard context.channel.isActive else {
            serverChannel.close(promise: nil)
            releaseSlot()
            return
        }
        if splice(context: context, serverChannel: serverChannel) { return }
        let (clientGlue, serverGlue) = GlueHandler.matchedPair()
        self.clientGlue = clientGlue
        self.serverGlue = serverGlue
        do {
            // HAProxy's termination flags for a relayed connection: a side's idle timer
            // (`cD`, `sD`) or its socket failing (`CD`, `SD`).
            if serverTimeout != nil || backend.serverFinTimeout != nil {
                let timer = IdleTimeoutHandler(timeout: serverTimeout, halfClosed: backend.serverFinTimeout)
                timer.expired = { self.log.terminate("s", "D") }
                try serverChannel.pipeline.syncOperations.addHandler(timer)
            }
            if let timer = try? context.pipeline.syncOperations.handler(type: IdleTimeoutHandler.self) {
                timer.expired = { self.log.terminate("c", "D") }
            }
            clientGlue.failed = { self.log.terminate("C", "D") }
            serverGlue.failed = { self.log.terminate("S", "D") }
            if let inspection = responseInspections[backend.name] {
                let s = SampleContext.forConnection(client: context.channel.remoteAddress, local: context.channel.localAddress,
                                                    frontend: log.frontendName, tables: inspection.tables)
                try serverChannel.pipeline.syncOperations.addHandler(ResponseInspector(inspection: inspection, sample: s, client: context.channel,
                                                                                       backend: backend))
            }
            try serverChannel.pipeline.syncOperations.addHandler(serverGlue)
            try context.pipeline.syncOperations.addHandler(clientGlue)
            inspected = []
            for data in early { context.fireChannelRead(data) }
            if !early.isEmpty { context.fireChannelReadComplete() }
            early = []
            if earlyInputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            serverChannel.close(promise: nil)
            context.close(promise: nil)
            return
        }
        context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        if splicesHere { try? serverChannel.syncOptions?.setOption(.autoRead, value: true) }
    }

    /// Hands the pair to the splice engine when splicing applies: `option splice-*` in
    /// the frontend or the backend, and no `tcp-response content` rules (which read the
    /// server's bytes). The bytes read before (content inspection) go first. NIO's
    /// channels are closed at once (their descriptors only; the engine holds
    /// duplicates), before NIO can read either socket again.
    private func splice(context: ChannelHandlerContext, serverChannel: Channel) -> Bool {
        guard splicesHere, let splicing else { return false }
        var held: [UInt8] = []
        for data in early { held += unwrapInboundIn(data).readableBytesView }
        var timeouts = SpliceTimeouts()
        timeouts.client = splicing.clientTimeout?.nanoseconds ?? 0
        timeouts.clientFin = splicing.clientFinTimeout?.nanoseconds ?? 0
        timeouts.server = backend.serverTimeout?.nanoseconds ?? 0
        timeouts.serverFin = backend.serverFinTimeout?.nanoseconds ?? 0
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        guard let id = splicing.pool.start(on: context.eventLoop, client: context.channel, server: serverChannel, held: held,
                                           clientInputClosed: earlyInputClosed, timeouts: timeouts, done: { outcome in
            handler.eventLoop.execute { handler.value.spliceEnded(outcome, loop: handler.eventLoop) }
        }) else { return false }
        spliceID = id
        splicedClientAddress = context.channel.remoteAddress
        early = []
        inspected = []
        serverChannel.close(promise: nil)
        context.close(promise: nil)
        return true
    }

    /// Whether the chosen backend's connections are spliced from this frontend.
    private var splicesHere: Bool {
        guard let splicing else { return false }
        return (splicing.frontend || backend.splices) && responseInspections[backend.name] == nil
    }

    private func spliceEnded(_ outcome: SpliceOutcome, loop: EventLoop) {
        splicedBytes = (outcome.toServer, outcome.toClient)
        switch outcome.end {
        case .finished: break
        case .clientTimeout: log.terminate("c", "D")
        case .serverTimeout: log.terminate("s", "D")
        case .clientError: log.terminate("C", "D")
        case .serverError: log.terminate("S", "D")
        case .killed: log.terminate("K", "D")
        }
        end(loop)
    }
}
