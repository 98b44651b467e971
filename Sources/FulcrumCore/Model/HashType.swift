/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32|none] [avalanche]`.
public struct HashType: Hashable, Sendable {
    public enum Method: String, Hashable, Sendable { case mapBased = "map-based", consistent }
    public var method: Method = .mapBased
    public var function: String = "sdbm"
    public var avalanche = false

    public init() {}
}
