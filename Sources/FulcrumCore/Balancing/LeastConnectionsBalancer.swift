/// `balance leastconn`: the server with the fewest connections for its weight; ties
/// go round robin, so equal servers share a light load evenly.
public struct LeastConnectionsBalancer: Balancer {
    var weights: [Int]
    var active: [Int]
    var usable: [Bool]
    var rotation = 0

    public init(weights: [Int]) {
        self.weights = weights
        self.active = Array(repeating: 0, count: weights.count)
        self.usable = Array(repeating: true, count: weights.count)
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        let n = weights.count
        var best: Int? = nil
        for step in 0..<n {
            let i = (rotation + step) % n
            guard usable[i], weights[i] > 0, !excluded.contains(i) else { continue }
            if let b = best {
                // (active+1)/weight compared without division.
                if (active[i] + 1) * weights[b] < (active[b] + 1) * weights[i] { best = i }
            } else {
                best = i
            }
        }
        if let best { rotation = (best + 1) % max(1, n) }
        return best
    }

    public mutating func setUsable(_ server: Int, _ usable: Bool) { self.usable[server] = usable }
    public mutating func setWeight(_ server: Int, _ weight: Int) { weights[server] = weight }
    public mutating func connectionTaken(_ server: Int) { active[server] += 1 }
    public mutating func connectionReleased(_ server: Int) { active[server] = max(0, active[server] - 1) }
}
