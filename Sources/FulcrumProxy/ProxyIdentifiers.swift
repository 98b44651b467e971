import FulcrumCore

/// The numeric ids HAProxy gives proxies and servers (`iid`/`sid` in `show stat`,
/// `fe_id`, `be_id`, `srv_id`): an explicit `id` is kept; the others are numbered in
/// declaration order from 1, skipping taken numbers, and (as HAProxy counts) every
/// proxy or server moves the counter on, one with an explicit id too. A `stats socket`
/// makes HAProxy create its internal proxy first, which then holds id 1.
struct ProxyIdentifiers: Sendable {
    let proxies: [String: Int]

    init(_ configuration: FulcrumConfiguration) {
        let listed = configuration.proxies.filter { $0.kind != .defaults && !$0.disabled }
        var taken = Set(listed.compactMap { $0.pending["id"]?.first.flatMap { Int($0) } })
        var next = configuration.global.statsSockets.isEmpty ? 1 : 2
        var ids: [String: Int] = [:]
        for proxy in listed {
            if let explicit = proxy.pending["id"]?.first.flatMap({ Int($0) }) {
                ids[proxy.name] = explicit
            } else {
                while taken.contains(next) { next += 1 }
                ids[proxy.name] = next
                taken.insert(next)
            }
            next += 1
        }
        proxies = ids
    }

    /// Server ids of a backend's servers, in their order.
    static func servers(_ servers: [ServerConfig]) -> [Int] {
        var taken = Set(servers.compactMap { $0.options.others["id"].flatMap { Int($0) } })
        var next = 1
        return servers.map { server in
            defer { next += 1 }
            if let explicit = server.options.others["id"].flatMap({ Int($0) }) { return explicit }
            while taken.contains(next) { next += 1 }
            taken.insert(next)
            return next
        }
    }
}
