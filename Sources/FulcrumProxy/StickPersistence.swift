import FulcrumCore

/// A backend's `stick match|on|store-request|store-response` rules: before balancing,
/// the first matching rule whose key has a recorded server sends the request there;
/// once a server is chosen, the storing rules record it under their keys, and once it
/// answered, the `store-response` rules under keys read from its response (a session
/// cookie the server set, say).
final class StickPersistence: Sendable {
    let rules: [ProxyRuleSet.StickRule]
    let tables: [String: StickTable]

    init(rules: [ProxyRuleSet.StickRule], tables: [String: StickTable]) {
        self.rules = rules
        self.tables = tables
    }

    /// The server (index) the keys of `s` stick to, if any, and the keys to record the
    /// chosen server under.
    func lookup(_ s: SampleContext, servers: Int) -> (server: Int?, stores: [(StickTable, [UInt8])]) {
        var server: Int?
        var stores: [(StickTable, [UInt8])] = []
        let now = SampleContext.monotonicMilliseconds()
        for rule in rules {
            if let condition = rule.condition, !condition.holds(s) { continue }
            guard let table = tables[rule.table], let value = rule.key.value(in: s), let key = table.key(value) else { continue }
            if rule.matches, server == nil, let id = table.server(of: key, now: now), id >= 1, id <= servers {
                server = id - 1
            }
            if rule.stores { stores.append((table, key)) }
        }
        return (server, stores)
    }

    /// Whether some rule reads the response (the response head is then looked at).
    var storesResponses: Bool { rules.contains { $0.response } }

    /// The `store-response` rules, on the response of `server`.
    func recordResponse(_ s: SampleContext, server: Int) {
        let now = SampleContext.monotonicMilliseconds()
        for rule in rules where rule.response {
            if let condition = rule.condition, !condition.holds(s) { continue }
            guard let table = tables[rule.table], let value = rule.key.value(in: s), let key = table.key(value) else { continue }
            table.store(server: server + 1, for: key, now: now)
        }
    }

    static func record(_ server: Int, _ stores: [(StickTable, [UInt8])]) {
        let now = SampleContext.monotonicMilliseconds()
        for (table, key) in stores { table.store(server: server + 1, for: key, now: now) }
    }
}
