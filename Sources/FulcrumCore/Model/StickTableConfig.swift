import HAProxyConfig

/// `stick-table type <type> [len <n>] size <n> [expire <t>] [nopurge] [store <data>,...]`.
public struct StickTableConfig: Hashable, Sendable {
    public enum KeyType: String, Hashable, Sendable { case ip, ipv6, integer, string, binary }

    /// One stored datum; rates carry their period in milliseconds.
    public enum Store: Hashable, Sendable {
        case connCount, connCurrent, connRate(Int)
        case sessionCount, sessionRate(Int)
        case httpRequestCount, httpRequestRate(Int)
        case httpErrorCount, httpErrorRate(Int)
        case bytesInCount, bytesInRate(Int), bytesOutCount, bytesOutRate(Int)
        case gpc0, gpc0Rate(Int), gpc1, gpc1Rate(Int), gpt0
        case serverID

        /// The name `store` and `show table` use.
        public var name: String {
            switch self {
            case .connCount: return "conn_cnt"
            case .connCurrent: return "conn_cur"
            case .connRate: return "conn_rate"
            case .sessionCount: return "sess_cnt"
            case .sessionRate: return "sess_rate"
            case .httpRequestCount: return "http_req_cnt"
            case .httpRequestRate: return "http_req_rate"
            case .httpErrorCount: return "http_err_cnt"
            case .httpErrorRate: return "http_err_rate"
            case .bytesInCount: return "bytes_in_cnt"
            case .bytesInRate: return "bytes_in_rate"
            case .bytesOutCount: return "bytes_out_cnt"
            case .bytesOutRate: return "bytes_out_rate"
            case .gpc0: return "gpc0"
            case .gpc0Rate: return "gpc0_rate"
            case .gpc1: return "gpc1"
            case .gpc1Rate: return "gpc1_rate"
            case .gpt0: return "gpt0"
            case .serverID: return "server_id"
            }
        }

        public var period: Int? {
            switch self {
            case .connRate(let p), .sessionRate(let p), .httpRequestRate(let p), .httpErrorRate(let p), .bytesInRate(let p),
                 .bytesOutRate(let p), .gpc0Rate(let p), .gpc1Rate(let p):
                return p
            default: return nil
            }
        }

        static func parse(_ text: String) throws(ConfigError) -> Store {
            var name = text
            var period: Int?
            if let open = text.firstIndex(of: "("), text.hasSuffix(")") {
                name = String(text[..<open])
                let arg = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
                period = Int(try DurationValue.parse(arg, keyword: "stick-table store \(name)").milliseconds)
            }
            let rates: [String: (Int) -> Store] = [
                "conn_rate": Store.connRate, "sess_rate": Store.sessionRate, "http_req_rate": Store.httpRequestRate,
                "http_err_rate": Store.httpErrorRate, "bytes_in_rate": Store.bytesInRate, "bytes_out_rate": Store.bytesOutRate,
                "gpc0_rate": Store.gpc0Rate, "gpc1_rate": Store.gpc1Rate,
            ]
            let plain: [String: Store] = [
                "conn_cnt": .connCount, "conn_cur": .connCurrent, "sess_cnt": .sessionCount, "http_req_cnt": .httpRequestCount,
                "http_err_cnt": .httpErrorCount, "bytes_in_cnt": .bytesInCount, "bytes_out_cnt": .bytesOutCount, "gpc0": .gpc0,
                "gpc1": .gpc1, "gpt0": .gpt0, "server_id": .serverID,
            ]
            if let make = rates[name] {
                guard let period, period > 0 else { throw ConfigError("stick-table: '\(name)' needs a period, as in '\(name)(10s)'.") }
                return make(period)
            }
            if let store = plain[name] {
                if period != nil { throw ConfigError("stick-table: '\(name)' takes no period.") }
                return store
            }
            throw ConfigError("stick-table: unknown data type '\(name)'\(Suggestion.didYouMean(name, in: Array(rates.keys) + Array(plain.keys))).")
        }
    }

    public var type: KeyType
    public var keyLength: Int
    public var size: Int
    /// Milliseconds an entry lives after its last update; nil: until evicted.
    public var expire: Int?
    public var stores: [Store]
    /// `nopurge`: a full table refuses new keys instead of dropping its oldest idle one.
    public var noPurge = false
    public var location: SourceLocation

    public static func parse(_ args: [String], at location: SourceLocation) throws(ConfigError) -> StickTableConfig {
        var type: KeyType?
        var keyLength = 32
        var size: Int?
        var expire: Int?
        var stores: [Store] = []
        var noPurge = false
        var k = 0
        func next(_ what: String) throws(ConfigError) -> String {
            k += 1
            guard k < args.count else { throw ConfigError("stick-table: '\(args[k - 1])' expects \(what).") }
            return args[k]
        }
        while k < args.count {
            switch args[k] {
            case "type":
                let t = try next("a type")
                guard let parsed = KeyType(rawValue: t) else {
                    throw ConfigError("stick-table: unknown type '\(t)'.", hint: "one of ip, ipv6, integer, string, binary")
                }
                type = parsed
                if (t == "string" || t == "binary"), k + 1 < args.count, args[k + 1] == "len" {
                    k += 1
                    guard let n = Int(try next("a length")), n > 0 else { throw ConfigError("stick-table: invalid key length.") }
                    keyLength = n
                }
            case "size": size = Int(try SizeValue.parse(try next("a size"), keyword: "stick-table size"))
            case "expire": expire = Int(try DurationValue.parse(try next("a delay"), keyword: "stick-table expire").milliseconds)
            case "store":
                for item in try next("data types").split(separator: ",") { stores.append(try Store.parse(String(item))) }
            case "nopurge": noPurge = true
            case "peers", "srvkey", "write-to", "recv-only":
                _ = try next("an argument")
            default:
                throw ConfigError("stick-table: unexpected argument '\(args[k])'.", hint: "expects type, size, expire, store, nopurge")
            }
            k += 1
        }
        guard let type else { throw ConfigError("stick-table: missing 'type'.") }
        guard let size, size > 0 else { throw ConfigError("stick-table: missing 'size'.") }
        return StickTableConfig(type: type, keyLength: keyLength, size: size, expire: expire, stores: stores, noPurge: noPurge, location: location)
    }
}
