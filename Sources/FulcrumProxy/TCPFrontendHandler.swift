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
final class TCPFrontendHandler: ChannelInboundHandler, RemovableChannelHandler {
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

    /// What `show sess` reports as this connection's backend and server.
    var liveTarget: (backend: String, server: String?) {
        (log.backendName, log.serverName == "<NOSRV>" ? nil : log.serverName)
    }

    init(backend: BackendPool, accessLog: AccessLog?, frontendName: String, processConnections: ConnectionCounter, counters: StatCounters,
         routing: TCPRouting? = nil, persistence: [String: StickPersistence] = [:], trackers: [StickTracker?] = StickTracker.noSlots,
         responseInspections: [String: ResponseInspection] = [:]) {
        self.responseInspections = responseInspections
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

    func channelActive(context: ChannelHandlerContext) {
        clientChannel = context.channel
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
        // The slot is held until the client connection ends, glue or not.
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.inspectTimer?.cancel()
            if let server = self.slot, let connected = self.log.connected {
                self.backend.recordTimes(server, queue: RequestLogContext.millisIfBoth(self.log.queueStarted, self.log.queueEnded),
                                         connect: RequestLogContext.millisIfBoth(self.log.connectStarted, connected),
                                         response: nil, total: RequestLogContext.millis(self.log.accepted, context.eventLoop.now))
            }
            self.releaseSlot()
            self.countBytes()
            // Every tracked entry counts the connection's bytes (`bytes_in_*`: client to server).
            let toServer = self.clientGlue?.bytesRead ?? 0, toClient = self.serverGlue?.bytesRead ?? 0
            if toServer + toClient > 0 {
                for tracker in self.trackers.compactMap({ $0 }) {
                    tracker.table.apply([.bytesIn(toServer), .bytesOut(toClient)], to: tracker.key, now: SampleContext.monotonicMilliseconds())
                }
            }
            self.writeLog(context.eventLoop.now)
            // Content rules' entries only: the connection rules release their own.
            for (slot, tracker) in self.trackers.enumerated() where self.connectionTrackers[slot] == nil {
                if let tracker { tracker.table.apply([.trackEnd], to: tracker.key, now: SampleContext.monotonicMilliseconds()) }
            }
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
            backend.track(server, context.channel)
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
        let toClient = serverGlue?.bytesRead ?? 0, toServer = clientGlue?.bytesRead ?? 0
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
        log.bytesOut = serverGlue?.bytesRead ?? 0
        log.bytesIn = clientGlue?.bytesRead ?? 0
        if accessLog.dontLogNull && log.bytesOut == 0 && (clientGlue?.bytesRead ?? 0) == 0 { return }
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
        backend.track(server, context.channel)
        log.queueEnded = context.eventLoop.now
        countSession(server)
        connect(to: server, context: context)
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
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(backend.connectTimeout)
            .channelInitializer { channel in
                // Set synchronously: bootstrap options cost a future chain each.
                channel.eventLoop.makeCompletedFuture {
                    // TCP_NODELAY is the bootstrap's default already.
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
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
        let (clientGlue, serverGlue) = GlueHandler.matchedPair()
        self.clientGlue = clientGlue
        self.serverGlue = serverGlue
        do {
            if serverTimeout != nil || backend.serverFinTimeout != nil {
                try serverChannel.pipeline.syncOperations.addHandler(IdleTimeoutHandler(timeout: serverTimeout, halfClosed: backend.serverFinTimeout))
            }
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
    }
}
