import FulcrumCore
import NIOCore

/// Everything an HTTP-mode frontend needs per request, resolved once at start-up from
/// the frontend and its backend: connection mode, timeouts, header rules, unique ID,
/// error pages. Immutable and shared by every connection the frontend accepts.
final class HTTPProxyPolicy: Sendable {
    enum Reuse: Sendable { case never, safe, always }

    let frontendName: String
    /// The names as bytes, made once for every transaction's sample context.
    let frontendNameBytes: [UInt8]
    let backendNameBytes: [UInt8]
    let backend: BackendPool
    let connectionMode: HTTPConnectionMode
    let reuse: Reuse
    let clientTimeout: TimeAmount?
    let httpRequestTimeout: TimeAmount?
    let keepAliveTimeout: TimeAmount?
    let tunnelTimeout: TimeAmount?
    /// `timeout client-fin` and `timeout server-fin`, for a tunnel closed in one direction.
    let clientFinTimeout: TimeAmount?
    let serverFinTimeout: TimeAmount?
    /// `timeout server`: how long the server may stay silent while a response is due.
    let serverTimeout: TimeAmount?
    let forwardForHeader: String?
    let forwardForExcept: IPNetwork?
    let forwardForIfNone: Bool
    /// The frontend's `http-request` rules, run before the backend is chosen, then the
    /// backend's, run after (empty when frontend and backend are one `listen`).
    let frontendRequestRules: [CompiledHTTPRule]
    let backendRequestRules: [CompiledHTTPRule]
    /// The backend's `http-response` rules, then the frontend's, then the
    /// `http-after-response` ones.
    let responseRules: [CompiledHTTPRule]
    /// The `http-after-response` rules alone: they also edit Fulcrum's own answers
    /// (deny, redirect, return, error pages), as HAProxy's do.
    let afterResponseRules: [CompiledHTTPRule]
    /// `use_backend` rules and the policy of each backend they may choose; nil on the
    /// policies they point to (the choice is made once per request).
    let routes: HTTPRoutes?
    /// Stick tables by name, and the ones frontend and backend rules use by default.
    let stickTables: [String: StickTable]
    let userlists: [String: UserlistConfig]
    let patternFiles: PatternFiles?
    /// `option http-buffer-request`: a request's body (what fits in a buffer) is waited
    /// for before the rules run, for `req.body`.
    let buffersRequestBody: Bool
    /// Every backend by name, and the frontend's open connections, for `be_conn`, `fe_conn`...
    let directory: PoolDirectory
    let frontendConnections: ConnectionCounter
    /// The backend's `stick` rules.
    let persistence: StickPersistence?
    let frontendTable: String
    let backendTable: String
    /// The frontend's `tcp-request content` rules, run on each request head first.
    let contentRules: [CompiledHTTPRule]
    /// `monitor-uri` and `monitor fail`: answered before any rule, not logged.
    let monitorURI: [UInt8]?
    let monitorFail: [ACLCondition]
    /// How long `tarpit` holds a request before answering.
    let tarpitTimeout: TimeAmount
    /// `use-server`: a condition and the server it sends the request to.
    let serverSwitches: [(ACLCondition?, Int)]
    /// False when the frontend has only `use_backend` rules: an unrouted request gets a 503.
    let hasDefaultBackend: Bool
    /// Whether a request needs a sample context: rules or routes to evaluate.
    let evaluatesRules: Bool
    let uniqueIDFormat: LogFormat?
    let uniqueIDHeader: String?
    /// The same name in bytes, built once rather than per request.
    let uniqueIDHeaderName: [UInt8]?
    let errorPages: HTTPErrorPages
    /// `capture request header` and `capture response header`, lower-cased names.
    let requestCaptures: [(name: [UInt8], length: Int)]
    /// The lengths of the capture slots `http-request capture ... len` rules make,
    /// after the header and declared ones.
    let ruleCaptures: [Int]
    let responseCaptures: [(name: [UInt8], length: Int)]
    /// `capture cookie` (`%CC`, `%CS`).
    let captureCookie: CaptureCookie?
    /// The frontend's access log, if it logs.
    let accessLog: AccessLog?
    /// The frontend's `show stat` counters.
    let frontendCounters: StatCounters
    /// Open client connections of the whole process (`%ac`).
    let processConnections: ConnectionCounter
    /// Longest request or response head accepted: `tune.bufsize` less `tune.maxrewrite`,
    /// the room HAProxy keeps for rewrites.
    let maxHeadSize: Int
    /// `tune.park-idle-clients`: how long a keep-alive client may wait for its next
    /// request before its session gives way to a small record (nil: never).
    let parkAfter: TimeAmount?
    /// True when every request head is rewritten (a rule or option adds a header), so
    /// the unchanged-bytes fast path is not even tried.
    let alwaysEditsRequest: Bool
    /// The statistics page of the frontend (checked before routing) and of the
    /// backend (after), and what Fulcrum's own services read.
    let frontendStatsPage: StatsPage?
    let backendStatsPage: StatsPage?
    let services: LocalServices
    /// The URIs of the stats pages reachable through this policy: their admin POSTs
    /// are read whole.
    let statsURIs: [[UInt8]]

    init(frontend: ProxyConfig, backend backendConfig: ProxyConfig, pool: BackendPool, global: GlobalSettings,
         accessLog: AccessLog?, processConnections: ConnectionCounter, counters: StatCounters,
         frontendRules: ProxyRuleSet, backendRules: ProxyRuleSet, routes: HTTPRoutes?, tables: [String: StickTable] = [:],
         userlists: [String: UserlistConfig] = [:], patternFiles: PatternFiles? = nil, persistence: StickPersistence? = nil,
         directory: PoolDirectory = PoolDirectory(), frontendConnections: ConnectionCounter = ConnectionCounter(),
         hasDefaultBackend: Bool = true, services: LocalServices = LocalServices(),
         httpErrors: [String: [Int: ErrorFileConfig]] = [:]) throws {
        self.directory = directory
        self.services = services
        frontendStatsPage = frontend.stats.enabled
            ? StatsPage(frontend.stats, proxy: frontend, rules: frontendRules, description: global.description, services: services) : nil
        backendStatsPage = backendConfig.stats.enabled && backendConfig.name != frontend.name
            ? StatsPage(backendConfig.stats, proxy: backendConfig, rules: backendRules, description: global.description, services: services) : nil
        let waits = (frontendRules.requestRules + backendRules.requestRules).contains { if case .waitForBody = $0.action { return true } else { return false } }
        // `balance url_param ... check_post` reads a POST body: it is waited for too.
        let balancerReadsBody = pool.key.readsBody || (routes?.policies.values.contains { $0.backend.key.readsBody } ?? false)
        buffersRequestBody = frontend.options.httpBufferRequest || backendConfig.options.httpBufferRequest || waits || balancerReadsBody
        self.frontendConnections = frontendConnections
        self.persistence = persistence
        self.patternFiles = patternFiles
        self.stickTables = tables
        self.userlists = userlists
        monitorURI = frontendRules.monitorURI
        monitorFail = frontendRules.monitorFail
        tarpitTimeout = .milliseconds(Int64((backendConfig.timeouts.tarpit ?? frontend.timeouts.tarpit ?? backendConfig.timeouts.connect ?? frontend.timeouts.connect)?.milliseconds ?? 0))
        serverSwitches = try backendRules.serverSwitches.map { rule in
            guard let index = pool.servers.firstIndex(where: { $0.name == rule.backend }) else {
                throw ProxyStartError("\(backendConfig.displayName), \(rule.location): 'use-server': no server named '\(rule.backend)'")
            }
            return (rule.condition, index)
        }
        frontendTable = frontendRules.tableName
        backendTable = backendRules.tableName
        contentRules = frontendRules.contentRules
        self.hasDefaultBackend = hasDefaultBackend
        self.accessLog = accessLog
        self.frontendCounters = counters
        self.processConnections = processConnections
        requestCaptures = frontend.captures.filter { $0.direction == .request }.map { (Array($0.name.lowercased().utf8), $0.length) }
        ruleCaptures = frontendRules.captureLengths
        responseCaptures = frontend.captures.filter { $0.direction == .response }.map { (Array($0.name.lowercased().utf8), $0.length) }
        captureCookie = frontend.captureCookie
        frontendName = frontend.name
        frontendNameBytes = Array(frontend.name.utf8)
        backendNameBytes = Array(pool.name.utf8)
        backend = pool
        let modes = [frontend.options.httpConnectionMode, backendConfig.options.httpConnectionMode]
        connectionMode = modes.contains(.close) ? .close : modes.contains(.serverClose) ? .serverClose : .keepAlive
        switch backendConfig.httpReuse {
        case "never": reuse = .never
        case "always", "aggressive": reuse = .always
        default: reuse = .safe
        }
        func amount(_ d: DurationValue?) -> TimeAmount? { d.map { .milliseconds(Int64($0.milliseconds)) } }
        clientTimeout = amount(frontend.timeouts.client)
        httpRequestTimeout = amount(frontend.timeouts.httpRequest ?? frontend.timeouts.client)
        keepAliveTimeout = amount(frontend.timeouts.httpKeepAlive ?? frontend.timeouts.httpRequest ?? frontend.timeouts.client)
        tunnelTimeout = amount(backendConfig.timeouts.tunnel ?? frontend.timeouts.client)
        serverTimeout = amount(backendConfig.timeouts.server)
        clientFinTimeout = amount(frontend.timeouts.clientFin)
        serverFinTimeout = amount(backendConfig.timeouts.serverFin)
        let forwardFor = backendConfig.options.forwardFor ?? frontend.options.forwardFor
        forwardForHeader = forwardFor?.header
        forwardForIfNone = forwardFor?.ifNone ?? false
        if let except = forwardFor?.except {
            guard let network = IPNetwork(except) else {
                throw ProxyStartError("\(frontend.displayName): 'option forwardfor except \(except)': not an address or network")
            }
            forwardForExcept = network
        } else {
            forwardForExcept = nil
        }
        let separate = backendConfig.name != frontend.name
        frontendRequestRules = frontendRules.requestRules
        backendRequestRules = separate ? backendRules.requestRules : []
        var responseRules = backendRules.responseRules
        if separate { responseRules += frontendRules.responseRules }
        afterResponseRules = backendRules.afterResponseRules + (separate ? frontendRules.afterResponseRules : [])
        responseRules += afterResponseRules
        for rule in responseRules {
            switch rule.action {
            case .auth, .track, .editPatterns, .accept, .reject, .setPath, .setURI, .setQuery, .setMethod:
                throw ProxyStartError("\(frontend.displayName), \(rule.location): this action is not carried out in response rules")
            default: continue
            }
        }
        self.responseRules = responseRules
        self.routes = routes
        statsURIs = ([frontendStatsPage, backendStatsPage] + (routes?.policies.values.map(\.backendStatsPage) ?? [])).compactMap { $0?.uri }
        errorPages = HTTPErrorPages([frontend.errorFiles, backendConfig.errorFiles], replies: [frontendRules.errorReplies, backendRules.errorReplies],
                                    sections: httpErrors)
        evaluatesRules = errorPages.rendersPerRequest || !frontendRequestRules.isEmpty || !backendRequestRules.isEmpty || routes != nil || !contentRules.isEmpty
            || !frontendRules.connectionRules.isEmpty || monitorURI != nil || !serverSwitches.isEmpty
            || !(accessLog?.samples.isEmpty ?? true) || persistence != nil || !statsURIs.isEmpty
        if let text = frontend.uniqueIDFormat?.value {
            do throws(ConfigError) {
                uniqueIDFormat = try LogFormat(parsing: text)
            } catch {
                throw ProxyStartError("\(frontend.displayName): unique-id-format: \(error.message)")
            }
            try LogFormatRenderer.checkConnectionSamples(uniqueIDFormat!, frontend, "unique-id-format")
        } else {
            uniqueIDFormat = nil
        }
        uniqueIDHeader = uniqueIDFormat == nil ? nil : frontend.uniqueIDHeader
        uniqueIDHeaderName = uniqueIDHeader.map { Array($0.utf8) }
        maxHeadSize = Int(global.tuneBufsize) - Int(global.tuneMaxrewrite)
        parkAfter = global.parkIdleClients.map { .milliseconds(Int64($0.milliseconds)) }
        alwaysEditsRequest = forwardForHeader != nil || uniqueIDHeader != nil || connectionMode != .keepAlive
    }
}

extension HTTPProxyPolicy: ProxyState {
    func usableServers(_ backend: String?) -> Int {
        guard let backend else { return self.backend.usableServers }
        return directory[backend]?.usableServers ?? 0
    }

    func count(_ kind: ProxyCount, _ name: String?) -> Int? {
        ProxyStateView.count(kind, name, frontend: frontendName, connections: frontendConnections, counters: frontendCounters,
                             backend: backend, directory: directory)
    }
}

/// A frontend's `use_backend` rules with the policy of every backend they can name.
final class HTTPRoutes: Sendable {
    /// One rule, its backend's policy looked up once when the name is written out.
    final class Route: Sendable {
        let condition: ACLCondition?
        let dynamic: LogFormat?
        let samples: [String: SampleExpression]
        let policy: HTTPProxyPolicy?

        /// `condition` without reference counting (it lives as long as the route).
        private let conditionRef: Unmanaged<ACLCondition>?

        init(_ rule: ProxyRuleSet.BackendSwitch, _ policies: [String: HTTPProxyPolicy]) {
            condition = rule.condition
            conditionRef = rule.condition.map { Unmanaged.passUnretained($0) }
            dynamic = rule.dynamic
            samples = rule.samples
            policy = rule.dynamic == nil ? policies[rule.backend] : nil
        }

        @inline(__always)
        func applies(_ s: SampleContext) -> Bool {
            guard let conditionRef else { return true }
            return conditionRef._withUnsafeGuaranteedRef { $0.holds(s) }
        }
    }

    let routes: [Route]
    let policies: [String: HTTPProxyPolicy]

    init(switches: [ProxyRuleSet.BackendSwitch], policies: [String: HTTPProxyPolicy]) {
        routes = switches.map { Route($0, policies) }
        self.policies = policies
    }

    /// The policy of the first rule whose condition holds and whose backend exists
    /// (a computed name that matches no backend is skipped, as HAProxy does); nil
    /// for the default backend.
    func choose(_ s: SampleContext, _ log: inout RequestLogContext) -> HTTPProxyPolicy? {
        routes.withUnsafeBufferPointer { routes in
            for k in routes.indices {
                // Walked without reference counting (the list holds the routes).
                let decided = Unmanaged.passUnretained(routes[k])._withUnsafeGuaranteedRef { route -> HTTPProxyPolicy?? in
                    guard route.applies(s) else { return .none }
                    if let format = route.dynamic {
                        // A computed name that matches no backend ends the search, as HAProxy.
                        let name = String(decoding: LogFormatRenderer.render(format, log, samples: (route.samples, s), missing: []), as: UTF8.self)
                        return .some(policies[name])
                    }
                    // A name no backend has is skipped.
                    guard let policy = route.policy else { return .none }
                    return .some(policy)
                }
                if let decided { return decided }
            }
            return nil
        }
    }
}
