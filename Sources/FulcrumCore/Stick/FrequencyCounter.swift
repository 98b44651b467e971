/// Events per period, as a stick table's `*_rate(period)` keeps them: the count of the
/// current period plus the previous period's, weighted by how much of it still lies
/// within one period from now. Two integers, no history.
public struct FrequencyCounter: Hashable, Sendable {
    /// Start of the current period, in milliseconds.
    var start: Int64 = 0
    var current: Int64 = 0
    var previous: Int64 = 0

    public init() {}

    mutating func rotate(_ now: Int64, _ period: Int64) {
        let age = now - start
        if age >= 2 * period {
            previous = 0
            current = 0
            start = now
        } else if age >= period {
            previous = current
            current = 0
            start += period
        }
    }

    public mutating func add(_ n: Int64, now: Int64, period: Int) {
        rotate(now, Int64(period))
        current += n
    }

    public func read(now: Int64, period: Int) -> Int64 {
        var copy = self
        let p = Int64(period)
        copy.rotate(now, p)
        let remaining = max(0, p - (now - copy.start))
        // previous × remaining / p without overflow, whatever the period and count.
        let weighted = copy.previous.multipliedFullWidth(by: remaining)
        let (share, _) = p.dividingFullWidth(weighted)
        return copy.current &+ share
    }
}
