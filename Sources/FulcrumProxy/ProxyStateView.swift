import FulcrumCore

/// What proxy-state fetches (`nbsrv`, `be_conn`, `srv_is_up`, `fe_id`, `be_sess_rate`,
/// ...) read for a TCP-mode frontend and its default backend; HTTP policies answer the
/// same questions through the same function.
final class ProxyStateView: ProxyState {
    let frontendName: String
    let connections: ConnectionCounter
    let counters: StatCounters
    let backend: BackendPool
    let directory: PoolDirectory

    init(frontendName: String, connections: ConnectionCounter, counters: StatCounters, backend: BackendPool, directory: PoolDirectory) {
        self.frontendName = frontendName
        self.connections = connections
        self.counters = counters
        self.backend = backend
        self.directory = directory
    }

    func usableServers(_ name: String?) -> Int {
        guard let name else { return backend.usableServers }
        return directory[name]?.usableServers ?? 0
    }

    func count(_ kind: ProxyCount, _ name: String?) -> Int? {
        Self.count(kind, name, frontend: frontendName, connections: connections, counters: counters, backend: backend, directory: directory)
    }

    /// `name`: another backend (or `backend/server`, or frontend for `fe_sess_rate`);
    /// nil for the transaction's own.
    static func count(_ kind: ProxyCount, _ name: String?, frontend: String, connections: ConnectionCounter, counters: StatCounters,
                      backend: BackendPool, directory: PoolDirectory) -> Int? {
        switch kind {
        case .frontendConnections:
            return name.map { directory.frontend($0)?.connections.value } ?? connections.value
        case .frontendSessionRate:
            guard let name else { return counters.sessionRate.load(ordering: .relaxed) }
            return directory.frontend(name)?.counters.sessionRate.load(ordering: .relaxed)
        case .frontendID:
            return directory.id(frontend)
        default:
            break
        }
        var poolName = name
        var serverName: String?
        if let name, let slash = name.firstIndex(of: "/") {
            poolName = String(name[..<slash])
            serverName = String(name[name.index(after: slash)...])
        }
        guard let pool = poolName.map({ directory[$0] }) ?? backend else { return nil }
        switch kind {
        case .backendConnections: return pool.logCounts(server: nil).backend
        case .backendQueue: return pool.logCounts(server: nil).queue
        case .connectionSlots: return pool.freeSlots
        case .backendID: return directory.id(pool.name)
        case .backendSessionRate: return pool.counters.sessionRate.load(ordering: .relaxed)
        case .serverConnections, .serverIsUp, .serverID:
            guard let serverName, let index = pool.serverConfigs.firstIndex(where: { $0.name == serverName }) else { return nil }
            if kind == .serverID { return pool.serverIDs[index] }
            let status = pool.status(index)
            return kind == .serverIsUp ? (status.up && !status.maint ? 1 : 0) : status.sessions
        case .frontendConnections, .frontendSessionRate, .frontendID: return nil
        }
    }
}
