import FulcrumCore
import Synchronization

/// What the statistics report about one frontend.
struct FrontendStats: Sendable {
    let name: String
    let mode: ProxyMode
    let connections: ConnectionCounter
    let counters: StatCounters
    let maxconn: Int
    /// For a `listen` section, the backend side shares the name.
    let backend: BackendPool
    /// Its bind lines' listening sockets (`Listeners` in `show info`).
    var listeners: Int
    let control: FrontendControl
}

/// A frontend's runtime switches (`disable frontend`): shared by the runtime API and
/// the listeners, which read them on accept.
final class FrontendControl: Sendable {
    private let stopped = Atomic<Bool>(false)
    var disabled: Bool {
        get { stopped.load(ordering: .relaxed) }
    }
    func setDisabled(_ value: Bool) { stopped.store(value, ordering: .relaxed) }
}
