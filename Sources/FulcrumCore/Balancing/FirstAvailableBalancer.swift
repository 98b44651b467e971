/// `balance first`: the first server (in declaration order) with a free slot, so the
/// others can be powered down while the first ones are not full. Full servers are
/// already excluded by the slots.
public struct FirstAvailableBalancer: Balancer {
    var usable: [Bool]
    var weights: [Int]

    public init(count: Int, weights: [Int]) {
        self.usable = Array(repeating: true, count: count)
        self.weights = weights
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        usable.indices.first { usable[$0] && weights[$0] > 0 && !excluded.contains($0) }
    }

    public mutating func setUsable(_ server: Int, _ usable: Bool) { self.usable[server] = usable }
    public mutating func setWeight(_ server: Int, _ weight: Int) { weights[server] = weight }
    public mutating func connectionTaken(_ server: Int) {}
    public mutating func connectionReleased(_ server: Int) {}
}
