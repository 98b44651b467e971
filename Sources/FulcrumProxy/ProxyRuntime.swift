#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import FulcrumEventLoop
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// The running data plane: one event loop per thread, every listener accepting on all
/// of them, and each accepted connection served entirely on the loop that accepted it
/// (its server-side connection included), so no lock or hop is needed per byte.
public final class ProxyRuntime: Sendable {
    public enum LogLevel: Sendable { case notice, warning, alert }
    /// Where the running proxy reports events (server state changes); the caller
    /// decides where they go (stderr now, syslog with the logging work).
    public typealias Log = @Sendable (LogLevel, String) -> Void

    public let group: MultiThreadedEventLoopGroup
    /// Fulcrum's own loops, as many as NIO's: HTTP connections, client and server side.
    let httpGroup: EpollEventLoopGroup
    let plans: [ListenerPlan]
    let listeners: ListenerSet
    let connections = ConnectionCounter()
    /// The client connections open now, for `show sess` and `shutdown session`.
    let sessions: SessionRegistry

    /// Client connections open right now (for a graceful stop).
    public var activeConnections: Int { connections.value }

    private let checks: [HealthCheckSpec]
    /// The stats sockets and the API they serve.
    private let statsSockets: [StatsSocketConfig]
    private let api: RuntimeAPI
    /// What the runtime API, the stats page and the exporter report.
    let stats: StatsRegistry
    private let statsTimeout: TimeAmount
    private let statsChannels = NIOLockedValueBox<[Channel]>([])
    /// Works out the per-second rates of the statistics.
    private let statsTicker = NIOLockedValueBox<RepeatedTask?>(nil)
    /// SO_REUSEPORT on listening sockets (HAProxy's default; `noreuseport` turns it off).
    private let reusePort: Bool
    /// `tcp-request connection` rules by frontend name.
    let connectionRules: [String: ConnectionRules]
    /// TCP-mode content inspection and `use_backend` by frontend name.
    private let tcpRoutes: [String: TCPRouting]
    /// `stick` rules by backend name.
    private let persistence: [String: StickPersistence]
    /// `tcp-response content` rules by backend name (TCP mode).
    private let responseInspections: [String: ResponseInspection]
    /// The splice engines, when the configuration splices.
    private let splicePool: SplicePool?
    /// `tune.maxaccept` (-1: as good as no limit).
    let maxAccept: Int
    let stickTables: [String: StickTable]
    private let checksStarted = NIOLockedValueBox(false)
    let log: Log

    public init(configuration: FulcrumConfiguration, threads: Int, log: @escaping Log = { _, _ in }) throws {
        self.log = log
        LogRing.install(configuration.rings)
        maxAccept = configuration.global.tuneMaxaccept.map { $0 < 0 ? Int(Int32.max) : $0 } ?? 4
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        var loops: [EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        let httpGroup: EpollEventLoopGroup
        do {
            httpGroup = try EpollEventLoopGroup(threads: max(1, threads), name: "fulcrum-http")
        } catch {
            try? group.syncShutdownGracefully()
            throw ProxyStartError("cannot start the HTTP event loops: \(error)")
        }
        let httpLoops: [EventLoop] = httpGroup.loops
        var pools: [String: BackendPool] = [:]
        let files = PatternFiles(readFile: CompileEnvironment.system.readFile)
        func pool(_ backend: ProxyConfig) throws -> BackendPool {
            if let existing = pools[backend.name] { return existing }
            let created = try BackendPool(backend, loops: httpLoops, global: configuration.global, files: files)
            pools[backend.name] = created
            checks += try HealthCheckSpec.specs(for: backend, pool: created, global: configuration.global) { log(.warning, $0) }
            return created
        }
        var plans: [ListenerPlan] = []
        // One pool for the whole configuration, when anything in it splices.
        let splicePool = !configuration.global.noSplice && configuration.proxies.contains { $0.options.splices }
            // `maxpipes` defaults to a quarter of the global `maxconn`, as HAProxy's: each
            // spliced connection holds four more descriptors than a relayed one.
            ? SplicePool(pipeSize: configuration.global.tunePipesize,
                         maxPipes: configuration.global.maxPipes ?? configuration.global.maxconn.map { $0 / 4 }) : nil
        var checks: [HealthCheckSpec] = []
        var tables: [String: StickTable] = [:]
        for proxy in configuration.proxies where proxy.kind != .defaults {
            if let config = proxy.stickTable { tables[proxy.name] = StickTable(name: proxy.name, config: config) }
        }
        var connectionRules: [String: ConnectionRules] = [:]
        var tcpRoutes: [String: TCPRouting] = [:]
        /// The backends a frontend's `use_backend` rules can name: the static names, and
        /// every backend of the frontend's mode when a name is computed.
        func switchTargets(_ proxy: ProxyConfig, _ r: ProxyRuleSet) throws -> [ProxyConfig] {
            var names = Set(r.backendSwitches.compactMap { $0.dynamic == nil ? $0.backend : nil })
            if r.backendSwitches.contains(where: { $0.dynamic != nil }) {
                names.formUnion(configuration.backends.filter { $0.mode == proxy.mode }.map(\.name))
            }
            return try names.sorted().map { name in
                guard let target = configuration.backend(named: name) else {
                    throw ProxyStartError("\(proxy.displayName): 'use_backend': no backend named '\(name)'")
                }
                return target
            }
        }
        var persistence: [String: StickPersistence] = [:]
        let directory = PoolDirectory()
        func stickiness(_ backend: ProxyConfig) throws -> StickPersistence? {
            if let existing = persistence[backend.name] { return existing }
            let r = try rules(backend)
            guard !r.stickRules.isEmpty else { return nil }
            let made = StickPersistence(rules: r.stickRules, tables: tables)
            persistence[backend.name] = made
            return made
        }
        var ruleSets: [String: ProxyRuleSet] = [:]
        func rules(_ proxy: ProxyConfig) throws -> ProxyRuleSet {
            let key = "\(proxy.kind.rawValue) \(proxy.name)"
            if let existing = ruleSets[key] { return existing }
            let compiled: ProxyRuleSet
            do throws(ProxyRuleSet.Failure) {
                compiled = try ProxyRuleSet(proxy, files: files)
            } catch {
                throw ProxyStartError("\(proxy.displayName), \(error.location): \(error.error.message)")
            }
            for (table, location) in compiled.tableReferences where tables[table] == nil {
                throw ProxyStartError("\(proxy.displayName), \(location): no stick table named '\(table)' (declare 'stick-table' in the proxy of that name)")
            }
            ruleSets[key] = compiled
            return compiled
        }
        var frontends: [FrontendStats] = []
        var frontendDirectory: [String: PoolDirectory.Frontend] = [:]
        let identifiers = ProxyIdentifiers(configuration)
        let services = LocalServices()
        // `maxconn` 0 means "not set" for a frontend, as in HAProxy. Unset limits are
        // still there (unlimited), so the runtime API's `set maxconn` can set them.
        let processLimit = ConnectionLimit(limit: configuration.global.maxconn.flatMap { $0 > 0 ? $0 : nil } ?? Int.max)
        do {
            for proxy in configuration.proxies where proxy.kind.hasFrontendCapability && !proxy.disabled {
                let backend: ProxyConfig
                // Without a default backend, a request no `use_backend` rule routes gets a
                // 503, as in HAProxy; the policy still needs a backend to start from.
                let hasDefault = proxy.kind == .listen || proxy.defaultBackend != nil
                if proxy.kind == .listen {
                    backend = proxy
                } else if let name = proxy.defaultBackend?.value, let found = configuration.backend(named: name) {
                    backend = found
                } else if !proxy.useBackendRules.isEmpty,
                          let first = proxy.useBackendRules.lazy.compactMap({ $0.isDynamic ? nil : configuration.backend(named: $0.backend) }).first
                              ?? configuration.backends.first(where: { $0.mode == proxy.mode }) {
                    backend = first
                } else {
                    // Neither: only Fulcrum's own answers (`use-service`, `return`, the
                    // stats page); anything else gets a 503, as HAProxy answers. The
                    // frontend stands as its own empty backend.
                    backend = proxy
                }
                let backendPool = try pool(backend)
                let frontendMaxconn = proxy.maxconn.flatMap { $0 > 0 ? $0 : nil }
                let frontendLimit = ConnectionLimit(limit: frontendMaxconn ?? Int.max)
                let frontendCounter = ConnectionCounter()
                let frontendStats = StatCounters()
                frontendDirectory[proxy.name] = PoolDirectory.Frontend(connections: frontendCounter, counters: frontendStats)
                let stateView = ProxyStateView(frontendName: proxy.name, connections: frontendCounter, counters: frontendStats,
                                               backend: backendPool, directory: directory)
                frontends.append(FrontendStats(name: proxy.name, mode: proxy.mode, connections: frontendCounter, counters: frontendStats,
                                               maxconn: proxy.maxconn ?? configuration.global.maxconn ?? 0, backend: backendPool,
                                               listeners: 0, control: FrontendControl(), limit: frontendLimit))
                let accessLog = try AccessLog.make(for: proxy, global: configuration.global, counter: frontendCounter, files: files)
                if !(try rules(proxy)).connectionRules.isEmpty {
                    connectionRules[proxy.name] = ConnectionRules(rules: try rules(proxy).connectionRules, tables: tables, frontendName: proxy.name, counters: frontendStats,
                                                                  state: stateView)
                }
                var http: HTTPProxyPolicy? = nil
                if proxy.mode == .http {
                    guard backend.mode == .http else {
                        throw ProxyStartError("\(proxy.displayName) is in HTTP mode but its backend '\(backend.name)' is in TCP mode")
                    }
                    let frontendRules = try rules(proxy)
                    let processConnections = connections
                    /// The policy of this frontend with one of its backends.
                    func policy(_ target: ProxyConfig, routes: HTTPRoutes?, hasDefault: Bool) throws -> HTTPProxyPolicy {
                        try HTTPProxyPolicy(frontend: proxy, backend: target, pool: try pool(target), global: configuration.global,
                                            accessLog: accessLog, processConnections: processConnections, counters: frontendStats,
                                            frontendRules: frontendRules, backendRules: try rules(target), routes: routes, tables: tables,
                                            userlists: configuration.userlists, patternFiles: files,
                                            persistence: try stickiness(target), directory: directory,
                                            frontendConnections: frontendCounter, hasDefaultBackend: hasDefault, services: services,
                                            httpErrors: configuration.httpErrors)
                    }
                    var routes: HTTPRoutes? = nil
                    if !frontendRules.backendSwitches.isEmpty {
                        // Every backend a rule can name gets its own policy for this frontend.
                        var policies: [String: HTTPProxyPolicy] = [:]
                        for target in try switchTargets(proxy, frontendRules) {
                            guard target.mode == .http else {
                                throw ProxyStartError("\(proxy.displayName) is in HTTP mode but its backend '\(target.name)' is in TCP mode")
                            }
                            policies[target.name] = try policy(target, routes: nil, hasDefault: true)
                        }
                        routes = HTTPRoutes(switches: frontendRules.backendSwitches, policies: policies)
                    }
                    http = try policy(backend, routes: routes, hasDefault: hasDefault)
                }
                let timeout = (backend.timeouts.tunnel ?? proxy.timeouts.client).map { TimeAmount.milliseconds(Int64($0.milliseconds)) }
                let clientFin = proxy.timeouts.clientFin.map { TimeAmount.milliseconds(Int64($0.milliseconds)) }
                let tcpFrontendRules = try rules(proxy)
                if proxy.mode == .tcp, !tcpFrontendRules.contentRules.isEmpty || !tcpFrontendRules.backendSwitches.isEmpty {
                    let frontendRules = tcpFrontendRules
                    var pools: [String: BackendPool] = [:]
                    for target in try switchTargets(proxy, frontendRules) { pools[target.name] = try pool(target) }
                    let delay = proxy.tcpRequestRules.last { $0.action == "inspect-delay" }
                        .flatMap { try? DurationValue.parse($0.arguments[0], keyword: "tcp-request inspect-delay") }
                        .map { TimeAmount.milliseconds(Int64($0.milliseconds)) }
                    tcpRoutes[proxy.name] = TCPRouting(contentRules: frontendRules.contentRules, switches: frontendRules.backendSwitches, pools: pools,
                                                       inspectDelay: delay, tables: tables, frontendName: proxy.name, counters: frontendStats,
                                                       hasDefaultBackend: hasDefault, state: stateView)
                }
                if proxy.mode == .tcp {
                    _ = try stickiness(backend)
                    for name in tcpRoutes[proxy.name]?.pools.keys.sorted() ?? [] {
                        if let target = configuration.backend(named: name) { _ = try stickiness(target) }
                    }
                    func hasHTTPRules(_ r: ProxyRuleSet) -> Bool { !r.requestRules.isEmpty || !r.responseRules.isEmpty || !r.afterResponseRules.isEmpty }
                    let ignored = hasHTTPRules(try rules(proxy)) ? proxy : hasHTTPRules(try rules(backend)) && backend.name != proxy.name ? backend : nil
                    if let ignored {
                        log(.warning, "\(ignored.displayName): 'http-request'/'http-response' rules are ignored in TCP mode.")
                    }
                }
                let backlog = Int32(frontendMaxconn ?? configuration.global.maxconn ?? 1024)
                let limits = [frontendLimit, processLimit]
                let splicing = proxy.mode == .tcp ? splicePool.map {
                    TCPSplicing(pool: $0, frontend: proxy.options.splices, clientTimeout: timeout, clientFinTimeout: clientFin)
                } : nil
                for bind in proxy.binds {
                    var bound = try ListenerPlan.plans(for: bind, frontend: proxy.name, clientTimeout: timeout, clientFinTimeout: clientFin, backend: backendPool, http: http,
                                                       defaultBacklog: backlog, limits: limits, accessLog: accessLog, counter: frontendCounter,
                                                       counters: frontendStats)
                    let smartAccept = proxy.options.others["tcp-smart-accept"] ?? (http != nil)
                    for index in bound.indices {
                        bound[index].splicing = splicing
                        bound[index].smartAccept = smartAccept
                    }
                    plans += bound
                }
            }
        } catch {
            try? group.syncShutdownGracefully()
            try? httpGroup.syncShutdownGracefully()
            throw error
        }
        directory.set(pools)
        directory.set(frontends: frontendDirectory, ids: identifiers.proxies)
        self.plans = plans
        self.splicePool = splicePool
        self.checks = checks
        self.connectionRules = connectionRules
        self.tcpRoutes = tcpRoutes
        self.persistence = persistence
        var inspections: [String: ResponseInspection] = [:]
        for (key, set) in ruleSets where !set.responseContentRules.isEmpty {
            let name = String(key.split(separator: " ", maxSplits: 1).last ?? "")
            guard let proxy = configuration.proxies.first(where: { $0.name == name && $0.kind != .frontend && $0.kind != .defaults }) else { continue }
            guard proxy.mode == .tcp else {
                try? group.syncShutdownGracefully()
                try? httpGroup.syncShutdownGracefully()
                throw ProxyStartError("\(proxy.displayName): 'tcp-response content' rules are carried out in TCP mode only (this backend is in HTTP mode)")
            }
            inspections[name] = ResponseInspection(rules: set.responseContentRules,
                                                   delay: proxy.tcpResponseInspectDelay.map { .milliseconds(Int64($0.milliseconds)) }, tables: tables)
        }
        self.responseInspections = inspections
        self.stickTables = tables
        self.statsSockets = configuration.global.statsSockets
        let started = WallClock.seconds()
        for k in frontends.indices {
            frontends[k].listeners = plans.filter { $0.frontend == frontends[k].name }.count
        }
        var registered: [StatsRegistry.Proxy] = []
        for proxy in configuration.proxies where proxy.kind != .defaults && !proxy.disabled {
            let frontend = frontends.first { $0.name == proxy.name }
            let backend = proxy.kind == .frontend ? nil : pools[proxy.name]
            guard frontend != nil || backend != nil else { continue }
            registered.append(StatsRegistry.Proxy(name: proxy.name, id: identifiers.proxies[proxy.name] ?? registered.count + 1,
                                                  frontend: frontend, backend: backend))
        }
        let stats = StatsRegistry(proxies: registered, processConnections: connections, startedAt: started, threads: max(1, threads),
                                  processLimit: processLimit, node: configuration.global.nodeName ?? Self.hostname(),
                                  droppedLogs: { LogSink.droppedLogs })
        self.stats = stats
        self.sessions = SessionRegistry(loops: loops + httpLoops)
        let handle = RuntimeHandle()
        self.api = RuntimeAPI(pools: pools, patterns: files, tables: tables, stats: stats, log: log, sessions: sessions, runtime: handle)
        services.set(stats, api)
        self.statsTimeout = .milliseconds(Int64(configuration.global.statsTimeout?.milliseconds ?? 10_000))
        self.reusePort = !configuration.global.noReusePort
        self.group = group
        self.httpGroup = httpGroup
        self.listeners = ListenerSet()
        handle.set(self)
    }

    /// The process id, read once (`%pid` is in every log line's context).
    static let processID = getpid()

    static func hostname() -> String {
        String(decoding: LogFormatRenderer.hostname, as: UTF8.self)
    }

    /// Binds every listener; on any failure the ones already bound are closed again.
    public func start() throws -> [String] {
        // Already listening (a second SIGTTIN, say): binding again would fail and
        // tear down the listeners that work.
        guard listeners.isEmpty else { return [] }
        try startHealthChecks()
        try startStatsSockets()
        RingForwarder.startAll(on: group)
        statsTicker.withLockedValue { ticker in
            guard ticker == nil else { return }
            let stats = self.stats
            ticker = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in stats.tick() }
        }
        var bound: [String] = []
        // Paused sockets about to listen again: kept (as duplicates) until every
        // listener is up, so a failed resume can pause them again instead of losing
        // ports that may no longer be bindable.
        var resumed: [(plan: Int, fd: Int32)] = []
        var failing = 0
        do {
            for (index, plan) in plans.enumerated() {
                // A frontend the runtime API disabled or shut down stays as it is.
                if stats.proxy(named: plan.frontend)?.frontend?.control.disabled == true { continue }
                failing = index
                if let kept = listeners.peekPaused(index) { resumed.append((index, dup(kept))) }
                let (future, fd) = try bootstrap(plan, index: index)
                let stop = try future.wait()
                listeners.append(ListenerSet.Entry(stop: stop, fd: fd, plan: index))
                bound.append("\(plan.frontend) \(plan.description)")
            }
            for (_, fd) in resumed where fd >= 0 { close(fd) }
        } catch {
            for entry in listeners.removeAll() { try? entry.stop().wait() }
            for (plan, fd) in resumed where fd >= 0 {
                _ = Glibc.shutdown(fd, Int32(SHUT_RD))
                if let stale = listeners.takePaused(plan) { close(stale) }
                listeners.keepPaused(plan, fd)
            }
            throw ProxyStartError("cannot bind \(plans[failing].description) for frontend '\(plans[failing].frontend)': \(error)")
        }
        return bound
    }

    /// The listening channel of `plan` and, for sockets Fulcrum opened or inherited,
    /// their descriptor (what a pause keeps). A paused socket listens again.
    func bootstrap(_ plan: ListenerPlan, index: Int) throws -> (EventLoopFuture<ListenerSet.Stop>, Int32?) {
        if let http = plan.http { return try startHTTP(plan, http, index: index) }
        let (future, fd) = try bootstrapTCP(plan, index: index)
        return (future.map { channel in { channel.close() } }, fd)
    }

    /// An HTTP listener: the listening socket (bound here, kept from a pause, or
    /// inherited) watched by an acceptor on each of Fulcrum's loops.
    private func startHTTP(_ plan: ListenerPlan, _ http: HTTPProxyPolicy, index: Int) throws -> (EventLoopFuture<ListenerSet.Stop>, Int32?) {
        let fd: Int32
        var localAddress: SocketAddress?
        var keptFD: Int32?
        switch plan.endpoint {
        case .inet(let address):
            if let kept = listeners.takePaused(index) {
                fd = kept
            } else {
                fd = try ListeningSocket.open(address, backlog: plan.backlog, options: plan.options, reusePort: reusePort)
            }
            keptFD = fd
            // A wildcard address says nothing of the connection's own: asked per connection.
            // (With `transparent`, a connection's own address is the one the client dialled.)
            if address.port != 0, !plan.options.transparent, !(address.ipBytes?.allSatisfy { $0 == 0 } ?? true) { localAddress = address }
        case .unix(let path):
            fd = try ListeningSocket.openUnix(path, backlog: plan.backlog)
            do {
                try UnixSocketPermissions.apply(to: path, options: plan.options)
            } catch {
                close(fd)
                throw error
            }
        case .inheritedFD(let inherited):
            fd = listeners.takePaused(index) ?? inherited
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            keptFD = fd
        }
        guard listen(fd, plan.backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ProxyStartError("listen(): \(reason)")
        }
        // Again after every listen(): a pause (shutdown for reading) clears it, and an
        // inherited socket never had it.
        if plan.smartAccept { ListeningSocket.delayAcks(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let listener: HTTPListener
        do {
            listener = try HTTPListener.start(fd: fd, plan: plan, http: http, runtime: self, group: httpGroup, localAddress: localAddress)
        } catch {
            close(fd)
            throw error
        }
        // The listener owns the socket: stopping it closes the descriptor (a pause keeps
        // a duplicate first).
        let stop: ListenerSet.Stop = {
            listener.stop().map { close(fd) }
        }
        return (httpGroup.loops[0].makeSucceededFuture(stop), keptFD)
    }

    private func bootstrapTCP(_ plan: ListenerPlan, index: Int) throws -> (EventLoopFuture<Channel>, Int32?) {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: plan.backlog)
            // `tune.maxaccept`: NIO reads (accepts) this many connections per readiness.
            .serverChannelOption(.maxMessagesPerRead, value: UInt(maxAccept))
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if !plan.limits.isEmpty {
                        try channel.pipeline.syncOperations.addHandler(AcceptLimiter(limits: plan.limits))
                    }
                }
            }
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The listener's AcceptLimiter took a place under every limit; it is
                    // given back when the session ends (see `register` below), or here
                    // when there is no session.
                    let limits = plan.limits
                    // A session may outlive its channel (a spliced TCP one, a parked HTTP
                    // one): it ends when its handler says so.
                    let end = channel.eventLoop.makePromise(of: Void.self)
                    let ended = end.futureResult
                    let session: any LiveSession
                    do {
                        // Options set here, synchronously: as bootstrap child options each
                        // would cost a future chain per accepted connection. A TCP
                        // connection reads nothing until its server side exists.
                        // TCP_NODELAY comes from the listening socket.
                        if let options = channel.syncOptions {
                            try options.setOption(.autoRead, value: false)
                            try options.setOption(.allowRemoteHalfClosure, value: true)
                        }
                        var trackers: [StickTracker?] = StickTracker.noSlots
                        if let rules = self.connectionRules[plan.frontend] {
                            guard let tracked = rules.evaluate(channel, until: ended) else {
                                // `reject`: closed before any byte is read or written.
                                channel.close(promise: nil)
                                end.succeed(())
                                Self.release(limits)
                                return
                            }
                            trackers = tracked
                        }
                        if plan.clientTimeout != nil || plan.clientFinTimeout != nil {
                            try channel.pipeline.syncOperations.addHandler(IdleTimeoutHandler(timeout: plan.clientTimeout, halfClosed: plan.clientFinTimeout))
                        }
                        // The handler leaves the pipeline once the relay runs; `show sess`
                        // keeps it to ask.
                        let handler = TCPFrontendHandler(backend: plan.backend, accessLog: plan.accessLog,
                                                         frontendName: plan.frontend, processConnections: self.connections,
                                                         counters: plan.frontendCounters, routing: self.tcpRoutes[plan.frontend],
                                                         persistence: self.persistence, trackers: trackers,
                                                         responseInspections: self.responseInspections, ended: end,
                                                         splicing: plan.splicing)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        session = handler
                    } catch {
                        // No handler took the session: it ends here.
                        end.succeed(())
                        Self.release(limits)
                        throw error
                    }
                    self.connections.add(1)
                    plan.frontendConnections.add(1)
                    plan.frontendCounters.sessions.add(1, ordering: .relaxed)
                    // Only what the callback needs is captured: a closure holding `plan`
                    // kept a copy of it (about 400 bytes) alive with every connection.
                    let (connections, frontendConnections) = (self.connections, plan.frontendConnections)
                    self.sessions.register(channel, frontend: plan.frontend, session: session, until: ended) {
                        connections.add(-1)
                        frontendConnections.add(-1)
                        Self.release(limits)
                    }
                }
            }
        switch plan.endpoint {
        case .inet(let address):
            let fd: Int32
            if let kept = listeners.takePaused(index) {
                fd = kept
                guard listen(fd, plan.backlog) == 0 else {
                    close(fd)
                    throw ProxyStartError("listen(): \(String(cString: strerror(errno)))")
                }
            } else {
                fd = try ListeningSocket.open(address, backlog: plan.backlog, options: plan.options, reusePort: reusePort)
            }
            // After listen(), also on a paused socket (its shutdown cleared it).
            if plan.smartAccept { ListeningSocket.delayAcks(fd) }
            return (Self.keepBacklog(bootstrap.withBoundSocket(fd), fd: fd, backlog: plan.backlog), fd)
        case .unix(let path):
            let options = plan.options
            let future = bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).flatMapThrowing { channel in
                do {
                    try UnixSocketPermissions.apply(to: path, options: options)
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
                return channel
            }
            return (future, nil)
        case .inheritedFD(let inherited):
            let fd = listeners.takePaused(index) ?? inherited
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = listen(fd, plan.backlog)
            if plan.smartAccept { ListeningSocket.delayAcks(fd) }
            return (Self.keepBacklog(bootstrap.withBoundSocket(fd), fd: fd, backlog: plan.backlog), fd)
        }
    }

    /// NIO listens again with its own default backlog (128) when it adopts a socket;
    /// listening once more restores the configured one.
    private static func keepBacklog(_ future: EventLoopFuture<Channel>, fd: Int32, backlog: Int32) -> EventLoopFuture<Channel> {
        future.map { channel in
            _ = listen(fd, backlog)
            return channel
        }
    }

    /// Starts every server's checks once, spread over the event loops. Each checker is
    /// created on its loop, which its scheduled checks then keep alive; a server that
    /// starts DOWN (`init-state down`) is out of the rotation before anything is
    /// accepted.
    private func startHealthChecks() throws {
        let first = checksStarted.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        let log = self.log
        for spec in checks {
            let loop = group.next()
            try loop.submit {
                HealthChecker(loop: loop, pool: spec.pool, server: spec.server, plan: spec.plan, address: spec.address,
                              timing: spec.timing, agent: spec.agent, initial: spec.initial, log: log).start()
            }.wait()
        }
    }

    /// Binds the stats sockets once (a pause leaves them alone).
    private func startStatsSockets() throws {
        guard statsChannels.withLockedValue({ $0.isEmpty }) else { return }
        for socket in statsSockets {
            let level = RuntimeAPI.Level(socket.level)
            let api = self.api, timeout = statsTimeout
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // A client that sends its command and shuts down writing (`socat`, `nc -q`)
                // still gets the answer, which may come after the end of its input.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleTimeoutHandler(timeout: timeout))
                        try channel.pipeline.syncOperations.addHandler(StatsSocketHandler(api: api, level: level))
                    }
                }
            let channel: Channel
            do {
                switch socket.address.kind {
                case .unix(let path):
                    channel = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
                    var options = BindOptions()
                    options.unixMode = socket.mode
                    options.unixUser = socket.user
                    options.unixGroup = socket.group
                    try UnixSocketPermissions.apply(to: path, options: options)
                case .inet(let host, _):
                    channel = try bootstrap.bind(host: host.isEmpty ? "0.0.0.0" : host, port: socket.address.ports?.lowerBound ?? 0).wait()
                default:
                    throw ProxyStartError("stats socket '\(socket.address)' is not supported")
                }
            } catch {
                throw ProxyStartError("cannot bind stats socket \(socket.address): \(error)")
            }
            statsChannels.withLockedValue { $0.append(channel) }
        }
    }


    /// Gives back the places a connection held under its listener's `maxconn` limits.
    static func release(_ limits: [ConnectionLimit]) {
        for limit in limits { limit.release() }
    }

    /// SIGUSR1, as HAProxy's soft stop: no more accepts, idle keep-alive connections
    /// close now and busy ones after their response; the process exits once none is
    /// left (or at `hard-stop-after`).
    public func softStop() {
        stopListening()
        sessions.softStopAll()
    }

    /// Stops accepting for good; connections in flight go on.
    public func stopListening() {
        for entry in listeners.removeAll() {
            try? entry.stop().wait()
        }
        listeners.closePaused()
    }

    /// SIGTTOU: stops listening but keeps each socket (and its port) so `start()` can
    /// listen on it again without binding, which may no longer be allowed once
    /// privileges are dropped. Meanwhile the port refuses connections and, as with
    /// HAProxy's SO_REUSEPORT, another process may bind it. Unix sockets are closed
    /// and bound again on resume.
    public func pause() {
        for entry in listeners.removeAll() {
            if let fd = entry.fd {
                let kept = dup(fd)
                if kept >= 0 {
                    // A listening TCP socket shut down for reading stops listening but
                    // stays bound; listen() makes it accept again.
                    _ = Glibc.shutdown(kept, Int32(SHUT_RD))
                    listeners.keepPaused(entry.plan, kept)
                }
            }
            try? entry.stop().wait()
        }
    }

    public func shutdown() {
        // Parked connections have no channel for the loops' shutdown to close.
        softStop()
        // Before the event loops stop: the engines report each cut connection to one.
        splicePool?.stop()
        for channel in statsChannels.withLockedValue({ let all = $0; $0 = []; return all }) { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
        try? httpGroup.syncShutdownGracefully()
    }
}

/// Counts open client connections: one lock per connection opened or closed, never per byte.
/// Connections open now, and the most there were at once (`smax`): atomics, as it
/// changes on every accept and close.
final class ConnectionCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let highest = Atomic<Int>(0)
    func add(_ n: Int) {
        let now = count.wrappingAdd(n, ordering: .relaxed).newValue
        guard n > 0 else { return }
        var seen = highest.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = highest.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }
    var value: Int { count.load(ordering: .relaxed) }
    var peak: Int { highest.load(ordering: .relaxed) }
    /// `clear counters`: the peak starts again from now.
    func resetPeak() { highest.store(count.load(ordering: .relaxed), ordering: .relaxed) }
}

/// The bound listening channels, shared between the thread that starts and the one that stops.
final class ListenerSet: Sendable {
    typealias Stop = @Sendable () -> EventLoopFuture<Void>
    struct Entry: Sendable {
        /// Stops accepting: closes a NIO listening channel, or takes an HTTP listener
        /// off Fulcrum's loops.
        let stop: Stop
        let fd: Int32?
        let plan: Int
    }
    private let box = NIOLockedValueBox<[Entry]>([])
    /// Paused sockets, by plan index: kept bound, not listening.
    private let paused = NIOLockedValueBox<[Int: Int32]>([:])
    func append(_ entry: Entry) { box.withLockedValue { $0.append(entry) } }
    /// The entries of some plans (one frontend's), taken out.
    func remove(plans: Set<Int>) -> [Entry] {
        box.withLockedValue { all in
            let taken = all.filter { plans.contains($0.plan) }
            all.removeAll { plans.contains($0.plan) }
            return taken
        }
    }
    func removeAll() -> [Entry] { box.withLockedValue { let all = $0; $0 = []; return all } }
    var isEmpty: Bool { box.withLockedValue { $0.isEmpty } }
    func keepPaused(_ plan: Int, _ fd: Int32) { paused.withLockedValue { $0[plan] = fd } }
    func takePaused(_ plan: Int) -> Int32? { paused.withLockedValue { $0.removeValue(forKey: plan) } }
    func peekPaused(_ plan: Int) -> Int32? { paused.withLockedValue { $0[plan] } }
    func closePaused() {
        for fd in paused.withLockedValue({ let all = $0.values; $0 = [:]; return all }) { close(fd) }
    }
}
