/// The actions `http-request`, `http-response`, `tcp-request`, `tcp-check` and
/// `http-check` accept, so that a misspelt action is caught at load time.
enum RuleActions {
    static let httpRequest: Set<String> = [
        "add-acl", "add-header", "allow", "auth", "cache-use", "capture", "del-acl", "del-header", "del-map", "deny",
        "disable-l7-retry", "do-resolve", "early-hint", "normalize-uri", "redirect", "reject", "replace-header", "replace-path",
        "replace-pathq", "replace-uri", "replace-value", "return", "sc-add-gpc", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1",
        "sc-set-gpt", "sc-set-gpt0", "send-spoe-group", "set-bandwidth-limit", "set-dst", "set-dst-port", "set-header",
        "set-log-level", "set-map", "set-mark", "set-method", "set-nice", "set-path", "set-pathq", "set-priority-class",
        "set-priority-offset", "set-query", "set-src", "set-src-port", "set-timeout", "set-tos", "set-uri", "set-var",
        "set-var-fmt", "silent-drop", "strict-mode", "tarpit", "track-sc0", "track-sc1", "track-sc2", "unset-var",
        "use-service", "wait-for-body", "wait-for-handshake",
    ]
    static let httpResponse: Set<String> = [
        "add-acl", "add-header", "allow", "cache-store", "capture", "del-acl", "del-header", "del-map", "deny", "redirect",
        "replace-header", "replace-value", "return", "sc-add-gpc", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt",
        "sc-set-gpt0", "send-spoe-group", "set-bandwidth-limit", "set-header", "set-log-level", "set-map", "set-mark",
        "set-nice", "set-status", "set-timeout", "set-tos", "set-var", "set-var-fmt", "silent-drop", "strict-mode", "track-sc0",
        "track-sc1", "track-sc2", "unset-var", "wait-for-body",
    ]
    static let httpAfterResponse: Set<String> = [
        "add-header", "allow", "capture", "del-acl", "del-header", "del-map", "replace-header", "replace-value", "sc-add-gpc",
        "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-header", "set-log-level", "set-map",
        "set-status", "set-var", "set-var-fmt", "strict-mode", "unset-var",
    ]
    static let tcpRequestKinds: Set<String> = ["connection", "content", "session", "inspect-delay"]
    static let tcpRequest: Set<String> = [
        "accept", "reject", "expect-proxy", "expect-netscaler-cip", "capture", "track-sc0", "track-sc1", "track-sc2", "sc-inc-gpc",
        "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-dst", "set-dst-port", "set-src", "set-src-port",
        "set-var", "set-var-fmt", "unset-var", "silent-drop", "set-mark", "set-tos", "set-nice", "set-log-level", "do-resolve",
        "send-spoe-group", "use-service", "switch-mode", "set-priority-class", "set-priority-offset", "attach-srv", "set-bandwidth-limit",
    ]
    static let tcpResponse: Set<String> = ["accept", "reject", "close", "set-var", "set-var-fmt", "unset-var", "silent-drop", "set-mark", "set-tos", "set-nice", "set-log-level", "send-spoe-group", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "set-bandwidth-limit"]
    static let tcpCheck: Set<String> = ["comment", "connect", "expect", "send", "send-binary", "send-lf", "send-binary-lf", "set-var", "set-var-fmt", "unset-var"]
    static let httpCheck: Set<String> = ["comment", "connect", "disable-on-404", "expect", "send", "send-state", "set-var", "set-var-fmt", "unset-var"]

    /// `set-var(txn.x)` and friends carry their argument in parentheses.
    static func baseName(_ action: String) -> String {
        if let paren = action.firstIndex(of: "(") { return String(action[..<paren]) }
        return action
    }
}
