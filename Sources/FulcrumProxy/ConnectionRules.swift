#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// A frontend's `tcp-request connection` rules, run once per accepted connection before
/// any handler sees it: `reject` closes it at once; what `track-sc` tracks lives until
/// the connection closes.
final class ConnectionRules: Sendable {
    let rules: [CompiledHTTPRule]
    let tables: [String: StickTable]
    let frontendName: String
    /// Connections refused (`dcon`).
    let counters: StatCounters
    /// What proxy-state fetches read (`be_conn`, `nbsrv`, `fe_id`...).
    let state: ProxyStateView?

    init(rules: [CompiledHTTPRule], tables: [String: StickTable], frontendName: String, counters: StatCounters, state: ProxyStateView? = nil) {
        self.state = state
        self.rules = rules
        self.tables = tables
        self.frontendName = frontendName
        self.counters = counters
    }

    /// The entries the connection tracks, or nil when a rule rejects it. They are let
    /// go when the session `ended` (a spliced TCP connection outlives its channel).
    func evaluate(_ channel: Channel, until ended: EventLoopFuture<Void>) -> [StickTracker?]? {
        evaluate(client: channel.remoteAddress, local: channel.localAddress, until: ended)
    }

    func evaluate(client: SocketAddress?, local: SocketAddress?, until ended: EventLoopFuture<Void>) -> [StickTracker?]? {
        let s = SampleContext.forConnection(client: client, local: local, frontend: frontendName, tables: tables)
        s.proxies = state
        var log = RequestLogContext(frontendName: frontendName)
        if case .reject = HTTPRuleRunner.run(rules, response: false, s, &log, errorPages: .builtIn, connectionLevel: true) {
            for tracker in s.trackers.compactMap({ $0 }) { tracker.table.apply([.trackEnd], to: tracker.key, now: SampleContext.monotonicMilliseconds()) }
            counters.deniedConnections.add(1, ordering: .relaxed)
            return nil
        }
        let trackers = s.trackers
        if trackers.contains(where: { $0 != nil }) {
            ended.whenComplete { _ in
                for tracker in trackers.compactMap({ $0 }) { tracker.table.apply([.trackEnd], to: tracker.key, now: SampleContext.monotonicMilliseconds()) }
            }
        }
        return trackers
    }
}

extension SampleContext {
    /// A context with what is known of a connection as it is accepted.
    static func forConnection(client: SocketAddress?, local: SocketAddress?, frontend: String, tables: [String: StickTable]) -> SampleContext {
        let s = SampleContext()
        s.client = client?.ipBytes
        s.clientPort = client?.port ?? 0
        s.destination = local?.ipBytes
        s.destinationPort = local?.port ?? 0
        s.frontendName = Array(frontend.utf8)
        s.tables = tables
        s.defaultTable = frontend
        s.milliseconds = monotonicMilliseconds
        s.now = HTTPClientSession.wallSeconds
        s.environment = HTTPClientSession.environmentVariable
        return s
    }

    static func monotonicMilliseconds() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }
}
