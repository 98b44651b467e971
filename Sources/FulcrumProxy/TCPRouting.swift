import FulcrumCore
import NIOCore

/// A TCP-mode frontend's `tcp-request content` rules and `use_backend` rules. With
/// `tcp-request inspect-delay`, the connection's first bytes are read and held until a
/// content rule accepts or rejects, the delay passes, or the client stops sending, so
/// rules can route on them (the TLS SNI of a ClientHello, say); the held bytes are then
/// sent to the chosen server first.
final class TCPRouting: Sendable {
    let contentRules: [CompiledHTTPRule]
    let switches: [ProxyRuleSet.BackendSwitch]
    let pools: [String: BackendPool]
    let inspectDelay: TimeAmount?
    let tables: [String: StickTable]
    let frontendName: String
    let counters: StatCounters
    /// What proxy-state fetches read (`be_conn`, `nbsrv`, `fe_id`...).
    let state: ProxyStateView?
    /// False when only `use_backend` rules name backends: an unrouted connection is closed.
    let hasDefaultBackend: Bool
    /// Whether a `use_backend` rule reads the TLS hello, so a split one is waited for.
    let needsHello: Bool
    /// Held bytes beyond which rules are evaluated with what has arrived.
    static let maxInspected = 16 * 1024

    init(contentRules: [CompiledHTTPRule], switches: [ProxyRuleSet.BackendSwitch], pools: [String: BackendPool],
         inspectDelay: TimeAmount?, tables: [String: StickTable], frontendName: String, counters: StatCounters,
         hasDefaultBackend: Bool, state: ProxyStateView? = nil) {
        self.hasDefaultBackend = hasDefaultBackend
        self.state = state
        needsHello = switches.contains { $0.readsTLSHello }
        self.contentRules = contentRules
        self.switches = switches
        self.pools = pools
        self.inspectDelay = inspectDelay
        self.tables = tables
        self.frontendName = frontendName
        self.counters = counters
    }

    enum Decision {
        /// More bytes may change the outcome: keep reading (until the delay).
        case wait
        case reject
        /// The backend to use (nil: the default one).
        case route(BackendPool?)
    }

    /// Runs the content rules on what has arrived; `final` when no more will be waited
    /// for. Content rules that neither accept nor reject leave the decision to more
    /// bytes, as HAProxy's inspection does.
    func decide(_ channel: Channel, payload: [UInt8], final: Bool, trackers: inout [StickTracker?]) -> Decision {
        let s = SampleContext.forConnection(client: channel.remoteAddress, local: channel.localAddress, frontend: frontendName, tables: tables)
        s.payload = payload
        s.proxies = state
        s.requestLength = payload.count
        s.trackers = trackers
        var log = RequestLogContext(frontendName: frontendName)
        let outcome = HTTPRuleRunner.run(contentRules, response: false, s, &log, errorPages: .builtIn, connectionLevel: true)
        trackers = s.trackers
        switch outcome {
        case .reject:
            counters.deniedRequests.add(1, ordering: .relaxed)
            return .reject
        case .proceed where !contentRules.isEmpty && !final && inspectDelay != nil:
            return .wait
        case .accepted where !final && inspectDelay != nil && needsHello && TLSClientHello.mayBecomeRecord(payload):
            // Accepted on the record's first bytes; routing reads the whole hello.
            return .wait
        default:
            break
        }
        for rule in switches {
            if let condition = rule.condition, !condition.holds(s) { continue }
            let name = rule.dynamic.map { String(decoding: LogFormatRenderer.render($0, log, samples: (rule.samples, s), missing: []), as: UTF8.self) } ?? rule.backend
            // A computed name that matches no backend ends the search: the default one.
            return .route(pools[name])
        }
        return hasDefaultBackend ? .route(nil) : .reject
    }
}
