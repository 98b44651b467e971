/// The lines HAProxy logs when a server changes state, word for word, so existing log
/// alerts keep matching.
public enum HealthTransitionMessage {
    public struct Counts: Hashable, Sendable {
        public var activeUsable: Int
        public var backupUsable: Int
        public var sessionsOnServer: Int
        public var queued: Int

        public init(activeUsable: Int, backupUsable: Int, sessionsOnServer: Int, queued: Int) {
            self.activeUsable = activeUsable
            self.backupUsable = backupUsable
            self.sessionsOnServer = sessionsOnServer
            self.queued = queued
        }
    }

    /// `Server b/s is DOWN, reason: ..., check duration: 0ms. 2 active and 0 backup
    /// servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`
    /// `option log-health-checks`: the check's details go on their own line (see
    /// `check`), so `withResult` is false and the DOWN/UP lines leave them out.
    public static func down(proxy: String, server: String, backup: Bool, result: CheckResult?, cause: String? = nil, counts: Counts) -> String {
        var text = "\(backup ? "Backup Server" : "Server") \(proxy)/\(server) is DOWN"
        if let result { text += ", \(result.logText)" } else if let cause { text += ", \(cause)" }
        text += ". \(counts.activeUsable) active and \(counts.backupUsable) backup servers left."
        if counts.activeUsable == 0 && counts.backupUsable > 0 { text += " Running on backup." }
        text += " \(counts.sessionsOnServer) sessions active, 0 requeued, 0 remaining in queue."
        return text
    }

    /// `Server b/s is UP, reason: Layer4 check passed, check duration: 0ms. 3 active and
    /// 0 backup servers online. 0 sessions requeued, 0 total in queue.`
    public static func up(proxy: String, server: String, backup: Bool, result: CheckResult?, cause: String? = nil, counts: Counts) -> String {
        var text = "\(backup ? "Backup Server" : "Server") \(proxy)/\(server) is UP"
        if let result { text += ", \(result.logText)" } else if let cause { text += ", \(cause)" }
        text += ". \(counts.activeUsable) active and \(counts.backupUsable) backup servers online."
        if counts.activeUsable == 0 && counts.backupUsable > 0 { text += " Running on backup." }
        text += " 0 sessions requeued, \(counts.queued) total in queue."
        return text
    }

    /// `option log-health-checks`: each check that moves the health counter, e.g.
    /// `Health check for backup server b/s2 failed, reason: Layer4 connection problem,
    /// info: "Connection refused", check duration: 0ms, status: 0/1 DOWN.`
    public static func check(proxy: String, server: String, backup: Bool, result: CheckResult, status: String) -> String {
        "Health check for \(backup ? "backup " : "")server \(proxy)/\(server) \(result.status.passed ? "succeeded" : "failed"), \(result.logText), status: \(status)."
    }

    /// `Server b/s is stopping, changed from CLI. 1 active and 0 backup servers online.
    /// 0 sessions requeued, 0 total in queue.` (`set server health stopping`).
    public static func stopping(proxy: String, server: String, backup: Bool, cause: String, counts: Counts) -> String {
        "\(backup ? "Backup Server" : "Server") \(proxy)/\(server) is stopping, \(cause). \(counts.activeUsable) active and "
            + "\(counts.backupUsable) backup servers online. 0 sessions requeued, \(counts.queued) total in queue."
    }

    /// `backend 'b' has no server available!` (`proxy 'l'` for a listen section).
    public static func noServerAvailable(kind: String, proxy: String) -> String {
        "\(kind) '\(proxy)' has no server available!"
    }
}
