import FulcrumCore

/// A backend's `stick match|on|store-request` rules: before balancing, the first
/// matching rule whose key has a recorded server sends the request there; once a server
/// is chosen, the storing rules record it under their keys.
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

    static func record(_ server: Int, _ stores: [(StickTable, [UInt8])]) {
        let now = SampleContext.monotonicMilliseconds()
        for (table, key) in stores { table.store(server: server + 1, for: key, now: now) }
    }
}
