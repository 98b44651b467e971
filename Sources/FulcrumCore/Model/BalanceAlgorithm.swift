/// `balance ALGORITHM [ARGUMENTS]`.
public enum BalanceAlgorithm: Hashable, Sendable, CustomStringConvertible {
    case roundRobin
    case staticRoundRobin
    case leastConnections
    case first
    case source
    case uri(arguments: [String])
    case urlParameter(name: String, arguments: [String])
    case header(name: String, arguments: [String])
    case random(draws: Int)
    case rdpCookie(name: String)
    case hash(expression: String)

    public static let names = ["roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr(name)", "random", "rdp-cookie(name)", "hash"]

    public var description: String {
        switch self {
        case .roundRobin: return "roundrobin"
        case .staticRoundRobin: return "static-rr"
        case .leastConnections: return "leastconn"
        case .first: return "first"
        case .source: return "source"
        case .uri(let a): return (["uri"] + a).joined(separator: " ")
        case .urlParameter(let n, let a): return (["url_param", n] + a).joined(separator: " ")
        case .header(let n, let a): return (["hdr(\(n))"] + a).joined(separator: " ")
        case .random(let d): return d == 2 ? "random" : "random(\(d))"
        case .rdpCookie(let n): return "rdp-cookie(\(n))"
        case .hash(let e): return "hash \(e)"
        }
    }
}
