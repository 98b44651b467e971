/// `balance random [draws N]`: N servers drawn at random (in proportion to their
/// weights), the least loaded of them wins: the power of N choices, which keeps loads
/// close without any shared rotation.
public struct RandomBalancer: Balancer {
    var weights: [Int]
    var active: [Int]
    var usable: [Bool]
    let draws: Int
    var generator: SplitMix64

    public init(weights: [Int], draws: Int, seed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        self.weights = weights
        self.active = Array(repeating: 0, count: weights.count)
        self.usable = Array(repeating: true, count: weights.count)
        self.draws = max(1, draws)
        self.generator = SplitMix64(seed: seed)
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        let candidates = weights.indices.filter { usable[$0] && weights[$0] > 0 && !excluded.contains($0) }
        guard !candidates.isEmpty else { return nil }
        let total = candidates.reduce(0) { $0 + weights[$1] }
        var best: Int? = nil
        for _ in 0..<draws {
            var ticket = Int(generator.next() % UInt64(total))
            var drawn = candidates[0]
            for c in candidates {
                if ticket < weights[c] { drawn = c; break }
                ticket -= weights[c]
            }
            if let b = best {
                if active[drawn] * weights[b] < active[b] * weights[drawn] { best = drawn }
            } else {
                best = drawn
            }
        }
        return best
    }

    public mutating func setUsable(_ server: Int, _ usable: Bool) { self.usable[server] = usable }
    public mutating func setWeight(_ server: Int, _ weight: Int) { weights[server] = weight }
    public mutating func connectionTaken(_ server: Int) { active[server] += 1 }
    public mutating func connectionReleased(_ server: Int) { active[server] = max(0, active[server] - 1) }
}

/// A small, fast, seedable generator (so tests can replay a sequence).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
