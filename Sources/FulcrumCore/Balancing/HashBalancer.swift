/// The hashing algorithms (`source`, `uri`, `url_param`, `hdr`, `rdp-cookie`, `hash`):
/// the same key goes to the same server, and to the server HAProxy picks for it, so a
/// farm behind both keeps its caches warm when one replaces the other.
///
/// `map-based` lays the usable servers out in a table of their weights (reduced by
/// their common divisor), interleaved by accumulated credit, and takes slot
/// `hash % total`: cheap, but any change moves most keys.
/// `consistent` places each server on a ring at points derived from its id (16 per unit
/// of weight) and takes the point nearest the hash, so a server that leaves only moves
/// its own keys; `hash-balance-factor` bounds any server to that percentage of the
/// average load (keys skip to the next point on the ring). Without a key it is round
/// robin.
public struct HashBalancer: Balancer {
    public enum Method: Sendable { case mapBased, consistent }

    let method: Method
    var weights: [Int]
    var usable: [Bool]
    var active: [Int]
    let balanceFactor: Int
    var fallback: RoundRobinBalancer
    /// The servers' ids (1-based declaration positions unless configured), which place
    /// them on the ring.
    let ids: [Int]
    /// Consistent: (point, server), sorted by point.
    var ring: [(UInt32, Int)] = []
    /// Map-based: the table and the candidate set it was built for (it is rebuilt only
    /// when the set of servers a pick may use changes).
    var table: [Int] = []
    var tableFor: [Bool] = []
    static let pointsPerWeight = 16
    /// Ring points of one server are numbered from id × this range, so servers never share one.
    static let pointsRange = 256 * 16

    public init(method: Method, weights: [Int], backup: [Bool], balanceFactor: Int = 0, ids: [Int]? = nil) {
        self.method = method
        self.weights = weights
        self.usable = Array(repeating: true, count: weights.count)
        self.active = Array(repeating: 0, count: weights.count)
        self.balanceFactor = balanceFactor
        self.ids = ids ?? weights.indices.map { $0 + 1 }
        self.fallback = RoundRobinBalancer(servers: zip(weights, backup).map { ($0, $1) })
        rebuildRing()
    }

    mutating func rebuildRing() {
        guard method == .consistent else { return }
        ring = []
        for (server, weight) in weights.enumerated() where weight > 0 {
            let base = UInt32(truncatingIfNeeded: ids[server] &* Self.pointsRange)
            for k in 0..<(weight * Self.pointsPerWeight) {
                ring.append((HashFunction.mix(base &+ UInt32(k)), server))
            }
        }
        ring.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        guard let hash else { return fallback.pick(excluding: excluded.union(unusable)) }
        switch method {
        case .mapBased:
            let candidates = weights.indices.map { usable[$0] && weights[$0] > 0 && !excluded.contains($0) }
            if candidates != tableFor {
                table = Self.interleavedTable(weights.indices.map { candidates[$0] ? weights[$0] : 0 })
                tableFor = candidates
            }
            guard !table.isEmpty else { return nil }
            return table[Int(hash % UInt32(table.count))]
        case .consistent:
            guard !ring.isEmpty else { return nil }
            let limit = loadLimit(excluding: excluded)
            func eligible(_ server: Int) -> Bool {
                usable[server] && !excluded.contains(server) && (limit.map { active[server] < $0 } ?? true)
            }
            // The nearer of the points on either side of the hash (the one before on a
            // tie), then onwards round the ring.
            var index = lowerBound(hash) % ring.count
            let before = (index + ring.count - 1) % ring.count
            if hash &- ring[before].0 <= ring[index].0 &- hash { index = before }
            for _ in 0..<ring.count {
                let server = ring[index].1
                if eligible(server) { return server }
                index = (index + 1) % ring.count
            }
            return nil
        }
    }

    /// The map-based table: weights divided by their greatest common divisor; each slot
    /// goes to the first server whose accumulated credit, in whole table lengths, is
    /// highest, which then pays one table length. Weights 2,3,1 give [0, 1, 0, 1, 1, 2],
    /// HAProxy's layout.
    static func interleavedTable(_ weights: [Int]) -> [Int] {
        let divisor = weights.filter { $0 > 0 }.reduce(0) { gcd($0, $1) }
        guard divisor > 0 else { return [] }
        let reduced = weights.map { $0 / divisor }
        let total = reduced.reduce(0, +)
        var credit = Array(repeating: 0, count: reduced.count)
        var table: [Int] = []
        table.reserveCapacity(total)
        for _ in 0..<total {
            var best = -1, bestScore = 0
            for (server, weight) in reduced.enumerated() where weight > 0 {
                credit[server] += weight
                let score = (credit[server] + total) / total
                if best < 0 || score > bestScore { best = server; bestScore = score }
            }
            credit[best] -= total
            table.append(best)
        }
        return table
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

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

    /// Map-based tables are static, as HAProxy's: weight changes of running servers
    /// (slow start, agents) only reach the round robin used without a key; a drained
    /// server (weight 0) is kept out by the caller's exclusions.
    public mutating func setWeight(_ server: Int, _ weight: Int) {
        fallback.setWeight(server, weight)
        guard method == .consistent else { return }
        weights[server] = weight
        rebuildRing()
    }

    public mutating func connectionTaken(_ server: Int) { active[server] += 1 }
    public mutating func connectionReleased(_ server: Int) { active[server] = max(0, active[server] - 1) }
}
