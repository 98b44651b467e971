/// What the runtime API asks of a server's checker. The checker owns the health state
/// machine and the agent's last word, so it alone changes them, on its own loop.
enum CheckOrder: Sendable {
    /// `enable|disable health`: a disabled health check sends nothing and its verdict
    /// no longer counts (the server is UP unless its agent says otherwise).
    case health(enabled: Bool)
    /// `enable|disable agent`: a disabled agent is not asked and its verdict no longer counts.
    case agent(enabled: Bool)
    /// `set server health up|stopping|down`.
    case forceHealth(ForcedHealth)
    /// `set server agent up|down`.
    case forceAgent(up: Bool)

    enum ForcedHealth: String, Sendable { case up, stopping, down }
}
