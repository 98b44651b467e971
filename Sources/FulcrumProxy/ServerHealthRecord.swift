import FulcrumCore

/// What the statistics report about one server's state and checks: written when a
/// check ends or the server changes state (never on a request's path), read by `show
/// stat`, the stats page and the Prometheus exporter.
struct ServerHealthRecord: Sendable {
    /// The last check's result (nil before the first one, or without checks).
    var lastCheck: CheckResult?
    /// The check state machine's position, 0 ... rise + fall - 1 (`check_health`).
    var health = 0
    /// Failed checks (`chkfail`) and UP → DOWN transitions (`chkdown`).
    var failedChecks = 0
    var downTransitions = 0
    /// When the server last went UP or DOWN (wall-clock seconds, `lastchg`).
    var lastChange: Int
    /// While DOWN, since when; `downtime` adds the closed DOWN periods to the open one.
    var downSince: Int?
    var closedDowntime = 0
    /// `disable health` / `disable agent` from the runtime API or the stats page.
    var checksDisabled = false
    var agentDisabled = false

    init(now: Int) { lastChange = now }

    func downtime(now: Int) -> Int { closedDowntime + (downSince.map { now - $0 } ?? 0) }

    mutating func changed(up: Bool, now: Int) {
        lastChange = now
        if up, let since = downSince {
            closedDowntime += now - since
            downSince = nil
        } else if !up && downSince == nil {
            downSince = now
            downTransitions += 1
        }
    }
}
