/// `show table <name> data.<type> <op> <value>...` and `clear table` with the same
/// filters, and `key <key>`: parsed from the command's words with HAProxy's messages,
/// so scripts written against HAProxy's socket read the same answers.
extension StickTable {
    /// One `data.<type> <op> <value>` filter: an entry passes when its datum compares so.
    public struct DataFilter: Sendable {
        let store: Int
        let comparison: Comparison
        let value: Int64
    }

    public enum Comparison: String, Sendable {
        case eq, ne, le, ge, lt, gt

        func holds(_ a: Int64, _ b: Int64) -> Bool {
            switch self {
            case .eq: return a == b
            case .ne: return a != b
            case .le: return a <= b
            case .ge: return a >= b
            case .lt: return a < b
            case .gt: return a > b
            }
        }
    }

    /// A command's answer instead of a result (the text the runtime API prints).
    public struct FilterError: Error, Sendable {
        public let message: String
    }

    /// HAProxy accepts at most this many data filters in one command.
    static let maxFilters = 4

    /// The data types HAProxy knows: a known one this table does not store is reported
    /// as such, an unknown one as unknown.
    static let dataTypes: Set<String> = [
        "server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur", "sess_cnt", "sess_rate", "http_req_cnt",
        "http_req_rate", "http_err_cnt", "http_err_rate", "bytes_in_cnt", "bytes_in_rate", "bytes_out_cnt", "bytes_out_rate",
        "gpc1", "gpc1_rate", "server_key", "http_fail_cnt", "http_fail_rate", "gpt", "gpc", "gpc_rate",
    ]

    /// The filters in `words` (what follows the table name), three words each.
    /// `firstWord` is the position of `words.first` in the whole command line, for the
    /// message about extra words.
    public func dataFilters(_ words: ArraySlice<String>, firstWord: Int) throws(FilterError) -> [DataFilter] {
        var filters: [DataFilter] = []
        var i = words.startIndex
        while i < words.endIndex {
            let n = filters.count + 1
            if n > Self.maxFilters {
                let position = firstWord + (i - words.startIndex)
                throw FilterError(message: "Detected extra data in filter, \(Self.ordinal(position)) word of input, after '\(words[i - 1])'")
            }
            let name = words[i]
            guard name.hasPrefix("data."), Self.dataTypes.contains(String(name.dropFirst(5))) else {
                throw FilterError(message: "Filter entry #\(n): Unknown data type")
            }
            guard let store = config.stores.firstIndex(where: { $0.name == name.dropFirst(5) }) else {
                throw FilterError(message: "Filter entry #\(n): Data type not stored in this table")
            }
            guard i + 1 < words.endIndex, let comparison = Comparison(rawValue: words[i + 1]) else {
                throw FilterError(message: "Filter entry #\(n): Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"")
            }
            guard i + 2 < words.endIndex, let value = Int64(words[i + 2]) else {
                throw FilterError(message: "Filter entry #\(n): Require a valid integer value to compare against")
            }
            filters.append(DataFilter(store: store, comparison: comparison, value: value))
            i += 3
        }
        return filters
    }

    /// The key `text` names in this table's notation, or nil when it cannot be one
    /// (HAProxy then answers "Invalid key" for numbers, and finds nothing for the others).
    public func key(parsing text: String) -> [UInt8]? {
        switch config.type {
        case .ip, .ipv6:
            return IPNetwork.parse(text).flatMap { key(.address($0)) }
        case .integer:
            // As HAProxy: the leading digits; a key not starting with one is refused.
            guard let first = text.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
            return key(.integer(SampleValue.parseInteger(Array(text.utf8)[...]) ?? 0))
        case .string, .binary:
            return key(.string(Array(text.utf8)))
        }
    }

    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][n % 10] ?? "th"
        return "\(n)\(suffix)"
    }
}
