/// The configured algorithm of a backend, as one concrete type so the backend's slots
/// stay generic over a value (no existential, no boxing per pick).
public enum AnyBalancer: Balancer {
    case roundRobin(RoundRobinBalancer)
    case leastConnections(LeastConnectionsBalancer)
    case first(FirstAvailableBalancer)
    case random(RandomBalancer)
    case hashed(HashBalancer)
    /// Only while a case's value is being mutated (so its arrays are not copied).
    case moving

    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The balancer and the request key for `balance`/`hash-type`, or why not yet.
    /// `ids` places servers on the consistent-hashing ring (1-based positions by
    /// default); `files` serves the map converters of a `balance hash` expression.
    public static func make(_ algorithm: BalanceAlgorithm, hashType: HashType, weights: [Int], backup: [Bool], useAllBackups: Bool,
                            balanceFactor: Int, ids: [Int]? = nil,
                            files: PatternFiles = PatternFiles(readFile: { _ in nil })) throws(Unsupported) -> (AnyBalancer, BalanceKey) {
        let servers = zip(weights, backup).map { ($0, $1) }
        func hashed(_ key: BalanceKey) throws(Unsupported) -> (AnyBalancer, BalanceKey) {
            guard HashFunction(rawValue: hashType.function) != nil else {
                throw Unsupported(description: "'hash-type ... \(hashType.function)' is not a hash function (sdbm, djb2, wt6, crc32 and none are)")
            }
            let method: HashBalancer.Method = hashType.method == .consistent ? .consistent : .mapBased
            return (.hashed(HashBalancer(method: method, weights: weights, backup: backup, balanceFactor: balanceFactor, ids: ids)), key)
        }
        switch algorithm {
        case .roundRobin: return (.roundRobin(RoundRobinBalancer(servers: servers, useAllBackups: useAllBackups)), .none)
        case .staticRoundRobin: return (.roundRobin(RoundRobinBalancer(servers: servers, useAllBackups: useAllBackups, isStatic: true)), .none)
        case .leastConnections: return (.leastConnections(LeastConnectionsBalancer(weights: weights)), .none)
        case .first: return (.first(FirstAvailableBalancer(count: weights.count, weights: weights)), .none)
        case .random(let draws): return (.random(RandomBalancer(weights: weights, draws: draws)), .none)
        case .source: return try hashed(.source)
        case .uri(let arguments):
            var length: Int?, depth: Int?, whole = false, pathOnly = false
            var i = 0
            while i < arguments.count {
                switch arguments[i] {
                case "len": length = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil; i += 2
                case "depth": depth = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil; i += 2
                case "whole": whole = true; i += 1
                case "path-only": pathOnly = true; i += 1
                default: throw Unsupported(description: "'balance uri \(arguments[i])' is not implemented yet (len, depth, whole, path-only are)")
                }
            }
            return try hashed(.uri(length: length, depth: depth, whole: whole, pathOnly: pathOnly))
        case .urlParameter(let name, let arguments):
            // A number after check_post was a maximum wait; HAProxy ignores it now.
            if let other = arguments.first(where: { $0 != "check_post" && Int($0) == nil }) {
                throw Unsupported(description: "'balance url_param \(name) \(other)' is not implemented yet (check_post is)")
            }
            return try hashed(.urlParameter(name, checkPost: arguments.contains("check_post")))
        case .header(let name, let arguments):
            return try hashed(.header(name, domainOnly: arguments.contains("use_domain_only")))
        case .rdpCookie(let name):
            return try hashed(.rdpCookie(name))
        case .hash(let text):
            let expression: SampleExpression
            do {
                expression = try SampleExpression(parsing: text, files: files)
            } catch {
                throw Unsupported(description: "'balance hash \(text)': \(error.message)")
            }
            return try hashed(.expression(expression))
        }
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        switch self {
        case .roundRobin(var b): self = .moving; defer { self = .roundRobin(b) }; return b.pick(excluding: excluded, hash: hash)
        case .leastConnections(var b): self = .moving; defer { self = .leastConnections(b) }; return b.pick(excluding: excluded, hash: hash)
        case .first(var b): self = .moving; defer { self = .first(b) }; return b.pick(excluding: excluded, hash: hash)
        case .random(var b): self = .moving; defer { self = .random(b) }; return b.pick(excluding: excluded, hash: hash)
        case .hashed(var b): self = .moving; defer { self = .hashed(b) }; return b.pick(excluding: excluded, hash: hash)
        case .moving: return nil
        }
    }

    // Each case is taken out before it is changed, so its arrays are not copied.
    public mutating func setUsable(_ server: Int, _ usable: Bool) {
        switch self {
        case .roundRobin(var b): self = .moving; b.setUsable(server, usable); self = .roundRobin(b)
        case .leastConnections(var b): self = .moving; b.setUsable(server, usable); self = .leastConnections(b)
        case .first(var b): self = .moving; b.setUsable(server, usable); self = .first(b)
        case .random(var b): self = .moving; b.setUsable(server, usable); self = .random(b)
        case .hashed(var b): self = .moving; b.setUsable(server, usable); self = .hashed(b)
        case .moving: break
        }
    }
    public mutating func setWeight(_ server: Int, _ weight: Int) {
        switch self {
        case .roundRobin(var b): self = .moving; b.setWeight(server, weight); self = .roundRobin(b)
        case .leastConnections(var b): self = .moving; b.setWeight(server, weight); self = .leastConnections(b)
        case .first(var b): self = .moving; b.setWeight(server, weight); self = .first(b)
        case .random(var b): self = .moving; b.setWeight(server, weight); self = .random(b)
        case .hashed(var b): self = .moving; b.setWeight(server, weight); self = .hashed(b)
        case .moving: break
        }
    }
    public mutating func connectionTaken(_ server: Int) {
        switch self {
        case .roundRobin(var b): self = .moving; b.connectionTaken(server); self = .roundRobin(b)
        case .leastConnections(var b): self = .moving; b.connectionTaken(server); self = .leastConnections(b)
        case .first(var b): self = .moving; b.connectionTaken(server); self = .first(b)
        case .random(var b): self = .moving; b.connectionTaken(server); self = .random(b)
        case .hashed(var b): self = .moving; b.connectionTaken(server); self = .hashed(b)
        case .moving: break
        }
    }
    public mutating func connectionReleased(_ server: Int) {
        switch self {
        case .roundRobin(var b): self = .moving; b.connectionReleased(server); self = .roundRobin(b)
        case .leastConnections(var b): self = .moving; b.connectionReleased(server); self = .leastConnections(b)
        case .first(var b): self = .moving; b.connectionReleased(server); self = .first(b)
        case .random(var b): self = .moving; b.connectionReleased(server); self = .random(b)
        case .hashed(var b): self = .moving; b.connectionReleased(server); self = .hashed(b)
        case .moving: break
        }
    }
}
