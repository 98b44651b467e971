/// Why a received packet was dropped. Each is counted per instance and shown in the
/// SIGUSR2 statistics, named after keepalived's counters where it has one.
public enum VRRPDropReason: String, Error, Hashable, Sendable, CaseIterable {
    case tooShort = "packet too short"
    case tooLong = "packet longer than its address count"
    case badIPHeader = "invalid IP header"
    /// Multicast: not 255; unicast: outside the peer's min_ttl..max_ttl.
    case badTTL = "TTL/hop limit not 255"
    case badVersion = "wrong version"
    case badType = "invalid type"
    case badChecksum = "bad checksum"
    case authTypeMismatch = "authentication type mismatch"
    case authFailure = "authentication failure"
    case advertIntervalMismatch = "advert interval mismatch"
    case unknownPeer = "source not in unicast_peer"
    case ownAdvert = "own advertisement looped back"
}
