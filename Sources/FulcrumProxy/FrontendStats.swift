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
    /// Its `maxconn` as the listeners apply it (`set maxconn frontend` changes it).
    let limit: ConnectionLimit
}

/// A frontend's runtime state (`disable frontend`, `shutdown frontend`): shared by the
/// runtime API, the statistics and the listeners, which are only started again (a
/// SIGTTIN resume) while it is open.
final class FrontendControl: Sendable {
    enum State: Int, Sendable {
        case open, paused, stopped
        /// `show stat`'s status column, as HAProxy 2.6 words it.
        var statusText: String { self == .open ? "OPEN" : self == .paused ? "PAUSED" : "STOP" }
    }
    private let value = Atomic<Int>(State.open.rawValue)
    var state: State { State(rawValue: value.load(ordering: .relaxed)) ?? .open }
    var disabled: Bool { state != .open }
    func set(_ state: State) { value.store(state.rawValue, ordering: .relaxed) }
}
