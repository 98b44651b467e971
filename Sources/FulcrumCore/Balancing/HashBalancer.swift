/// The hashing algorithms (`source`, `uri`, `url_param`, `hdr`): the same key goes to
/// the same server. `map-based` spreads hashes over a table of servers repeated by
/// weight (cheap, but any change moves most keys); `consistent` places servers on a
/// ring (points in proportion to weight), so a server that leaves only moves its own
/// keys, and `hash-balance-factor` bounds any server to that percentage of the average
/// load (keys skip to the next point on the ring). Without a key it is round robin.
public struct HashBalancer: Balancer {
    public enum Method: Sendable { case mapBased, consistent }

    let method: Method
    var weights: [Int]
    var usable: [Bool]
    var active: [Int]
    let balanceFactor: Int
    var fallback: RoundRobinBalancer
    /// Consistent: (point, server), sorted by point.
    var ring: [(UInt32, Int)] = []
    static let pointsPerWeight = 16

    public init(method: Method, weights: [Int], backup: [Bool], balanceFactor: Int = 0) {
        self.method = method
        self.weights = weights
        self.usable = Array(repeating: true, count: weights.count)
        self.active = Array(repeating: 0, count: weights.count)
        self.balanceFactor = balanceFactor
        self.fallback = RoundRobinBalancer(servers: zip(weights, backup).map { ($0, $1) })
        rebuildRing()
    }

    mutating func rebuildRing() {
        guard method == .consistent else { return }
        ring = []
        for (server, weight) in weights.enumerated() where weight > 0 {
            for k in 0..<(weight * Self.pointsPerWeight) {
                ring.append((HashFunction.mix(UInt32(truncatingIfNeeded: server &* 1_000_003 &+ k &* 7919 &+ 1)), server))
            }
        }
        ring.sort { $0.0 < $1.0 }
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        guard let hash else { return fallback.pick(excluding: excluded.union(unusable)) }
        switch method {
        case .mapBased:
            // Only the usable servers are in the table, as HAProxy rebuilds its map.
            let live = weights.indices.filter { usable[$0] && weights[$0] > 0 && !excluded.contains($0) }
            let total = live.reduce(0) { $0 + weights[$1] }
            guard total > 0 else { return nil }
            var slot = Int(hash % UInt32(total))
            for s in live {
                if slot < weights[s] { return s }
                slot -= weights[s]
            }
            return live.last
        case .consistent:
            guard !ring.isEmpty else { return nil }
            let limit = loadLimit(excluding: excluded)
            var index = lowerBound(hash)
            for _ in 0..<ring.count {
                let server = ring[index % ring.count].1
                if usable[server] && !excluded.contains(server) && (limit.map { active[server] < $0 } ?? true) { return server }
                index += 1
            }
            return nil
        }
    }

    var unusable: Set<Int> { Set(usable.indices.filter { !usable[$0] }) }

    /// `hash-balance-factor F`: no server above ceil(F% of the average load + 1).
    func loadLimit(excluding excluded: Set<Int>) -> Int? {
        guard balanceFactor > 0 else { return nil }
        let live = usable.indices.filter { usable[$0] && !excluded.contains($0) }
        guard !live.isEmpty else { return nil }
        let total = live.reduce(0) { $0 + active[$1] } + 1
        return (total * balanceFactor + 100 * live.count - 1) / (100 * live.count)
    }

    func lowerBound(_ hash: UInt32) -> Int {
        var lo = 0, hi = ring.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ring[mid].0 < hash { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public mutating func setUsable(_ server: Int, _ usable: Bool) {
        self.usable[server] = usable
        fallback.setUsable(server, usable)
    }

    public mutating func setWeight(_ server: Int, _ weight: Int) {
        weights[server] = weight
        fallback.setWeight(server, weight)
        rebuildRing()
    }

    public mutating func connectionTaken(_ server: Int) { active[server] += 1 }
    public mutating func connectionReleased(_ server: Int) { active[server] = max(0, active[server] - 1) }
}
