import FulcrumCore

/// What `show stat` reports about one frontend.
struct FrontendStats: Sendable {
    let name: String
    let mode: ProxyMode
    let connections: ConnectionCounter
    let counters: StatCounters
    let maxconn: Int
    /// For a `listen` section, the backend side shares the name.
    let backend: BackendPool
}
