import FulcrumCore
import NIOCore

/// Everything an HTTP-mode frontend needs per request, resolved once at start-up from
/// the frontend and its backend: connection mode, timeouts, header rules, unique ID,
/// error pages. Immutable and shared by every connection the frontend accepts.
final class HTTPProxyPolicy: Sendable {
    enum Reuse: Sendable { case never, safe, always }

    let frontendName: String
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
    let requestRules: [CompiledHTTPRule]
    let responseRules: [CompiledHTTPRule]
    let uniqueIDFormat: LogFormat?
    let uniqueIDHeader: String?
    let errorPages: HTTPErrorPages
    /// `capture request header` and `capture response header`, lower-cased names.
    let requestCaptures: [(name: [UInt8], length: Int)]
    let responseCaptures: [(name: [UInt8], length: Int)]
    /// The frontend's access log, if it logs.
    let accessLog: AccessLog?
    /// The frontend's `show stat` counters.
    let frontendCounters: StatCounters
    /// Open client connections of the whole process (`%ac`).
    let processConnections: ConnectionCounter
    /// Longest request or response head accepted: `tune.bufsize` less `tune.maxrewrite`,
    /// the room HAProxy keeps for rewrites.
    let maxHeadSize: Int
    /// True when every request head is rewritten (a rule or option adds a header), so
    /// the unchanged-bytes fast path is not even tried.
    let alwaysEditsRequest: Bool

    init(frontend: ProxyConfig, backend backendConfig: ProxyConfig, pool: BackendPool, global: GlobalSettings,
         accessLog: AccessLog?, processConnections: ConnectionCounter, counters: StatCounters) throws {
        self.accessLog = accessLog
        self.frontendCounters = counters
        self.processConnections = processConnections
        requestCaptures = frontend.captures.filter { $0.direction == .request }.map { (Array($0.name.lowercased().utf8), $0.length) }
        responseCaptures = frontend.captures.filter { $0.direction == .response }.map { (Array($0.name.lowercased().utf8), $0.length) }
        frontendName = frontend.name
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
        var requestRules = try frontend.httpRequestRules.map { try CompiledHTTPRule($0, in: frontend) }
        if backendConfig.name != frontend.name {
            requestRules += try backendConfig.httpRequestRules.map { try CompiledHTTPRule($0, in: backendConfig) }
        }
        self.requestRules = requestRules
        var responseRules = try backendConfig.httpResponseRules.map { try CompiledHTTPRule($0, in: backendConfig) }
        if backendConfig.name != frontend.name {
            responseRules += try frontend.httpResponseRules.map { try CompiledHTTPRule($0, in: frontend) }
        }
        self.responseRules = responseRules
        if let text = frontend.uniqueIDFormat?.value {
            do throws(ConfigError) {
                uniqueIDFormat = try LogFormat(parsing: text)
            } catch {
                throw ProxyStartError("\(frontend.displayName): unique-id-format: \(error.message)")
            }
            try CompiledHTTPRule.checkSamples(uniqueIDFormat!, frontend, "unique-id-format")
        } else {
            uniqueIDFormat = nil
        }
        uniqueIDHeader = uniqueIDFormat == nil ? nil : frontend.uniqueIDHeader
        errorPages = HTTPErrorPages([frontend.errorFiles, backendConfig.errorFiles])
        maxHeadSize = Int(global.tuneBufsize) - Int(global.tuneMaxrewrite)
        alwaysEditsRequest = forwardForHeader != nil || !requestRules.isEmpty || uniqueIDHeader != nil || connectionMode != .keepAlive
    }
}
