/// `log ... sample <ranges>:<size>`: of every `size` lines a target would take, it
/// takes those whose position (from 1) is in one of the ranges, as HAProxy's log load
/// balancing does (`1:3` takes one line in three, `1-2,5:10` four in ten).
public struct LogSampling: Hashable, Sendable {
    public let ranges: [ClosedRange<Int>]
    public let size: Int

    public init(ranges: [ClosedRange<Int>], size: Int) {
        self.ranges = ranges.sorted { $0.lowerBound < $1.lowerBound }
        self.size = size
    }

    /// Parses `1-2,5:10`, with HAProxy 2.6's checks and messages.
    public init(parsing text: String) throws(ConfigError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        var ranges: [ClosedRange<Int>] = []
        for item in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = Int(bounds[0]), low > 0, let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low else {
                throw ConfigError("log : wrong sample range '\(item)'")
            }
            ranges.append(low...high)
        }
        guard parts.count == 2 else { throw ConfigError("log : Missing sample size", hint: "write 'sample <ranges>:<size>', e.g. 'sample 1:10'") }
        guard let size = Int(parts[1]), size > 0 else { throw ConfigError("log : wrong sample size '\(parts[1])' for sample range '\(parts[0])'") }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.overlaps(b) {
            throw ConfigError("log : ranges are overlapping")
        }
        let top = sorted.last?.upperBound ?? 0
        guard size >= top else {
            throw ConfigError("log : sample size \(size) should be greater or equal to \(top) the maximum of the high ranges limits")
        }
        self.ranges = sorted
        self.size = size
    }

    /// Whether the line at `index` (counted from 0 among the lines the target would
    /// take) is sent.
    public func takes(_ index: Int) -> Bool {
        let position = index % size + 1
        return ranges.contains { $0.contains(position) }
    }
}
