import KeepalivedConfig

/// The checks RFC 3768 §7.1 / RFC 5798 §7.1 ask of a received advertisement, in
/// keepalived's order, for one instance. A packet either reaches the state machine or
/// is dropped with a reason to count; nothing a peer sends can make it throw.
public struct VRRPReceiveFilter: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        case accepted(VRRPAdvertisement)
        /// For another virtual router on the same link: normal, counted apart.
        case otherVirtualRouter(UInt8)
        case dropped(VRRPDropReason)
    }

    public var version: UInt8
    public var virtualRouterID: UInt8
    public var ipv6: Bool
    public var authType: UInt8
    public var authData: [UInt8]
    /// v2 only: a master with another interval is misconfigured; RFC 3768 drops.
    public var advertIntervalSeconds: UInt16
    /// Empty: multicast. Otherwise only these sources are accepted.
    public var unicastPeers: Set<IPAddress>
    /// Unicast only: the TTL/hop limit accepted per peer. keepalived checks the TTL of
    /// unicast adverts only for peers given `min_ttl`/`max_ttl` (they may cross routers);
    /// multicast adverts must arrive with 255.
    public var unicastPeerTTL: [IPAddress: TTLRange]
    /// Our own sending address: multicast loopback or a reflected packet.
    public var ownAddresses: Set<IPAddress>

    public init(version: UInt8, virtualRouterID: UInt8, ipv6: Bool, authType: UInt8 = 0, authData: [UInt8] = [UInt8](repeating: 0, count: 8), advertIntervalSeconds: UInt16 = 1, unicastPeers: Set<IPAddress> = [], unicastPeerTTL: [IPAddress: TTLRange] = [:], ownAddresses: Set<IPAddress> = []) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.ipv6 = ipv6
        self.authType = authType
        self.authData = authData
        self.advertIntervalSeconds = advertIntervalSeconds
        self.unicastPeers = unicastPeers
        self.unicastPeerTTL = unicastPeerTTL
        self.ownAddresses = ownAddresses
    }

    public func check(source: IPAddress, destination: IPAddress, ttl: UInt8, payload: ArraySlice<UInt8>) -> Outcome {
        if ownAddresses.contains(source) { return .dropped(.ownAdvert) }
        if !unicastPeers.isEmpty {
            guard unicastPeers.contains(source) else { return .dropped(.unknownPeer) }
            if let range = unicastPeerTTL[source], !range.contains(ttl) { return .dropped(.badTTL) }
        } else if ttl != 255 {
            return .dropped(.badTTL)
        }
        let ad: VRRPAdvertisement
        switch VRRPAdvertisement.decode(payload, family: ipv6) {
        case .failure(let reason): return .dropped(reason)
        case .success(let decoded): ad = decoded
        }
        guard ad.version == version else { return .dropped(.badVersion) }
        guard ad.type == VRRPAdvertisement.typeAdvertisement else { return .dropped(.badType) }
        guard ad.checksum == ad.computedChecksum(source: source, destination: destination) else { return .dropped(.badChecksum) }
        guard ad.virtualRouterID == virtualRouterID else { return .otherVirtualRouter(ad.virtualRouterID) }
        if version == 2 {
            guard ad.authType == authType else { return .dropped(.authTypeMismatch) }
            if authType == 1 && ad.authData != authData { return .dropped(.authFailure) }
            guard ad.advertInterval == advertIntervalSeconds else { return .dropped(.advertIntervalMismatch) }
        }
        return .accepted(ad)
    }
}
